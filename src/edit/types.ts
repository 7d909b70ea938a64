/**
 * The contract between knowledge editors (rome.ts, memit.ts, …), the editing protocols and the
 * metrics. Every dataset format (CounterFact ROME/MEND, zsRE, known facts, WISE's hallucination and
 * temporal sets, the fact world's exports) is read into EditCase; editors see only EditRequest;
 * every editor returns a Patch (model/patch.ts) — weight deltas for locate-and-edit methods, an
 * attached module for GRACE's codebook, WISE's side memory or ELDER's adapters — so a patch
 * applies, composes, reverts and saves the same way for all of them.
 */
import type { EditRequest, PromptTarget } from "../data/editing/case.js";
import type { Patch } from "../model/patch.js";
import type { EditCaches } from "./caches.js";
import type { StatsStore } from "./covariance.js";

export type { EditCase, EditRequest, PromptTarget } from "../data/editing/case.js";
import type { Model, ModelConfig } from "../model/types.js";

/** Where an editor may keep statistics it computes (covariance) between calls. */
export interface EditContext {
  /** Cache directory for content-addressed artifacts (mom2 statistics); none = recompute. */
  cacheDir?: string;
  /**
   * Where mom2 statistics are kept when there is no directory (a browser page reading the lab
   * server's cache, tests); takes precedence over cacheDir.
   */
  statsStore?: StatsStore;
  /** Progress of long steps (covariance collection, optimisation). */
  onProgress?: (stage: string, done: number, total: number) => void;
  seed?: number;
  /**
   * What editors reuse between calls (covariance, its factor, context templates, registered
   * corpora). Pass one object through a run's edits; absent, each call computes afresh.
   */
  caches?: EditCaches;
  /**
   * Unrelated prompts with their answers, from a training split (never the evaluated cases' own
   * probes): what editors with a router train it to stay off (WISE's loc_prompts, which
   * run_wise_editing.py takes from zsre_mend_train.json). edit/experiment.ts unrelatedPool builds it.
   */
  unrelated?: PromptTarget[];
}

export interface Editor<H = Record<string, unknown>> {
  /** "ft", "ft-m", "rome", "r-rome", "memit", "alphaedit", "grace", "wise", "elder", "mend". */
  readonly name: string;
  /** Hyperparameters for this architecture (per-family defaults). */
  defaults(config: ModelConfig): H;
  /** All `requests` applied at once (a batch of one for single edits). The model is unchanged. */
  edit(model: Model, requests: EditRequest[], hparams: H, context?: EditContext): Promise<Patch>;
  /**
   * How a sequential stream uses the patches (protocol.ts):
   * - "compose" (default): each call's patch is that call's change; the stream's model is the
   *   start model with every patch so far composed, and the next call edits that model.
   * - "memory": the editor keeps every edit so far in itself (GRACE's codebook, WISE's side
   *   memories, ELDER's adapters); each call is given the model the stream started from and
   *   returns its whole memory as one patch, which replaces the previous one.
   */
  readonly sequential?: "compose" | "memory";
  /** Forget earlier edits (start a new stream): editors with memory. */
  reset?(): void;
  /**
   * Editors with a memory of earlier edits (AlphaEdit's accumulated keys, GRACE's codebook
   * bookkeeping): that memory as a JSON-serialisable value, and its restoration, so a checkpointed
   * edit stream can resume. "memory" editors are also given their last patch back, which holds
   * the memory's tensors.
   */
  exportState?(): unknown;
  importState?(state: unknown, memory?: Patch): void;
}

/**
 * The value kinds of hyperparameter keys in config files (edit/hparams-yaml.ts converts and checks
 * them; the experiment kind's schema offers every editor's keys).
 */
export type HparamKind =
  | "number"
  | "int"
  | "bool"
  | "string"
  | "int[]"
  | "string[]"
  | "pairs"
  | "numberOrFalse"
  | "objective"
  | "keyMode"
  | "templateGroups"
  | "mom2Sample";

/** One hyperparameter key: the typed field it sets and its value kind. */
export interface HparamField {
  field: string;
  kind: HparamKind;
}

/**
 * An editor as the registry knows it (edit/definitions.ts, one line per editor): its name, its
 * config-file keys (EasyEdit's snake_case names → fields), its defaults for a model, and a
 * factory for a fresh instance (each instance has its own memory: no state is shared).
 */
export interface EditorDefinition<H = Record<string, unknown>> {
  name: string;
  keys: Record<string, HparamField>;
  defaults(config: ModelConfig): H;
  create(): Editor<H>;
}
