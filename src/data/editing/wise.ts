/**
 * WISE's lifelong-editing datasets (Wang et al. 2024, "WISE: Rethinking the Knowledge Memory for
 * Lifelong Model Editing of LLMs"; files from sci-m-wang/REPAIR, ../shared/data/wise), read the way
 * EasyEdit's examples/run_wise_editing.py hands them to the editor:
 *
 * Hallucination (WikiBio; hallucination-{edit,train}.json):
 *   {prompt, target_new, subject, locality_prompt, locality_ground_truth}
 *   run_wise_editing.py: prompts = prompt, subject = subject, target_new = target_new,
 *   rephrase_prompts = None, locality_inputs.neighborhood = (locality_prompt, locality_ground_truth);
 *   eval_metric "ppl" (perplexity of target_new after the prompt).
 *   → request {prompt with "{}" for the subject, subject, targetNew}, no paraphrases,
 *     locality [{prompt: locality_prompt, target: locality_ground_truth}].
 *
 * Temporal (temporal-{edit,train}.json): the same fields plus ood_rephrase.
 *   run_wise_editing.py: rephrase_prompts = ood_rephrase, the rest as above; eval_metric "ood_ppl"
 *   (EasyEdit evaluate_utils.OOD_PPL: the share of the text's own tokens predicted with probability
 *   > 0.8, applied to the prompt and to the rephrase prompt).
 *   → as hallucination, and paraphrasePrompts = [ood_rephrase] (EasyEdit's rephrase_prompt slot).
 *
 * Both: the prompt already contains the subject (temporal: the prompt IS the subject), so its first
 * occurrence becomes "{}" (templateOf, as for MEND's flat formats). The -train files are read the
 * same way; run_wise_editing.py uses their first K records only as WISE's irrelevant "loc_prompts"
 * (locality_prompt + " " + locality_ground_truth), which `wiseLocPrompts` builds.
 *
 * Checks: prompt, subject and target_new must be non-empty strings; locality_prompt and
 * locality_ground_truth must be strings. Some real records have an empty locality_ground_truth
 * (hallucination-edit #86, temporal-train #25 …): a locality item with nothing to predict is
 * dropped (EasyEdit would average over zero tokens), the rest of the record is kept.
 */
import type { EditCase } from "./case.js";
import { RecordReader } from "./errors.js";
import { templateOf } from "./mend.js";

export const WISE_HALLUCINATION = "WISE hallucination (WikiBio)";
export const WISE_TEMPORAL = "WISE temporal";

/** The fields every WISE record carries (and ood_rephrase for temporal). */
export interface WiseRecord {
  prompt: string;
  target_new: string;
  subject: string;
  locality_prompt: string;
  locality_ground_truth: string;
}
export interface WiseTemporalRecord extends WiseRecord {
  ood_rephrase: string;
}

function nonEmpty(r: RecordReader, field: string): string {
  const v = r.string(field);
  if (v.trim() === "") throw r.error(`field '${field}' is empty`, field);
  return v;
}

function wiseCase(r: RecordReader, file: string, index: number, paraphrases: string[]): EditCase {
  const subject = nonEmpty(r, "subject");
  const prompt = nonEmpty(r, "prompt");
  const targetNew = nonEmpty(r, "target_new");
  const locPrompt = r.string("locality_prompt");
  const locTarget = r.string("locality_ground_truth");
  return {
    id: String(index),
    request: { prompt: templateOf(r, prompt, subject, "prompt"), subject, targetNew },
    paraphrasePrompts: paraphrases,
    neighborhoodPrompts: [],
    attributePrompts: [],
    generationPrompts: [],
    locality: locPrompt.trim() !== "" && locTarget.trim() !== "" ? [{ prompt: locPrompt, target: locTarget }] : [],
    portability: [],
    source: `${file}#${index}`,
  };
}

export function wiseHallucinationCase(file: string, index: number, record: unknown): EditCase {
  const r = new RecordReader(file, index, record, WISE_HALLUCINATION);
  return wiseCase(r, file, index, []);
}

export function wiseTemporalCase(file: string, index: number, record: unknown): EditCase {
  const r = new RecordReader(file, index, record, WISE_TEMPORAL);
  return wiseCase(r, file, index, [nonEmpty(r, "ood_rephrase")]);
}

const WISE_KEYS = ["prompt", "target_new", "subject", "locality_prompt", "locality_ground_truth"];

/**
 * Detection: exactly WISE's keys (temporal: plus ood_rephrase). MEND's CounterFact also has prompt,
 * target_new, subject and locality_*, but always ground_truth (checked first in load.ts, and
 * excluded here), so the two cannot be confused.
 */
function hasWiseKeys(first: unknown): first is Record<string, unknown> {
  return typeof first === "object" && first !== null && WISE_KEYS.every((k) => k in first) && !("ground_truth" in first) && !("rephrase_prompt" in first);
}

export function isWiseTemporal(first: unknown): boolean {
  return hasWiseKeys(first) && "ood_rephrase" in first;
}

export function isWiseHallucination(first: unknown): boolean {
  return hasWiseKeys(first) && !("ood_rephrase" in first);
}

/** WISE's loc_prompts from a -train file's cases (run_wise_editing.py: locality_prompt + " " + locality_ground_truth). */
export function wiseLocPrompts(cases: readonly EditCase[]): string[] {
  return cases.flatMap((c) => c.locality.map((l) => `${l.prompt} ${l.target}`));
}
