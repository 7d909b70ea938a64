/**
 * A study's final evaluation: once every trial has finished, the best trial's configuration runs
 * once more through the kind's `final.config` (e.g. scored on the test split when the trials
 * scored validation), as run `<study>/final`. Selection never sees the held-out numbers, and the
 * held-out split is scored exactly once per study. Resuming a study whose final run was killed
 * re-runs it under the same id (finished stages are reused); a finished one is left as it is.
 */
import { getKind } from "../kinds/registry.js";
import { executeRun, type RunHooks } from "../runner.js";
import { validate } from "../schema/schema.js";
import { getConfig, getRun, summaryMetrics } from "../store/runs.js";
import { getTrial, loadFrozenTrials, studySpec, type StudyRow } from "../store/studies.js";
import type { Store } from "../store/store.js";
import type { Direction, FrozenTrial, TrialParams } from "../../analysis/search/types.js";
import { applyParams } from "./apply-params.js";

export interface FinalOutcome {
  runId: string;
  /** The trial whose configuration was re-run, and its parameters. */
  trial: number;
  params: TrialParams;
  /** What the final run changed about that configuration (the kind's description). */
  description: string;
  metrics: Record<string, number>;
}

export const finalRunId = (study: string) => `${study}/final`;

/** The best complete trial by its objective (the first of equals). */
export function bestTrial(trials: readonly FrozenTrial[], direction: Direction): FrozenTrial | undefined {
  const sign = direction === "minimize" ? 1 : -1;
  const done = trials.filter((t) => t.state === "complete" && t.value !== undefined && Number.isFinite(t.value));
  return done.reduce<FrozenTrial | undefined>((b, t) => (!b || sign * t.value! < sign * b.value! ? t : b), undefined);
}

const bestTrialOf = (store: Store, study: StudyRow) => bestTrial(loadFrozenTrials(store.db, study.id), studySpec(study).direction);

/** Run (or find) the final evaluation; undefined when the kind has none or no trial completed. */
export async function runFinal(store: Store, study: StudyRow, hooks: Pick<RunHooks, "onStage" | "onProgress"> = {}): Promise<FinalOutcome | undefined> {
  const kind = getKind(study.kind);
  const best = bestTrialOf(store, study);
  if (!kind.final || !best) return undefined;
  const runId = finalRunId(study.name);
  const outcome = { runId, trial: best.number, params: best.params, description: kind.final.description };
  const existing = getRun(store.db, runId);
  if (existing?.status === "done") return { ...outcome, metrics: summaryMetrics(store.db, runId) };
  const base = getConfig(store.db, study.config_hash) as Record<string, unknown>;
  const checked = validate(kind.schema, kind.final.config(applyParams(base, best.params)), "config");
  if (!checked.ok) throw new Error(`the final evaluation's config is invalid: ${checked.issues.map((i) => i.message).join("; ")}`);
  const seed = getTrial(store.db, study.id, best.number)!.seed;
  const run = await executeRun(store, { id: runId, name: `${study.name} final`, kind, config: checked.value as Record<string, unknown>, seed, studyId: study.id }, hooks);
  return { ...outcome, metrics: run.metrics };
}

/** The stored final evaluation of a study, if it ran. */
export function storedFinal(store: Store, study: StudyRow): FinalOutcome | undefined {
  const kind = getKind(study.kind);
  const runId = finalRunId(study.name);
  const run = getRun(store.db, runId);
  const best = bestTrialOf(store, study);
  if (!kind.final || !run || run.status !== "done" || !best) return undefined;
  return { runId, trial: best.number, params: best.params, description: kind.final.description, metrics: summaryMetrics(store.db, runId) };
}
