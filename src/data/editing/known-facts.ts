/**
 * ROME's known facts (rome/dsets/knowns.py, known_1000.json): facts GPT-2 XL predicts correctly,
 * used for causal tracing. {known_id, subject, attribute, template, prediction, prompt, relation_id}
 * where prompt = template with the subject filled in.
 *
 * As an EditCase the fact is its own target (targetNew = attribute, no targetTrue): "insert what
 * the model already knows" — useful for tracing and for checking an editor on a no-op request.
 */
import type { EditCase } from "./case.js";
import { RecordReader } from "./errors.js";

export const KNOWN_FACTS = "ROME known facts";

export interface KnownFact {
  id: string;
  subject: string;
  /** The true object (" Antarctica" is the completion; stored without the leading space). */
  attribute: string;
  /** With "{}" for the subject. */
  template: string;
  /** The filled-in prompt, ending right before the attribute. */
  prompt: string;
  relationId?: string;
}

export function knownFact(file: string, index: number, record: unknown): KnownFact {
  const r = new RecordReader(file, index, record, KNOWN_FACTS);
  const subject = r.string("subject");
  const prompt = r.string("prompt");
  if (!prompt.includes(subject)) throw r.error(`prompt ${JSON.stringify(prompt)} does not contain the subject ${JSON.stringify(subject)}`, "prompt");
  return { id: r.id("known_id"), subject, attribute: r.string("attribute"), template: r.string("template"), prompt, relationId: r.optionalString("relation_id") };
}

export function knownFactCase(file: string, index: number, record: unknown): EditCase {
  const k = knownFact(file, index, record);
  // The template may end before words that lead up to the attribute ("… in the continent" + " of");
  // the filled prompt is the one that ends right before it, so it becomes the request's template.
  const at = k.prompt.indexOf(k.subject);
  const prompt = k.prompt.slice(0, at) + "{}" + k.prompt.slice(at + k.subject.length);
  return {
    id: k.id,
    request: { prompt, subject: k.subject, targetNew: k.attribute },
    paraphrasePrompts: [],
    neighborhoodPrompts: [],
    attributePrompts: [],
    generationPrompts: [],
    locality: [],
    portability: [],
    source: `${file}#${index}`,
  };
}

export function isKnownFacts(first: unknown): boolean {
  return typeof first === "object" && first !== null && "known_id" in first && "attribute" in first;
}
