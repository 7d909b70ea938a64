/**
 * The editing experiment as a library function: choose the cases, resolve the method's
 * hyperparameters for the model, run the protocol (single / batch / sequential, protocol.ts) and
 * return per-case results, their summary and the patch. `scalpel edit-eval` and the `edit`
 * experiment kind (lab/kinds/edit.ts) are thin layers over this. Browser-safe: reading dataset
 * files and writing results is the caller's business.
 */
import { modelHash } from "../model/hash.js";
import type { Model } from "../model/types.js";
import { disjointLocality, distinctSubjects, sharedSubjects } from "../data/editing/select.js";
import { METRICS } from "../eval/editing/metrics.js";
import { ROME_GENERATION_LENGTH, type GenerationOptions, type ScoreCasesOptions } from "../eval/editing/score.js";
import { EditCaches, type CovarianceSample } from "./caches.js";
import { covarianceSamplesOf } from "./mom2.js";
import { readHparams, type EditorName } from "./hparams-yaml.js";
import { runProtocol, type CaseResult, type EvalTiming, type ProtocolMode, type ProtocolResult, type StreamCheckpoint } from "./protocol.js";
import { getEditor } from "./registry.js";
import type { EditCase, EditContext, PromptTarget } from "./types.js";

export interface EditExperimentOptions {
  /** An editor name (registry.ts): ft, ft-l, ft-m, rome, r-rome, memit, alphaedit. */
  method: string;
  /**
   * Overrides of the method's defaults for this model (EasyEdit snake_case keys or our camelCase
   * fields), as an object or as YAML/JSON text; `hparamsSource` names them in errors.
   */
  hparams?: string | Record<string, unknown>;
  hparamsSource?: string;
  mode?: ProtocolMode;
  batchSize?: number;
  evaluate?: EvalTiming;
  /**
   * ROME's generation metrics (fluency, consistency), sampled with `seed`: true = ROME's settings
   * (100 tokens with the prompt, top-k 5), or the settings themselves.
   */
  generation?: boolean | Omit<GenerationOptions, "seed">;
  /** Extra scores on both models: attribute-prompt pairs and closed-answer probes (the seesaw study). */
  scoring?: Pick<ScoreCasesOptions, "attributePrompts" | "choices">;
  seed?: number;
  context?: EditContext;
  checkpoint?: StreamCheckpoint;
  /** Sequential mode: measure the stream after these numbers of edits (protocol.ts streamAt). */
  streamAt?: number[];
  onResult?: (r: CaseResult, done: number, total: number) => void;
}

export interface EditExperimentResult extends ProtocolResult {
  hparams: Record<string, unknown>;
  modelHash: string;
  /** Problems worth a look that do not stop the run (subjects edited twice in one call). */
  warnings: string[];
  /** The metrics' definitions and versions, stored with the numbers. */
  metricDefinitions: typeof METRICS;
  /** The covariance samples the editor used, per layer (none for FT or with mom2_adjustment off). */
  covariance: CovarianceSample[];
  /** The generation settings of generation_entropy / attribute_similarity, when generated. */
  generation?: Required<GenerationOptions>;
}

/**
 * The first `n` cases after the filters: `distinctSubjects` keeps the first case of each subject,
 * `disjointLocality` drops cases whose locality probe is another kept case's edit (select.ts).
 */
export function selectCases(cases: readonly EditCase[], options: { n?: number; distinctSubjects?: boolean; disjointLocality?: boolean }): EditCase[] {
  let pool = options.distinctSubjects ? distinctSubjects(cases) : [...cases];
  if (options.disjointLocality) pool = disjointLocality(pool);
  return options.n === undefined ? pool : pool.slice(0, options.n);
}

/**
 * Unrelated prompts for editors that train a router against them (EditContext.unrelated): the
 * locality probes of `train` cases, minus any prompt the evaluated cases edit, rephrase or probe,
 * so no measured probe is trained on.
 */
