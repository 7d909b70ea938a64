/**
 * CounterFact in ROME's record format (rome/dsets/counterfact.py; also the fact world's
 * counterfact.json and the seesaw files, which keep requested_rewrite and attribute_prompts but may
 * lack the paraphrase / neighbourhood lists):
 *   {case_id, requested_rewrite: {prompt, relation_id, subject, target_new: {str}, target_true: {str}},
 *    paraphrase_prompts, neighborhood_prompts, attribute_prompts, generation_prompts}
 *
 * Locality for EasyEdit-style metrics is the neighbourhood prompts with target_true as their
 * answer (what EasyEdit's CounterFact loader does with neighborhood_prompts).
 */
import type { EditCase } from "./case.js";
import { RecordReader } from "./errors.js";

export const ROME_COUNTERFACT = "CounterFact (ROME format)";

export function counterFactCase(file: string, index: number, record: unknown): EditCase {
  const r = new RecordReader(file, index, record, ROME_COUNTERFACT);
  const prompt = r.string("requested_rewrite.prompt");
  if (!prompt.includes("{}")) throw r.error(`requested_rewrite.prompt ${JSON.stringify(prompt)} has no "{}" where the subject goes`, "requested_rewrite.prompt");
  const targetTrue = r.string("requested_rewrite.target_true.str");
  const neighborhoodPrompts = r.strings("neighborhood_prompts");
  return {
    id: r.id("case_id"),
    request: {
      prompt,
      subject: r.string("requested_rewrite.subject"),
      targetNew: r.string("requested_rewrite.target_new.str"),
      targetTrue,
    },
    paraphrasePrompts: r.strings("paraphrase_prompts"),
    neighborhoodPrompts,
    attributePrompts: r.strings("attribute_prompts"),
    generationPrompts: r.strings("generation_prompts"),
    locality: neighborhoodPrompts.map((p) => ({ prompt: p, target: targetTrue })),
    portability: [],
    source: `${file}#${index}`,
  };
}

/** True when records look like ROME's CounterFact (they carry requested_rewrite). */
export function isRomeCounterFact(first: unknown): boolean {
  return typeof first === "object" && first !== null && "requested_rewrite" in first;
}
