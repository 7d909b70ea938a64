/**
 * TPESampler with the semantics of Optuna 4.8's default (independent, univariate) TPE
 * (optuna/samplers/_tpe/sampler.py):
 *
 * - while fewer than n_startup_trials (10) trials are complete or pruned, sample at random;
 * - else, per parameter: n = #(complete + pruned trials); split them into n_below = gamma(n)
 *   "good" trials (default_gamma: min(ceil(0.1·n), 25)) and the rest, taking complete trials by
 *   value first (ascending; descending when maximizing), then pruned trials ranked by
 *   (−last step, value at that step) (NaN → +∞; no intermediate values → last), then sort each
 *   group by trial number so default_weights' ramp down-weights old trials;
 * - fit a Parzen estimator l(x) to the good trials' values and g(x) to the rest (parzen.ts),
 *   draw n_ei_candidates (24) candidates from l and keep the one maximizing log l(x) − log g(x).
 *
 * Parzen estimator (parzen.ts): bandwidths = Optuna 4.8.0 by default (`priorInBandwidth: false` =
 * Optuna 4.9 / 5.0); log-scale integers use the discrete log-normal kernel of Optuna 5.x (commit
 * 1d8ce7bb6) and ≥ 4.7, not Optuna ≤ 4.6's continuous-then-round kernel. Both pinned against
 * Optuna's own numbers in test/analysis/tpe-optuna-golden.test.ts.
 *
 * Not ported: multivariate/group TPE, constant liar, constraints, multi-objective.
 * Seeding: each trial uses its own stream Rng(deriveSeed(seed, trialNumber)) (see random.ts);
 * parameters are drawn in the search space's key order.
 */
import { Rng, deriveSeed } from "../../util/rng.js";
import { ParzenEstimator, defaultWeights, type ParzenParameters } from "./parzen.js";
import { sampleUniform } from "./random.js";
import { toExternal, toInternal, validateSpace } from "./space.js";
import type { Direction, FrozenTrial, Sampler, SearchSpace, TrialParams } from "./types.js";

export interface TPESamplerOptions {
  seed?: number;
  /** Random trials before TPE starts (Optuna default 10). */
  nStartupTrials?: number;
  /** Candidates drawn from l(x) per parameter (default 24). */
  nEiCandidates?: number;
  /** Number of "good" trials given the number of finished trials (default min(ceil(0.1 n), 25)). */
  gamma?: (n: number) => number;
  /** Observation weights given their count (default: Optuna's default_weights). */
  weights?: (n: number) => number[];
  priorWeight?: number;
  considerMagicClip?: boolean;
  considerEndpoints?: boolean;
  /** Bandwidth rule: true (default) Optuna 4.7–4.8, false Optuna ≥ 4.9 / 5.0 (see parzen.ts); log-scale ints are discrete either way. */
  priorInBandwidth?: boolean;
}

/** Optuna's default_gamma. */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** Optuna's hyperopt_default_gamma. */
export function hyperoptDefaultGamma(n: number): number {
  return Math.min(Math.ceil(0.25 * Math.sqrt(n)), 25);
}

export class TPESampler implements Sampler {
  readonly seed: number;
  readonly nStartupTrials: number;
  readonly nEiCandidates: number;
  private readonly gamma: (n: number) => number;
  private readonly parzen: ParzenParameters;

  constructor(options: TPESamplerOptions = {}) {
    this.seed = options.seed ?? 0;
    this.nStartupTrials = options.nStartupTrials ?? 10;
    this.nEiCandidates = options.nEiCandidates ?? 24;
    this.gamma = options.gamma ?? defaultGamma;
    this.parzen = {
      priorWeight: options.priorWeight ?? 1.0,
      considerMagicClip: options.considerMagicClip ?? true,
      considerEndpoints: options.considerEndpoints ?? false,
      weights: options.weights ?? defaultWeights,
      priorInBandwidth: options.priorInBandwidth ?? true,
    };
    if (this.nEiCandidates < 1) throw new RangeError(`nEiCandidates must be at least 1, got ${this.nEiCandidates}`);
  }

  sample(space: SearchSpace, history: readonly FrozenTrial[], direction: Direction, trialNumber: number): TrialParams {
    validateSpace(space);
    const rng = new Rng(deriveSeed(this.seed, trialNumber));
    const trials = history.filter(isFinished);
    const out: TrialParams = {};
    if (trials.length < this.nStartupTrials) {
      for (const [name, d] of Object.entries(space)) out[name] = sampleUniform(d, rng);
      return out;
    }
    const [below, above] = splitTrials(trials, this.gamma(trials.length), direction);
    for (const [name, d] of Object.entries(space)) {
      const sub = { [name]: d };
      const obs = (ts: FrozenTrial[]) => ({ [name]: ts.map((t) => toInternal(d, t.params[name])).filter((v): v is number => v !== undefined) });
      const l = new ParzenEstimator(obs(below), sub, this.parzen);
      const g = new ParzenEstimator(obs(above), sub, this.parzen);
      const cand = l.sample(rng, this.nEiCandidates);
      const ll = l.logPdf(cand);
      const lg = g.logPdf(cand);
      let best = 0;
      for (let i = 1; i < ll.length; i++) if (ll[i]! - lg[i]! > ll[best]! - lg[best]!) best = i;
      out[name] = toExternal(d, cand[name]![best]!);
    }
    return out;
  }
}

/** Complete trials with a finite value, and pruned trials (Optuna treats a NaN value as a failure). */
function isFinished(t: FrozenTrial): boolean {
  return (t.state === "complete" && t.value !== undefined && Number.isFinite(t.value)) || t.state === "pruned";
}

/** Optuna's `_split_trials` for one objective, no constraints, no running trials. */
export function splitTrials(trials: readonly FrozenTrial[], nBelow: number, direction: Direction): [FrozenTrial[], FrozenTrial[]] {
  const sign = direction === "maximize" ? -1 : 1;
  const complete = trials.filter((t) => t.state === "complete").sort((a, b) => sign * (a.value! - b.value!));
  const pruned = trials.filter((t) => t.state === "pruned").map((t) => ({ t, score: prunedScore(t, sign) }));
  pruned.sort((a, b) => a.score[0] - b.score[0] || a.score[1] - b.score[1]);
  const nc = Math.min(nBelow, complete.length);
  const np = Math.max(0, Math.min(nBelow - nc, pruned.length));
  const below = [...complete.slice(0, nc), ...pruned.slice(0, np).map((p) => p.t)];
  const above = [...complete.slice(nc), ...pruned.slice(np).map((p) => p.t)];
  const byNumber = (a: FrozenTrial, b: FrozenTrial) => a.number - b.number;
  return [below.sort(byNumber), above.sort(byNumber)];
}

/** (−last step, sign·value) ; NaN value → +∞ ; no intermediate values → (1, 0): ranked last. */
function prunedScore(t: FrozenTrial, sign: number): [number, number] {
  if (t.intermediate.size === 0) return [1, 0];
  const step = Math.max(...t.intermediate.keys());
  const v = t.intermediate.get(step)!;
  return [-step, Number.isNaN(v) ? Infinity : sign * v];
}
