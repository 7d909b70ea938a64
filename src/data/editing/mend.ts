/**
 * The flat MEND / EasyEdit formats.
 *
 * CounterFact (EasyEdit's counterfact-*.json, /work/shared/data/counterfact-mend):
 *   {case_id, prompt, subject, target_new, ground_truth, rephrase_prompt, locality_prompt,
 *    locality_ground_truth}
 * The prompt is already filled in with the subject; EditRequest wants "{}" in its place, so the
 * first occurrence of the subject is replaced (a record whose prompt lacks its subject is an error).
 * The locality prompt is CounterFact's neighbourhood prompt when its ground truth is the edited
 * fact's ground truth (how EasyEdit built these files); it is always an EasyEdit locality item.
 *
 * zsRE (MEND's zsre_mend_*.json, the fact world's zsre.json):
 *   {subject, src, pred, rephrase, alt, answers, loc, loc_ans, cond}
 * as EasyEdit's ZsreDataset reads it: prompt = src, target_new = alt, ground truth = answers[0],
 * rephrase = rephrase, locality = (loc, loc_ans). "pred" (the original model's prediction) is
 * not the ground truth and is not used. answers[0] becomes `targetTrue`, so CounterFact's
 * probability comparisons (P[alt] vs P[answer]) are computed too; EasyEdit reports only the
 * token-accuracy metrics for zsRE.
 */
import type { EditCase } from "./case.js";
import { RecordReader } from "./errors.js";

export const MEND_COUNTERFACT = "CounterFact (MEND/EasyEdit flat format)";
export const ZSRE = "zsRE (MEND format)";

/** "{}" in place of the subject's first occurrence in an already-filled prompt. */
export function templateOf(r: RecordReader, prompt: string, subject: string, field: string): string {
  if (prompt.includes("{}")) return prompt;
  const at = prompt.indexOf(subject);
  if (at < 0) throw r.error(`${field} ${JSON.stringify(prompt)} does not contain the subject ${JSON.stringify(subject)}`, field);
  return prompt.slice(0, at) + "{}" + prompt.slice(at + subject.length);
}

export function mendCounterFactCase(file: string, index: number, record: unknown): EditCase {
  const r = new RecordReader(file, index, record, MEND_COUNTERFACT);
  const subject = r.string("subject");
  const targetTrue = r.string("ground_truth");
  const rephrase = r.optionalString("rephrase_prompt");
  const locPrompt = r.optionalString("locality_prompt");
  const locAnswer = r.optionalString("locality_ground_truth");
  const locality = locPrompt !== undefined && locAnswer !== undefined ? [{ prompt: locPrompt, target: locAnswer }] : [];
  return {
    id: r.id("case_id"),
    request: { prompt: templateOf(r, r.string("prompt"), subject, "prompt"), subject, targetNew: r.string("target_new"), targetTrue },
    paraphrasePrompts: rephrase !== undefined ? [rephrase] : [],
    neighborhoodPrompts: locPrompt !== undefined && locAnswer === targetTrue ? [locPrompt] : [],
    attributePrompts: [],
    generationPrompts: [],
    locality,
    portability: [],
    source: `${file}#${index}`,
  };
}

export function zsreCase(file: string, index: number, record: unknown): EditCase {
  const r = new RecordReader(file, index, record, ZSRE);
  const subject = r.string("subject");
  const answers = r.strings("answers");
  const loc = r.optionalString("loc");
  const locAns = r.optionalString("loc_ans");
  return {
    id: String(index),
    request: { prompt: templateOf(r, r.string("src"), subject, "src"), subject, targetNew: r.string("alt"), targetTrue: answers[0] },
    paraphrasePrompts: [r.string("rephrase")],
    neighborhoodPrompts: [],
    attributePrompts: [],
    generationPrompts: [],
    locality: loc !== undefined && locAns !== undefined ? [{ prompt: loc, target: locAns }] : [],
    portability: [],
    source: `${file}#${index}`,
  };
}

export function isMendCounterFact(first: unknown): boolean {
  return typeof first === "object" && first !== null && "ground_truth" in first && "target_new" in first;
}

export function isZsre(first: unknown): boolean {
  return typeof first === "object" && first !== null && "src" in first && "alt" in first;
}
