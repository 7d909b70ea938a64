/**
 * Before/after evaluation as a library function: a model on tasks, and — given a patch — the
 * same model patched, with each metric's paired difference (bootstrap CI, paired t and McNemar;
 * compare.ts). `scalpel eval` and the `eval` experiment kind (lab/kinds/eval.ts) are thin layers
 * over this. Browser-safe: the request cache is passed in.
 */
import { ConfigError } from "../errors.js";
import { applyPatch, type Patch } from "../model/patch.js";
import type { Model } from "../model/types.js";
import { compareTask, type MetricComparison } from "./compare.js";
import { evaluate, type EvaluateOptions, type EvaluationResult } from "./evaluate.js";
import type { MetricValue, Task } from "./types.js";

export interface EvalExperimentOptions extends Omit<EvaluateOptions, "patch" | "onProgress"> {
  /** Also evaluate the model with this patch applied, and compare. */
  patch?: Patch;
  /** Where the patch came from, for errors. */
  patchSource?: string;
  /** Seed of the paired bootstrap. */
  seed?: number;
  onProgress?: (label: "base" | "patched", done: number, total: number) => void;
}

export interface EvalExperimentResult {
  base: EvaluationResult;
  patched?: EvaluationResult;
  /** Per task, each metric before vs after with its paired CI and tests. */
  comparison?: Record<string, MetricComparison[]>;
}

/** The patched model, or a ConfigError when the patch was made for another model. */
export function patchedModel(model: Model, patch: Patch, source = "patch"): Model {
  try {
    return applyPatch(model, patch);
  } catch (e) {
    throw new ConfigError("PATCH_MISMATCH", `the patch does not fit this model: ${(e as Error).message}`, { file: source, fix: "give a patch made for this --model" });
  }
}

export async function runEvalExperiment(model: Model, tasks: Task[], options: EvalExperimentOptions = {}): Promise<EvalExperimentResult> {
  const { patch, patchSource, seed, onProgress, ...evalOptions } = options;
  // Apply the patch first: a mismatched one should fail before the base evaluation is spent.
  const edited = patch ? patchedModel(model, patch, patchSource) : undefined;
  try {
    const base = await evaluate(model, tasks, { ...evalOptions, onProgress: (d, t) => onProgress?.("base", d, t) });
    if (!patch || !edited) return { base };
    const patched = await evaluate(edited, tasks, { ...evalOptions, patch, onProgress: (d, t) => onProgress?.("patched", d, t) });
    const comparison = Object.fromEntries(base.tasks.map((t, i) => [t.task, compareTask(t, patched.tasks[i]!, { seed })]));
    return { base, patched, comparison };
  } finally {
    if (edited && edited !== model) edited.dispose();
  }
}

/** One document's metric values as numbers (a [value, weight] pair contributes its value), for per-case rows. */
export function docRow(values: Record<string, MetricValue[]>, i: number): Record<string, number> {
  const row: Record<string, number> = {};
  for (const [metric, vs] of Object.entries(values)) {
    const v = vs[i];
    if (v !== undefined) row[metric] = Array.isArray(v) ? v[0] : v;
  }
  return row;
}