export function unrelatedPool(train: readonly EditCase[], evaluated: readonly EditCase[]): PromptTarget[] {
  const taken = new Set(evaluated.flatMap((c) => [c.request.prompt.replace("{}", c.request.subject), ...c.paraphrasePrompts, ...c.locality.map((l) => l.prompt)]));
  const seen = new Set<string>();
  return train.flatMap((c) => c.locality).filter((l) => !taken.has(l.prompt) && !seen.has(l.prompt) && (seen.add(l.prompt), true));
}

/** Edits per editor call under a protocol. */
export function editsPerCall(mode: ProtocolMode, batchSize: number | undefined, nCases: number): number {
  return mode === "single" ? 1 : batchSize ?? (mode === "batch" ? nCases : 1);
}

/** The first editor call (of `perCall` cases each) that edits some subject twice, described; undefined if none. */
export function sharedSubjectWarning(cases: readonly EditCase[], perCall: number): string | undefined {
  for (let i = 0; i < cases.length; i += perCall) {
    const shared = sharedSubjects(cases.slice(i, i + perCall));
    if (shared.length > 0) {
      const names = `${shared.slice(0, 3).join(", ")}${shared.length > 3 ? ", …" : ""}`;
      return `edits ${i + 1}–${Math.min(i + perCall, cases.length)} go into one editor call, and ${shared.length} subjects (${names}) have more than one edit there; each such subject's edits share one key and conflict`;
    }
  }
  return undefined;
}

/** The method's hyperparameters for this model: its defaults with `overrides` merged on (unknown keys are ConfigErrors). */
export function resolveHparams(method: string, model: Model, overrides: string | Record<string, unknown> = {}, source = "hparams"): Record<string, unknown> {
  const editor = getEditor(method);
  if (typeof overrides !== "string" && Object.keys(overrides).length === 0) return editor.defaults(model.config);
  return readHparams(editor.name as EditorName, overrides, model.config, source);
}

export async function runEditExperiment(model: Model, cases: readonly EditCase[], options: EditExperimentOptions): Promise<EditExperimentResult> {
  const editor = getEditor(options.method);
  const mode = options.mode ?? "single";
  const hparams = resolveHparams(options.method, model, options.hparams, options.hparamsSource);
  const warning = sharedSubjectWarning(cases, editsPerCall(mode, options.batchSize, cases.length));
  const seed = options.seed ?? 0;
  const caches = options.context?.caches ?? new EditCaches();
  const g = options.generation;
  const generation = g ? { maxOutLen: ROME_GENERATION_LENGTH, topK: 5, ...(g === true ? {} : g), seed } : undefined;
  const result = await runProtocol(model, editor, cases, {
    mode,
    batchSize: options.batchSize,
    evaluate: options.evaluate,
    hparams,
    context: { seed, ...options.context, caches },
    scoring: { ...options.scoring, ...(generation ? { generation } : {}) },
    checkpoint: options.checkpoint,
    streamAt: options.streamAt,
    onResult: options.onResult,
  });
  return {
    ...result,
    hparams,
    modelHash: await modelHash(model),
    warnings: warning ? [warning] : [],
    metricDefinitions: METRICS,
    covariance: await covarianceSamplesOf(model, options.method, hparams, { ...options.context, caches }),
    ...(generation ? { generation } : {}),
  };
}

/**
 * One case's numbers as one flat row (the store's case_results): every edited-model metric under
 * its name, the unedited model's as `pre.<name>`, and when and how fast it was edited.
 */
export function caseRow(r: CaseResult): Record<string, number> {
  const row: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.post)) if (v !== undefined) row[k] = v;
  for (const [k, v] of Object.entries(r.pre)) if (v !== undefined) row[`pre.${k}`] = v;
  row.edits_applied = r.editsApplied;
  row.edit_seconds = r.editSeconds;
  row.eval_seconds = r.evalSeconds;
  return row;
}
