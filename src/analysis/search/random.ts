/**
 * RandomSampler with Optuna's semantics (optuna/samplers/_random.py via _SearchSpaceTransform):
 * floats uniform on [low, high) (log: uniform in log space), discrete parameters (ints, floats with
 * a step) uniform on [low − step/2, high + step/2] then snapped to the step grid and clipped (int
 * with log: uniform on [log(low − ½), log(high + ½)], exponentiated and rounded), categoricals
 * uniform over choices.
 *
 * Seeding: each trial draws from its own stream Rng(deriveSeed(seed, trialNumber)), so a trial's
 * parameters do not depend on which process asks or in which order (Optuna keeps one stream per
 * sampler; a resumed or distributed study could not reproduce that).
 */
import { Rng, deriveSeed } from "../../util/rng.js";
import { alignToStep, roundHalfEven, stepOf, validateSpace } from "./space.js";
import type { Direction, Distribution, FrozenTrial, ParamValue, Sampler, SearchSpace, TrialParams } from "./types.js";

export interface RandomSamplerOptions {
  seed?: number;
}

/** One parameter drawn uniformly (Optuna's RandomSampler.sample_independent). */
export function sampleUniform(d: Distribution, rng: Rng): ParamValue {
  if (d.kind === "categorical") return d.choices[rng.int(d.choices.length)]!;
  const step = stepOf(d);
  if (d.low === d.high) return d.low;
  if (d.kind === "int" && d.log) {
    const x = Math.exp(rng.uniform(Math.log(d.low - 0.5), Math.log(d.high + 0.5)));
    return Math.min(Math.max(roundHalfEven(x), d.low), d.high);
  }
  if (step !== 0) return alignToStep(rng.uniform(d.low - step / 2, d.high + step / 2), d.low, d.high, step);
  if (d.log) return Math.min(Math.exp(rng.uniform(Math.log(d.low), Math.log(d.high))), prevFloat(d.high));
  return Math.min(rng.uniform(d.low, d.high), prevFloat(d.high));
}

/** Largest double below x (numpy.nextafter(x, x − 1)): Optuna keeps floats in [low, high). */
function prevFloat(x: number): number {
  if (x === 0) return -Number.MIN_VALUE;
  const f = new Float64Array([x]);
  const u = new BigInt64Array(f.buffer);
  u[0] = x > 0 ? u[0]! - 1n : u[0]! + 1n;
  return f[0]!;
}

export class RandomSampler implements Sampler {
  readonly seed: number;
  constructor(options: RandomSamplerOptions = {}) {
    this.seed = options.seed ?? 0;
  }

  sample(space: SearchSpace, _history: readonly FrozenTrial[], _direction: Direction, trialNumber: number): TrialParams {
    validateSpace(space);
    const rng = new Rng(deriveSeed(this.seed, trialNumber));
    const out: TrialParams = {};
    for (const [name, d] of Object.entries(space)) out[name] = sampleUniform(d, rng);
    return out;
  }
}
