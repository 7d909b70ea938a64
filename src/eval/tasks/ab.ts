/**
 * Two-choice A/B tasks in CAA's format (Rimsky et al., 2024, "Steering Llama 2 via Contrastive
 * Activation Addition"; nrimsky/CAA datasets): the question already lists "(A) …" and "(B) …".
 * Scored as multiple choice by loglikelihood of the answer after the prompt, in CAA's base-model
 * format (nrimsky/CAA utils/tokenize.py tokenize_llama_base; the same text as steer/ab-data.ts's
 * "caa-base"):
 *   prompt  = "Input: {question.strip()}\nResponse:",  choices " (A)" / " (B)"
 * For behaviour sets the "gold" choice is answer_matching_behavior, so acc = the fraction of
 * questions where the model prefers the behaviour-matching answer and p_target = the mean
 * probability of that answer renormalised over the two (CAA reads p("A") and p("B") after
 * "Response: (", the shared "(" cancels in the ratio; here the whole " (A)" / " (B)" continuation
 * is scored, which differs only by the p(")") factors). TruthfulQA's A/B form (CAA's
 * truthful_qa.json) has gold = the correct answer.
 */
import { specTask } from "../spec-task.js";
import type { Task } from "../types.js";

export interface ABDoc {
  question: string;
  /** The gold choice's letter, "(A)" or "(B)". */
  gold: string;
  other: string;
  category?: string;
}

/** CAA's base-model prompt of a question (tokenize_llama_base without the model output). */
export const caaBasePrompt = (question: string): string => `Input: ${question.trim()}\nResponse:`;

/**
 * `prompt` makes the model text before the answer: CAA's base format by default; the fact world
 * passes the bare question (its questions end with "Assistant :", the shape it was trained on).
 * The choices are the items' own answer strings in letter order ("(A)", "(B)"), so a tokenizer
 * that spells them differently is fine.
 */
export function abTask(name: string, docs: readonly ABDoc[], what: string, prompt: (question: string) => string = caaBasePrompt, addSpecialTokens = false): Task {
  return specTask<ABDoc>({
    name,
    version: "2.0",
    kind: "multiple_choice",
    docs,
    docToText: (d) => prompt(d.question),
    docToChoice: (d) => (letter(d.gold) === "B" ? [d.other.trim(), d.gold.trim()] : [d.gold.trim(), d.other.trim()]),
    docToTarget: (d) => (letter(d.gold) === "B" ? 1 : 0),
    addSpecialTokens,
    promptFormat: `A/B: ${JSON.stringify(prompt("{question with (A)/(B) choices}"))} + " (A)" | " (B)"; gold = ${what}`,
    ...(docs.some((d) => d.category) ? { group: (d: ABDoc) => d.category ?? "" } : {}),
  });
}

function letter(s: string): string {
  const m = /\(?\s*([AB])\s*\)?/.exec(s);
  if (!m) throw new RangeError(`A/B answer ${JSON.stringify(s)} is neither (A) nor (B)`);
  return m[1]!;
}
