/**
 * Student's t-tests with two-sided p-values from jstat's Student-t CDF.
 *
 * Welch's unequal-variance test (scipy.stats.ttest_ind(a, b, equal_var=False); R's t.test default):
 *   t = (x̄₁ − x̄₂) / sqrt(s₁²/n₁ + s₂²/n₂)
 *   ν = (s₁²/n₁ + s₂²/n₂)² / [ (s₁²/n₁)²/(n₁−1) + (s₂²/n₂)²/(n₂−1) ]   (Welch–Satterthwaite)
 * Student's pooled test (equal_var=True): df = n₁+n₂−2, s_p² = ((n₁−1)s₁² + (n₂−1)s₂²)/df.
 * Paired test (scipy.stats.ttest_rel; R t.test(paired=TRUE)): one-sample t on d = a − b, df = n − 1.
 * p = 2·(1 − F_ν(|t|)), computed as 2·F_ν(−|t|) to keep precision for large |t|.
 */
import jStat from "jstat";
import { mean, variance } from "./descriptive.js";

export interface TTestResult {
  t: number;
  df: number;
  /** Two-sided p-value. */
  p: number;
  /** Mean difference (a − b). */
  meanDiff: number;
  /** Standard error of the mean difference. */
  se: number;
  /** Confidence interval for the mean difference at `level` (default 0.95). */
  ci: [number, number];
  level: number;
}

function finish(diff: number, se: number, df: number, level: number): TTestResult {
  const t = diff / se;
  const p = Number.isNaN(t) ? NaN : Math.min(1, 2 * jStat.studentt.cdf(-Math.abs(t), df));
  const q = jStat.studentt.inv(1 - (1 - level) / 2, df);
  return { t, df, p, meanDiff: diff, se, ci: [diff - q * se, diff + q * se], level };
}

function need(xs: readonly number[], k: number, what: string): void {
  if (xs.length < k) throw new RangeError(`${what}: needs at least ${k} values per sample, got ${xs.length}`);
}

/** Welch's t-test (unequal variances). */
export function welchTTest(a: readonly number[], b: readonly number[], level = 0.95): TTestResult {
  need(a, 2, "welchTTest");
  need(b, 2, "welchTTest");
  const va = variance(a) / a.length;
  const vb = variance(b) / b.length;
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  return finish(mean(a) - mean(b), Math.sqrt(va + vb), df, level);
}

/** Student's two-sample t-test with pooled variance. */
export function studentTTest(a: readonly number[], b: readonly number[], level = 0.95): TTestResult {
  need(a, 2, "studentTTest");
  need(b, 2, "studentTTest");
  const df = a.length + b.length - 2;
  const sp2 = ((a.length - 1) * variance(a) + (b.length - 1) * variance(b)) / df;
  return finish(mean(a) - mean(b), Math.sqrt(sp2 * (1 / a.length + 1 / b.length)), df, level);
}

/** Paired t-test on a[i] − b[i]. */
export function pairedTTest(a: readonly number[], b: readonly number[], level = 0.95): TTestResult {
  if (a.length !== b.length) throw new RangeError(`pairedTTest: samples must have equal length (${a.length} vs ${b.length})`);
  need(a, 2, "pairedTTest");
  const d = a.map((x, i) => x - b[i]!);
  return finish(mean(d), Math.sqrt(variance(d) / d.length), d.length - 1, level);
}

/** One-sample t-test of mean(xs) against mu. */
export function oneSampleTTest(xs: readonly number[], mu = 0, level = 0.95): TTestResult {
  need(xs, 2, "oneSampleTTest");
  return finish(mean(xs) - mu, Math.sqrt(variance(xs) / xs.length), xs.length - 1, level);
}
