/**
 * Running one trial of a study (in the driver's process, or in a worker started with
 * `scalpel run-trial`): build its config from the base config and its params, run the kind's
 * stages as a run, stream intermediate values to the store and ask the pruner after each, and
 * finish the trial — complete, pruned or failed — in one guarded write.
 */
import { getKind } from "../kinds/registry.js";
import { TrialPruned } from "../kinds/types.js";
import { executeRun, Superseded, type RunHooks } from "../runner.js";
import { validate } from "../schema/schema.js";
import { getConfig } from "../store/runs.js";
import { finishTrial, getTrial, loadFrozenTrials, studySpec, trialParams, writeIntermediate, type StudyRow } from "../store/studies.js";
import type { Store } from "../store/store.js";
import { applyParams } from "./apply-params.js";
import { makePruner } from "./search-factory.js";

/** This attempt was superseded (a resume restarted the trial): stop without writing anything. */
export class StaleAttempt extends Superseded {
  constructor(study: string, number: number) {
    super(`trial ${number} of study '${study}' was restarted elsewhere; this attempt stops`);
    this.name = "StaleAttempt";
  }
}

export interface TrialOutcome {
  number: number;
  state: "complete" | "pruned" | "fail";
  value?: number;
  error?: string;
}

export async function runTrial(store: Store, study: StudyRow, number: number, attempt: number, hooks: Pick<RunHooks, "onProgress" | "onStage"> = {}): Promise<TrialOutcome> {
  const { db } = store;
  const spec = studySpec(study);
  const trial = getTrial(db, study.id, number);
  if (!trial) throw new Error(`study '${study.name}' has no trial ${number}`);
  const kind = getKind(study.kind);
  const pruner = makePruner(spec.pruner);
  let last: { step: number; value: number } | undefined;

  const record = (step: number, value: number) => {
    if (!writeIntermediate(db, study.id, number, attempt, step, value)) throw new StaleAttempt(study.name, number);
    last = { step, value };
  };

  try {
    const base = getConfig(db, study.config_hash) as Record<string, unknown>;
    const checked = validate(kind.schema, applyParams(base, trialParams(db, study.id, number)), "config");
    if (!checked.ok) throw new Error(`trial config is invalid: ${checked.issues.map((i) => i.message).join("; ")}`);
    const outcome = await executeRun(
      store,
      { id: trial.run_id, name: `${study.name} trial ${number}`, kind, config: checked.value as Record<string, unknown>, seed: trial.seed, studyId: study.id, trialNumber: number },
      {
        ...hooks,
        onReplay: (points) => points.forEach((p) => record(p.step, p.value)),
        onReport: (step, value) => {
          record(step, value);
          if (!pruner) return;
          const history = loadFrozenTrials(db, study.id);
          const me = history.find((t) => t.number === number)!;
          if (pruner.shouldPrune(me, step, history, spec.direction)) throw new TrialPruned(step, value);
        },
      },
    );
    const value = outcome.metrics[spec.metric];
    if (value === undefined || !Number.isFinite(value)) {
      const available = Object.keys(outcome.metrics).join(", ") || "none";
      throw new Error(`the run produced no finite '${spec.metric}' metric (summary metrics: ${available})`);
    }
    if (!finishTrial(db, study.id, number, attempt, "complete", value)) throw new StaleAttempt(study.name, number);
    return { number, state: "complete", value };
  } catch (e) {
    if (e instanceof StaleAttempt) throw e;
    if (e instanceof TrialPruned) {
      // Optuna semantics: a pruned trial's value is its last reported intermediate value.
      finishTrial(db, study.id, number, attempt, "pruned", last?.value ?? e.value);
      return { number, state: "pruned", value: last?.value ?? e.value };
    }
    const error = e instanceof Error ? e.message : String(e);
    finishTrial(db, study.id, number, attempt, "fail", null, error);
    return { number, state: "fail", error };
  }
}
