/**
 * Optuna's univariate Parzen estimator (optuna/samplers/_tpe/parzen_estimator.py and
 * probability_distributions.py): a mixture over kernels, one kernel per observation plus one prior
 * kernel, each kernel a product over parameters of
 *  - numerical: a normal N(μ, σ) truncated to the (step-widened, log-transformed) domain;
 *    discrete parameters (int, float with step, log-scale int included) integrate it over
 *    [x − step/2, x + step/2] (on the log scale for log-scale ints: the truncated log-normal);
 *  - categorical: a distribution over choices, prior_weight/(n+1) everywhere plus 1 at the
 *    observed choice, normalized.
 * Mixture weights: weights(n) for the observations (default_weights: 1 for the newest 25,
 * a linear ramp 1/n…1 for older ones), prior_weight for the prior kernel, normalized.
 * Bandwidths (consider_endpoints=false): with the observations sorted and flanked by low and
 * high, σ_i = max(gap to left, gap to right); the first and last kernels use their inner gap
 * only; then clipped to [(high−low)/min(100, 1 + n_kernels), high−low] with n_kernels = n + 1
 * (consider_magic_clip). The prior kernel is N(μ_p = (low+high)/2, high − low).
 *
 * Which Optuna (pinned by test/analysis/tpe-optuna-golden.test.ts against numbers produced by
 * Optuna's own parzen_estimator.py, fixture made by scripts/optuna-golden/make-golden.py):
 *  - Bandwidth rule: by default exactly Optuna 4.8.0 (commit 689c62dbf; same rule in 4.7): μ_p sits
 *    among the sorted points of the bandwidth rule (`priorInBandwidth: true`).
 *    `priorInBandwidth: false` is Optuna 4.9.0 (4db42e31c) and 5.0.0.dev (1d8ce7bb6), which
 *    dropped it; with one observation there are then only 3 sorted points and the
 *    consider_endpoints=false override does not apply (as in Optuna).
 *  - Log-scale integers: the discrete truncated log-normal kernel, i.e. follows Optuna 5.x
 *    (commit 1d8ce7bb6, 5.0.0.dev) and every release since 4.7.0, whatever `priorInBandwidth`.
 *    Optuna ≤ 4.6 (pinned against 4.6.0, 3da74878a) treats log-scale integers as continuous on
 *    [log(low − ½), log(high + ½)] then rounds: same kernels (μ, σ) and same samples, but its
 *    log_pdf is the continuous log-space density instead of the mass of [x − ½, x + ½]; that
 *    variant is not reproduced here.
 */
import type { Rng } from "../../util/rng.js";
import { logGaussMass, logpdf as truncLogpdf, rvs } from "./truncnorm.js";
import { alignToStep, stepOf } from "./space.js";
import type { Distribution, SearchSpace } from "./types.js";

export interface ParzenParameters {
  priorWeight: number;
  considerMagicClip: boolean;
  considerEndpoints: boolean;
  weights: (n: number) => number[];
  /** Optuna 4.7–4.8's bandwidth rule (prior mean among the neighbours); default true. false = Optuna ≥ 4.9 / 5.0. */
  priorInBandwidth?: boolean;
}

/** Optuna's default_weights. */
export function defaultWeights(n: number): number[] {
  if (n === 0) return [];
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = linspace(1 / n, 1, n - 25);
  return [...ramp, ...new Array<number>(25).fill(1)];
}

/** numpy.linspace(start, stop, num) (endpoint included). */
function linspace(start: number, stop: number, num: number): number[] {
  if (num <= 0) return [];
  if (num === 1) return [start];
  const d = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : start + i * d));
}

export type Kernels1D =
  | { kind: "categorical"; /** [kernel][choice] probabilities */ probs: number[][] }
  | {
      kind: "numerical";
      mus: number[];
      sigmas: number[];
      /** Domain as given (external scale). */
      low: number;
      high: number;
      step: number;
      log: boolean;
      /** Domain where the normals live: step-widened, then log-transformed. */
      adaptedLow: number;
      adaptedHigh: number;
    };

export class ParzenEstimator {
  /** Normalized mixture weights, observations first, prior last. */
  readonly weights: number[];
  readonly kernels: Record<string, Kernels1D>;
  private readonly names: string[];

  /** `observations[name][i]`: internal value of observation i (all arrays the same length). */
  constructor(observations: Record<string, number[]>, space: SearchSpace, params: ParzenParameters) {
    if (params.priorWeight < 0) throw new RangeError(`priorWeight must be non-negative, got ${params.priorWeight}`);
    this.names = Object.keys(space);
    const n = this.names.length ? observations[this.names[0]!]!.length : 0;
    let w: number[];
    if (n === 0) w = [1];
    else {
      w = params.weights(n).slice(0, n);
      if (w.some((x) => x < 0 || !Number.isFinite(x))) throw new RangeError("weights must be finite and non-negative");
      w.push(params.priorWeight);
    }
    const total = w.reduce((s, x) => s + x, 0);
    this.weights = w.map((x) => x / total);
    this.kernels = {};
    for (const name of this.names) this.kernels[name] = buildKernels(observations[name]!, space[name]!, params, this.names.length);
  }

