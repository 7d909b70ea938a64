/**
 * The contract between knowledge editors (rome.ts, memit.ts, …), the editing protocols and the
 * metrics. Every dataset format (CounterFact ROME/MEND, zsRE, known facts, the fact world's exports)
 * is read into EditCase; editors see only EditRequest; every editor returns a WeightPatch
 * (model/patch.ts), so a patch applies, composes, reverts and saves the same way for all of them.
 */
import type { EditRequest } from "../data/editing/case.js";
import type { WeightPatch } from "../model/patch.js";
import type { EditCaches } from "./caches.js";

export type { EditCase, EditRequest, PromptTarget } from "../data/editing/case.js";
import type { Model, ModelConfig } from "../model/types.js";

/** Where an editor may keep statistics it computes (covariance) between calls. */
export interface EditContext {
  /** Cache directory for content-addressed artifacts (mom2 statistics); none = recompute. */
  cacheDir?: string;
  /** Progress of long steps (covariance collection, optimisation). */
  onProgress?: (stage: string, done: number, total: number) => void;
  seed?: number;
  /**
   * What editors reuse between calls (covariance, its factor, context templates, registered
   * corpora). Pass one object through a run's edits; absent, each call computes afresh.
   */
  caches?: EditCaches;
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
