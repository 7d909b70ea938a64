/**
 * MedianPruner / PercentilePruner with Optuna's semantics (optuna/pruners/_percentile.py,
 * _median.py). At the trial's last reported step s, prune when all of these hold:
 *  - at least max(1, n_startup_trials) trials are complete;
 *  - s ≥ n_warmup_steps, and s is the first report in its interval: the previous reported step
 *    lies before the pruning step at or below s, (s − warmup) // interval · interval + warmup;
 *  - the trial's best intermediate value so far (min; max when maximizing; NaNs ignored, all NaN
 *    → prune) is worse than the p-th percentile (numpy.nanpercentile, linear) of the values the
 *    complete trials reported at step s (p → 100 − p when maximizing), given at least
 *    n_min_trials of them reported at s.
 * Median = 50th percentile.
 */
import type { Direction, FrozenTrial, Pruner } from "./types.js";

export interface PercentilePrunerOptions {
  /** Pruning is disabled until this many trials are complete (default 5). */
  nStartupTrials?: number;
  /** Pruning is disabled until the trial reaches this step (default 0). */
  nWarmupSteps?: number;
  /** Check every `intervalSteps` steps after the warm-up (default 1). */
  intervalSteps?: number;
  /** Complete trials that must have reported at the step (default 1). */
  nMinTrials?: number;
}

export class PercentilePruner implements Pruner {
  readonly percentile: number;
  readonly nStartupTrials: number;
  readonly nWarmupSteps: number;
  readonly intervalSteps: number;
  readonly nMinTrials: number;

  constructor(percentile: number, options: PercentilePrunerOptions = {}) {
    this.percentile = percentile;
    this.nStartupTrials = options.nStartupTrials ?? 5;
    this.nWarmupSteps = options.nWarmupSteps ?? 0;
    this.intervalSteps = options.intervalSteps ?? 1;
    this.nMinTrials = options.nMinTrials ?? 1;
    if (!(percentile >= 0 && percentile <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${percentile}`);
    if (this.nStartupTrials < 0) throw new RangeError("nStartupTrials cannot be negative");
    if (this.nWarmupSteps < 0) throw new RangeError("nWarmupSteps cannot be negative");
    if (this.intervalSteps < 1) throw new RangeError("intervalSteps must be at least 1");
    if (this.nMinTrials < 1) throw new RangeError("nMinTrials must be at least 1");
  }

  shouldPrune(trial: FrozenTrial, step: number, history: readonly FrozenTrial[], direction: Direction): boolean {
    const completed = history.filter((t) => t.state === "complete" && t.number !== trial.number);
    if (completed.length === 0 || completed.length < this.nStartupTrials) return false;
    // Optuna uses trial.last_step; `step` is the step just reported, normally the same.
    const steps = [...trial.intermediate.keys()];
    const last = steps.length ? Math.max(...steps) : step;
    if (last < this.nWarmupSteps) return false;
    if (!isFirstInIntervalStep(last, steps, this.nWarmupSteps, this.intervalSteps)) return false;
    const vals = [...trial.intermediate.values()].filter((v) => !Number.isNaN(v));
    if (vals.length === 0) return true;
    const best = direction === "maximize" ? Math.max(...vals) : Math.min(...vals);
    const atStep = completed.filter((t) => t.intermediate.has(last)).map((t) => t.intermediate.get(last)!);
    if (atStep.length < this.nMinTrials) return false;
    const p = nanPercentile(atStep, direction === "maximize" ? 100 - this.percentile : this.percentile);
    if (Number.isNaN(p)) return false;
    return direction === "maximize" ? best < p : best > p;
  }
}

export class MedianPruner extends PercentilePruner {
  constructor(options: PercentilePrunerOptions = {}) {
    super(50, options);
  }
}

/** Never prunes (Optuna's NopPruner). */
export class NopPruner implements Pruner {
  shouldPrune(): boolean {
    return false;
  }
}

export function isFirstInIntervalStep(step: number, steps: readonly number[], warmup: number, interval: number): boolean {
  const nearestLowerPruningStep = Math.floor((step - warmup) / interval) * interval + warmup;
  let secondLast = -1;
  for (const s of steps) if (s > secondLast && s !== step) secondLast = s;
  return secondLast < nearestLowerPruningStep;
}

/** numpy.nanpercentile with the default linear method. */
function nanPercentile(xs: readonly number[], q: number): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const h = ((s.length - 1) * q) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}
