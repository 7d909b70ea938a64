/**
 * What an edit dataset record becomes: every format (CounterFact ROME/MEND, zsRE, known facts, the
 * fact world's exports) is read into EditCase here, below the editors and the metrics that use it
 * (edit/types.ts re-exports these types for editors).
 */

/** One requested rewrite: "{subject} …prompt…" should now be completed by `targetNew`. */
export interface EditRequest {
  /** The prompt with "{}" where the subject goes, e.g. "{} was born in". */
  prompt: string;
  subject: string;
  /** The new object, e.g. "Kelmar" (scored with a leading space: " Kelmar"). */
  targetNew: string;
  /** The object before the edit, when known (CounterFact's target_true). */
  targetTrue?: string;
}

/** A labelled prompt and the completion that should follow it. */
export interface PromptTarget {
  prompt: string;
  target: string;
}

/** An edit with everything its metrics need; fields a dataset lacks are empty. */
export interface EditCase {
  id: string;
  request: EditRequest;
  /** Rephrasings of the edited prompt (CounterFact paraphrase_prompts, zsRE rephrase). */
  paraphrasePrompts: string[];
  /** Prompts about other subjects whose answer should stay targetTrue (CounterFact neighborhood). */
  neighborhoodPrompts: string[];
  /** Prompts about subjects that truly have targetNew (CounterFact attribute_prompts). */
  attributePrompts: string[];
  /** Open-ended prompts for fluency / consistency (CounterFact generation_prompts). */
  generationPrompts: string[];
  /** Unrelated prompts whose predictions must not change (EasyEdit locality, zsRE loc). */
  locality: PromptTarget[];
  /** Questions whose answers follow from the edit (EasyEdit portability). */
  portability: PromptTarget[];
  /** Which dataset and record it came from. */
  source: string;
}