  /** Draw `size` points (internal representation) from the mixture. */
  sample(rng: Rng, size: number): Record<string, number[]> {
    const active = Array.from({ length: size }, () => rng.choiceIndex(this.weights));
    const out: Record<string, number[]> = {};
    for (const name of this.names) {
      const k = this.kernels[name]!;
      out[name] = active.map((j) => {
        const u = rng.random();
        if (k.kind === "categorical") {
          // Optuna: index = #{cumulative probability < u}.
          const p = k.probs[j]!;
          let acc = 0;
          let idx = 0;
          for (let c = 0; c < p.length - 1; c++) {
            acc += p[c]!;
            if (acc < u) idx = c + 1;
            else break;
          }
          return idx;
        }
        const mu = k.mus[j]!;
        const sigma = k.sigmas[j]!;
        let x = rvs(u, (k.adaptedLow - mu) / sigma, (k.adaptedHigh - mu) / sigma, mu, sigma);
        if (k.log) x = Math.exp(x);
        if (k.step !== 0) x = alignToStep(x, k.low, k.high, k.step);
        return x;
      });
    }
    return out;
  }

  /** log density (log mass for discrete parameters) of each point under the mixture. */
  logPdf(points: Record<string, number[]>): number[] {
    const size = this.names.length ? points[this.names[0]!]!.length : 0;
    const nk = this.weights.length;
    const out: number[] = [];
    for (let i = 0; i < size; i++) {
      const terms = this.weights.map((w) => Math.log(w));
      for (const name of this.names) {
        const k = this.kernels[name]!;
        const x = points[name]![i]!;
        for (let j = 0; j < nk; j++) terms[j]! += kernelLogPdf(k, j, x);
      }
      out.push(logSumExp(terms));
    }
    return out;
  }
}

function kernelLogPdf(k: Kernels1D, j: number, x: number): number {
  if (k.kind === "categorical") return Math.log(k.probs[j]![x]!);
  const mu = k.mus[j]!;
  const sigma = k.sigmas[j]!;
  const a = (k.adaptedLow - mu) / sigma;
  const b = (k.adaptedHigh - mu) / sigma;
  if (k.step === 0) return truncLogpdf(k.log ? Math.log(x) : x, a, b, mu, sigma);
  const left = k.log ? Math.log(x - k.step / 2) : x - k.step / 2;
  const right = k.log ? Math.log(x + k.step / 2) : x + k.step / 2;
  return logGaussMass((left - mu) / sigma, (right - mu) / sigma) - logGaussMass(a, b);
}

function logSumExp(xs: number[]): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return Math.log(s) + m;
}

function buildKernels(obs: number[], d: Distribution, params: ParzenParameters, _nParams: number): Kernels1D {
  if (d.kind === "categorical") {
    const nc = d.choices.length;
    if (obs.length === 0) return { kind: "categorical", probs: [new Array<number>(nc).fill(1 / nc)] };
    const nKernels = obs.length + 1;
    const probs = Array.from({ length: nKernels }, () => new Array<number>(nc).fill(params.priorWeight / nKernels));
    obs.forEach((c, i) => (probs[i]![c]! += 1));
    for (const row of probs) {
      const s = row.reduce((p, q) => p + q, 0);
      if (s !== 0) for (let c = 0; c < nc; c++) row[c]! /= s;
    }
    return { kind: "categorical", probs };
  }
  const step = stepOf(d);
  let low = d.low;
  let high = d.high;
  if (step !== 0) {
    low -= step / 2;
    high += step / 2;
  }
  const log = d.log ?? false;
  const mus = log ? obs.map(Math.log) : [...obs];
  if (log) {
    low = Math.log(low);
    high = Math.log(high);
  }
  const sigmas = univariateSigmas(mus, low, high, params);
  mus.push(0.5 * (low + high));
  sigmas.push(high - low);
  return { kind: "numerical", mus, sigmas, low: d.low, high: d.high, step, log, adaptedLow: low, adaptedHigh: high };
}

/** Bandwidths of the observation kernels (Optuna's `compute_sigmas`, univariate branch). */
export function univariateSigmas(
  mus: readonly number[],
  low: number,
  high: number,
  params: Pick<ParzenParameters, "considerEndpoints" | "considerMagicClip" | "priorInBandwidth">,
): number[] {
  const n = mus.length;
  const withPrior = params.priorInBandwidth ?? true ? [...mus, 0.5 * (low + high)] : [...mus];
  // Stable argsort (numpy's default sort is stable for arrays this small; ties give equal gaps).
  const order = withPrior.map((_, i) => i).sort((p, q) => withPrior[p]! - withPrior[q]! || p - q);
  const s = [low, ...order.map((i) => withPrior[i]!), high];
  const sorted: number[] = [];
  for (let i = 1; i < s.length - 1; i++) sorted.push(Math.max(s[i]! - s[i - 1]!, s[i + 1]! - s[i]!));
  if (!params.considerEndpoints && s.length >= 4) {
    sorted[0] = s[2]! - s[1]!;
    sorted[sorted.length - 1] = s[s.length - 2]! - s[s.length - 3]!;
  }
  const sigmas = new Array<number>(withPrior.length);
  order.forEach((orig, rank) => (sigmas[orig] = sorted[rank]!));
  const maxSigma = high - low;
  const minSigma = params.considerMagicClip ? (high - low) / Math.min(100, 1 + (n + 1)) : 1e-12;
  return sigmas.slice(0, n).map((x) => Math.min(Math.max(x, minSigma), maxSigma));
}
