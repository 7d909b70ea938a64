/**
 * An in-memory study: ask the sampler for each trial's parameters, let the objective report
 * intermediate values, ask the pruner after each, and record the trial — the same sampler and
 * pruner calls the experiment engine's study driver makes against its store (lab/study/), for
 * searches that live inside one function call (steer/sweep.ts abSearch). Optuna's semantics: a
 * pruned trial's value is its last intermediate value.
 */
import type { Direction, FrozenTrial, Pruner, Sampler, SearchSpace, TrialParams } from "./types.js";

export interface TrialHandle {
  number: number;
  params: TrialParams;
  /**
   * Record the intermediate value at `step`; returns true when the pruner says stop (the objective
   * should then return). `prunable` false records the value without asking (a final step).
   */
  report(step: number, value: number, prunable?: boolean): boolean;
}

export interface InMemorySearch {
  sampler: Sampler;
  pruner?: Pruner;
  space: SearchSpace;
  direction: Direction;
  nTrials: number;
  /** The trial's final value; when `report` returned true, what it returns is ignored and the trial is pruned. */
  objective(trial: TrialHandle): Promise<number>;
  onTrial?(trial: FrozenTrial): void;
}

export async function searchInMemory(s: InMemorySearch): Promise<FrozenTrial[]> {
  const history: FrozenTrial[] = [];
  for (let number = 0; number < s.nTrials; number++) {
    const trial: FrozenTrial = { number, state: "running", params: s.sampler.sample(s.space, history, s.direction, number), intermediate: new Map() };
    history.push(trial);
    let pruned = false;
    const value = await s.objective({
      number,
      params: trial.params,
      report: (step, v, prunable = true) => {
        trial.intermediate.set(step, v);
        pruned = prunable && (s.pruner?.shouldPrune(trial, step, history, s.direction) ?? false);
        return pruned;
      },
    });
    trial.state = pruned ? "pruned" : "complete";
    trial.value = pruned ? [...trial.intermediate.values()].at(-1) : value;
    s.onTrial?.(trial);
  }
  return history;
}
