/**
 * Two-choice A/B tasks in CAA's format (Rimsky et al., 2024, "Steering Llama 2 via Contrastive
 * Activation Addition"; nrimsky/CAA datasets): the question already lists "(A) …" and "(B) …".
 * Scored as multiple choice by loglikelihood of the answer letter after the question:
 *   prompt  = question + "\n\nAnswer:",  choices " (A)" / " (B)"
 * For behaviour sets the "gold" choice is answer_matching_behavior, so acc = the fraction of
 * questions where the model prefers the behaviour-matching answer and p_target = the mean
 * probability of that answer renormalised over the two (CAA's reported quantity, without its chat
 * template: scalpel's models are base models). TruthfulQA's A/B form (CAA's truthful_qa.json) has
 * gold = the correct answer.
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

/**
 * `suffix` follows the question ("\n\nAnswer:" for CAA's files, written for chat models; "" for the
 * fact world, whose questions already end with "Assistant :"). The choices are the items' own
 * answer strings in letter order ("(A)", "(B)"), so a tokenizer that spells them differently is fine.
 */
export function abTask(name: string, docs: readonly ABDoc[], what: string, suffix = "\n\nAnswer:", addSpecialTokens = false): Task {
  return specTask<ABDoc>({
    name,
    version: "1.0",
    kind: "multiple_choice",
    docs,
    docToText: (d) => `${d.question.trim()}${suffix}`,
    docToChoice: (d) => (letter(d.gold) === "B" ? [d.other.trim(), d.gold.trim()] : [d.gold.trim(), d.other.trim()]),
    docToTarget: (d) => (letter(d.gold) === "B" ? 1 : 0),
    addSpecialTokens,
    promptFormat: `CAA A/B: "{question with (A)/(B) choices}${JSON.stringify(suffix).slice(1, -1)}" + " (A)" | " (B)"; gold = ${what}`,
    ...(docs.some((d) => d.category) ? { group: (d: ABDoc) => d.category ?? "" } : {}),
  });
}

function letter(s: string): string {
  const m = /\(?\s*([AB])\s*\)?/.exec(s);
  if (!m) throw new RangeError(`A/B answer ${JSON.stringify(s)} is neither (A) nor (B)`);
  return m[1]!;
}
