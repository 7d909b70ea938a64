/**
 * Search-space and trial types shared by samplers (TPE, random, grid), pruners and the study
 * runner. Semantics follow Optuna so users' habits carry over.
 */

export type Distribution =
  | { kind: "float"; low: number; high: number; log?: boolean; step?: number }
  | { kind: "int"; low: number; high: number; log?: boolean; step?: number }
  | { kind: "categorical"; choices: readonly (string | number | boolean)[] };

export type SearchSpace = Record<string, Distribution>;
export type ParamValue = number | string | boolean;
export type TrialParams = Record<string, ParamValue>;

export type TrialState = "running" | "complete" | "pruned" | "fail";
export type Direction = "minimize" | "maximize";

export interface FrozenTrial {
  number: number;
  state: TrialState;
  params: TrialParams;
  /** Final objective value (complete trials; pruned trials carry their last intermediate value). */
  value?: number;
  /** Intermediate values reported by the trial, by step. */
  intermediate: Map<number, number>;
}

export interface Sampler {
  /** Parameters for trial `trialNumber`, given every trial so far (any state). Deterministic per seed. */
  sample(space: SearchSpace, history: readonly FrozenTrial[], direction: Direction, trialNumber: number): TrialParams;
}

export interface Pruner {
  /** Whether `trial` should stop after reporting its value at `step`. */
  shouldPrune(trial: FrozenTrial, step: number, history: readonly FrozenTrial[], direction: Direction): boolean;
}
