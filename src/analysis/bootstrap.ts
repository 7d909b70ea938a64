/**
 * Bootstrap confidence intervals as scipy.stats.bootstrap (SciPy ≥ 1.9; checked against 1.17)
 * defines them, seeded with scalpel's Rng:
 *
 * - resampling: each of the `nResamples` replicates draws n indices uniformly with replacement
 *   from every sample independently (paired: one index draw shared by all samples);
 * - "percentile": the α and 1−α quantiles of the bootstrap distribution, α = (1 − level)/2,
 *   with numpy's default "linear" quantile;
 * - "basic": (2θ̂ − q(1−α), 2θ̂ − q(α));
 * - "BCa" (Efron & Tibshirani 1993, §14.3 and eq. 14.15; scipy's `_bca_interval`):
 *     z₀ = Φ⁻¹(( #{θ*_b < θ̂} + #{θ*_b ≤ θ̂} ) / 2B)
 *     for each sample j, leave-one-out jackknife values θ_(i); U_i = (n−1)(θ_(·) − θ_(i))
 *     â = (1/6) Σ_j Σ_i U_i³/n_j³ / (Σ_j Σ_i U_i²/n_j²)^{3/2}
 *     α₁ = Φ(z₀ + (z₀ + z_α)/(1 − â(z₀ + z_α))),  α₂ = Φ(z₀ + (z₀ + z_{1−α})/(1 − â(z₀ + z_{1−α})))
 *   and the interval is the α₁ and α₂ quantiles of the bootstrap distribution.
 *
 * scipy's replicates come from numpy's generator, so numbers match scipy exactly only for the
 * same replicates: `bootstrapInterval` takes them explicitly (see test/analysis/bootstrap.test.ts,
 * which pins it against scipy given identical replicates).
 */
import { mean, percentile, std } from "./descriptive.js";
import { Rng } from "../util/rng.js";
import { ndtr, ndtri } from "./special.js";

export type BootstrapMethod = "percentile" | "basic" | "BCa";
export type Statistic = (...samples: number[][]) => number;

export interface BootstrapOptions {
  /** Default 9999 (scipy's default). */
  nResamples?: number;
  /** Default 0.95. */
  level?: number;
  /** Default "BCa" (scipy's default). */
  method?: BootstrapMethod;
  /** Resample all samples with the same indices (samples must have equal length). */
  paired?: boolean;
  seed: number;
}

export interface BootstrapResult {
  estimate: number;
  low: number;
  high: number;
  level: number;
  method: BootstrapMethod;
  /** Standard deviation (ddof = 1) of the bootstrap distribution. */
  standardError: number;
  /** BCa only: bias correction z₀ and acceleration â. */
  z0?: number;
  acceleration?: number;
  nResamples: number;
}

/** Draw the bootstrap distribution of `statistic`. */
export function bootstrapDistribution(
  samples: readonly (readonly number[])[],
  statistic: Statistic,
  opts: { nResamples?: number; paired?: boolean; seed: number },
): number[] {
  const B = opts.nResamples ?? 9999;
  checkSamples(samples, opts.paired ?? false);
  const rng = new Rng(opts.seed);
  const out = new Array<number>(B);
  const bufs = samples.map((s) => new Array<number>(s.length));
  for (let b = 0; b < B; b++) {
    if (opts.paired) {
      const n = samples[0]!.length;
      for (let i = 0; i < n; i++) {
        const k = rng.int(n);
        for (let j = 0; j < samples.length; j++) bufs[j]![i] = samples[j]![k]!;
      }
    } else {
      for (let j = 0; j < samples.length; j++) {
        const s = samples[j]!;
        for (let i = 0; i < s.length; i++) bufs[j]![i] = s[rng.int(s.length)]!;
      }
    }
    out[b] = statistic(...bufs);
  }
  return out;
}

