/**
 * Descriptive statistics across seeds / cases: mean, sample standard deviation (ddof = 1, as
 * numpy.std(x, ddof=1) and R's sd), standard error of the mean, and a "mean ± std (n)" summary.
 * NaN inputs are rejected rather than silently propagated: a NaN metric is a bug upstream.
 */

function check(xs: readonly number[], fn: string): void {
  for (const x of xs) if (!Number.isFinite(x)) throw new RangeError(`${fn}: values must be finite numbers, got ${x}`);
}

export function mean(xs: readonly number[]): number {
  check(xs, "mean");
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Variance with `ddof` delta degrees of freedom (default 1: the unbiased sample variance). */
export function variance(xs: readonly number[], ddof = 1): number {
  const n = xs.length;
  if (n - ddof <= 0) return NaN;
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) ** 2;
  return ss / (n - ddof);
}

export function std(xs: readonly number[], ddof = 1): number {
  return Math.sqrt(variance(xs, ddof));
}

/** Standard error of the mean: std(ddof=1) / sqrt(n) (scipy.stats.sem's default). */
export function sem(xs: readonly number[]): number {
  return std(xs, 1) / Math.sqrt(xs.length);
}

export interface Summary {
  n: number;
  mean: number;
  std: number;
  sem: number;
  min: number;
  max: number;
}

export function summarize(xs: readonly number[]): Summary {
  return {
    n: xs.length,
    mean: mean(xs),
    std: std(xs),
    sem: sem(xs),
    min: xs.length ? Math.min(...xs) : NaN,
    max: xs.length ? Math.max(...xs) : NaN,
  };
}

/** "0.512 ± 0.034 (n=5)"; std is omitted when n < 2. `digits` are significant digits. */
export function formatMeanStd(m: number, s: number | undefined, n: number, digits = 3): string {
  const f = (v: number) => formatNumber(v, digits);
  return s === undefined || !Number.isFinite(s) ? `${f(m)} (n=${n})` : `${f(m)} ± ${f(s)} (n=${n})`;
}

/** Fixed, readable number formatting shared by tables and reports. */
export function formatNumber(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}

/** Linear-interpolation percentile (numpy.percentile's default "linear" method), q in [0, 100]. */
export function percentile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = ((s.length - 1) * q) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}
