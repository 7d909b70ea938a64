/**
 * The contract between knowledge editors (rome.ts, memit.ts, …), the editing protocols and the
 * metrics. Every dataset format (CounterFact ROME/MEND, zsRE, known facts, the fact world's exports)
 * is read into EditCase; editors see only EditRequest; every editor returns a WeightPatch
 * (model/patch.ts), so a patch applies, composes, reverts and saves the same way for all of them.
 */
import type { WeightPatch } from "../model/patch.js";
import type { Model, ModelConfig } from "../model/types.js";

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

/** Where an editor may keep statistics it computes (covariance) between calls. */
export interface EditContext {
  /** Cache directory for content-addressed artifacts (mom2 statistics); none = recompute. */
  cacheDir?: string;
  /** Progress of long steps (covariance collection, optimisation). */
  onProgress?: (stage: string, done: number, total: number) => void;
  seed?: number;
}

export interface Editor<H = Record<string, unknown>> {
  /** "ft", "ft-m", "rome", "r-rome", "memit", "alphaedit". */
  readonly name: string;
  /** Hyperparameters for this architecture (per-family defaults). */
  defaults(config: ModelConfig): H;
  /** All `requests` applied at once (a batch of one for single edits). The model is unchanged. */
  edit(model: Model, requests: EditRequest[], hparams: H, context?: EditContext): Promise<WeightPatch>;
  /**
   * Editors with a memory of earlier edits (AlphaEdit's accumulated keys): that memory as a
   * JSON-serialisable value, and its restoration, so a checkpointed edit stream can resume.
   */
  exportState?(): unknown;
  importState?(state: unknown): void;
}