/** Confidence interval from an already drawn bootstrap distribution (scipy's interval step). */
export function bootstrapInterval(
  samples: readonly (readonly number[])[],
  statistic: Statistic,
  replicates: readonly number[],
  opts: { level?: number; method?: BootstrapMethod; paired?: boolean } = {},
): BootstrapResult {
  const level = opts.level ?? 0.95;
  const method = opts.method ?? "BCa";
  if (!(level > 0 && level < 1)) throw new RangeError(`bootstrap: level must be in (0, 1), got ${level}`);
  const alpha = (1 - level) / 2;
  const estimate = statistic(...samples.map((s) => [...s]));
  const base = { estimate, level, method, standardError: std(replicates), nResamples: replicates.length };
  if (method === "percentile" || method === "basic") {
    const lo = percentile(replicates, 100 * alpha);
    const hi = percentile(replicates, 100 * (1 - alpha));
    return method === "percentile" ? { ...base, low: lo, high: hi } : { ...base, low: 2 * estimate - hi, high: 2 * estimate - lo };
  }
  // BCa.
  let below = 0;
  let belowEq = 0;
  for (const t of replicates) {
    if (t < estimate) below++;
    if (t <= estimate) belowEq++;
  }
  const z0 = ndtri((below + belowEq) / (2 * replicates.length));
  const a = acceleration(samples, statistic, opts.paired ?? false);
  const zA = ndtri(alpha);
  const n1 = z0 + zA;
  const n2 = z0 - zA;
  const a1 = ndtr(z0 + n1 / (1 - a * n1));
  const a2 = ndtr(z0 + n2 / (1 - a * n2));
  return {
    ...base,
    low: Number.isNaN(a1) ? NaN : percentile(replicates, 100 * a1),
    high: Number.isNaN(a2) ? NaN : percentile(replicates, 100 * a2),
    z0,
    acceleration: a,
  };
}

/** Draw replicates with `opts.seed`, then compute the interval. */
export function bootstrapCI(samples: readonly (readonly number[])[], statistic: Statistic, opts: BootstrapOptions): BootstrapResult {
  const reps = bootstrapDistribution(samples, statistic, opts);
  return bootstrapInterval(samples, statistic, reps, opts);
}

/** CI of the mean of one sample. */
export function bootstrapMeanCI(xs: readonly number[], opts: BootstrapOptions): BootstrapResult {
  return bootstrapCI([xs], (x) => mean(x), opts);
}

/**
 * Paired bootstrap CI of mean(a − b): cases are resampled jointly (scipy paired=True). For the
 * mean this equals bootstrapping the differences d = a − b, which is how it is computed.
 */
export function pairedBootstrapDiffCI(a: readonly number[], b: readonly number[], opts: BootstrapOptions): BootstrapResult {
  if (a.length !== b.length) throw new RangeError(`pairedBootstrapDiffCI: samples must have equal length (${a.length} vs ${b.length})`);
  return bootstrapMeanCI(a.map((x, i) => x - b[i]!), opts);
}

/**
 * Jackknife acceleration â. Independent samples: each sample's observations are left out in turn
 * (scipy loops over samples j). Paired: scipy bootstraps one sample of case indices, so a case is
 * left out of every sample at once.
 */
function acceleration(samples: readonly (readonly number[])[], statistic: Statistic, paired: boolean): number {
  let num = 0;
  let den = 0;
  const groups = paired ? [null] : samples.map((_, j) => j);
  for (const j of groups) {
    const n = j === null ? samples[0]!.length : samples[j]!.length;
    const thetas: number[] = [];
    for (let i = 0; i < n; i++) {
      const drop = (x: readonly number[]) => [...x.slice(0, i), ...x.slice(i + 1)];
      const args = samples.map((x, k) => (j === null || k === j ? drop(x) : [...x]));
      thetas.push(statistic(...args));
    }
    const dot = thetas.reduce((p, q) => p + q, 0) / n;
    let s3 = 0;
    let s2 = 0;
    for (const t of thetas) {
      const u = (n - 1) * (dot - t);
      s3 += u ** 3;
      s2 += u ** 2;
    }
    num += s3 / n ** 3;
    den += s2 / n ** 2;
  }
  return num / 6 / den ** 1.5;
}

function checkSamples(samples: readonly (readonly number[])[], paired: boolean): void {
  if (samples.length === 0) throw new RangeError("bootstrap: needs at least one sample");
  for (const s of samples) if (s.length < 2) throw new RangeError(`bootstrap: each sample needs at least 2 values, got ${s.length}`);
  if (paired && samples.some((s) => s.length !== samples[0]!.length)) throw new RangeError("bootstrap: paired samples must have equal length");
}
