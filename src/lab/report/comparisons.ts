/**
 * Significance tests between a study's configurations on their per-case metric values
 * (ReportData.caseDistributions): for every per-case metric with at least two groups and every
 * pair of groups (in the order the groups first appear), Welch's unequal-variance t-test
 * (analysis/ttest.ts, = scipy.stats.ttest_ind(a, b, equal_var=False)), two-sided, with
 * Holm–Bonferroni adjusted p-values within each metric.
 *
 * Pure and browser-safe (no I/O), so the web lab can show the same table.
 */
import { mean, variance } from "../../analysis/descriptive.js";
import { welchTTest } from "../../analysis/ttest.js";
import type { CaseDistribution } from "./types.js";

/** One Welch test of group `a` against group `b` on `metric`'s per-case values. */
export interface ComparisonRow {
  metric: string;
  a: string;
  b: string;
  meanA: number;
  meanB: number;
  /** meanA − meanB. */
  diff: number;
  t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  /** Two-sided p-value. */
  p: number;
  /** Holm–Bonferroni adjusted p-value over the tests of the same metric. */
  pHolm: number;
  nA: number;
  nB: number;
}

/** A pair that was not tested, and why (shown as a note instead of a row of NaNs). */
export interface SkippedComparison {
  metric: string;
  a: string;
  b: string;
  reason: string;
}

export interface Comparisons {
  rows: ComparisonRow[];
  skipped: SkippedComparison[];
  /** Non-finite per-case values left out of the tests, by metric and group (e.g. a NaN score). */
  dropped: { metric: string; group: string; count: number }[];
}

/**
 * Holm's step-down adjustment (Holm 1979, "A simple sequentially rejective multiple test
 * procedure", Scand. J. Statist. 6:65–70), as statsmodels multipletests(method="holm") and
 * R p.adjust(method="holm"): with the m p-values sorted ascending p₍₁₎ ≤ … ≤ p₍ₘ₎,
 *   p̃₍ᵢ₎ = min(1, max_{j ≤ i} (m − j + 1) · p₍ⱼ₎).
 * The running max keeps adjusted values monotone in the raw order. Returned in the input order.
 */
export function holmAdjust(ps: readonly number[]): number[] {
  const m = ps.length;
  const order = ps.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], j) => {
    running = Math.max(running, Math.min(1, (m - j) * p));
    out[i] = running;
  });
  return out;
}

export interface ComparisonOptions {
  /** Which metrics to test (default all). */
  metrics?: (metric: string) => boolean;
  /** Which pairs of groups to test (default all). */
  pairs?: (a: string, b: string) => boolean;
}

/** A configuration label ("k=v, k=v", lab/store/report-data.ts configurationLabel) as a map. */
function labelParams(label: string): Map<string, string> {
  return new Map(label.split(", ").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)] as const));
}

/**
 * Configurations that differ in exactly one parameter, the others held fixed: the contrasts a
 * factorial sweep asks about (method A vs B on the same data), not every pair of cells.
 */
export function differInOneParameter(a: string, b: string): boolean {
  const x = labelParams(a);
  const y = labelParams(b);
  const keys = new Set([...x.keys(), ...y.keys()]);
  return [...keys].filter((k) => x.get(k) !== y.get(k)).length === 1;
}

/** Welch t-tests between every pair of groups of each per-case metric (see the file comment). */
export function welchComparisons(dists: readonly CaseDistribution[], options: ComparisonOptions = {}): Comparisons {
  // metric → group → values, both in first-appearance order; a group listed twice is pooled.
  const byMetric = new Map<string, Map<string, number[]>>();
  const dropped: Comparisons["dropped"] = [];
  for (const d of dists) {
    if (options.metrics && !options.metrics(d.metric)) continue;
    const groups = byMetric.get(d.metric) ?? new Map<string, number[]>();
    byMetric.set(d.metric, groups);
    const finite = d.values.filter(Number.isFinite);
    if (finite.length < d.values.length) dropped.push({ metric: d.metric, group: d.group, count: d.values.length - finite.length });
    groups.set(d.group, [...(groups.get(d.group) ?? []), ...finite]);
  }

  const rows: ComparisonRow[] = [];
  const skipped: SkippedComparison[] = [];
  for (const [metric, groups] of byMetric) {
    const entries = [...groups];
    const tested: Omit<ComparisonRow, "pHolm">[] = [];
    for (let i = 0; i < entries.length; i++) {
      for (let j = i + 1; j < entries.length; j++) {
        const [a, xs] = entries[i]!;
        const [b, ys] = entries[j]!;
        if (options.pairs && !options.pairs(a, b)) continue;
        const reason = skipReason(xs, ys);
        if (reason) {
          skipped.push({ metric, a, b, reason });
          continue;
        }
        const r = welchTTest(xs, ys);
        tested.push({ metric, a, b, meanA: mean(xs), meanB: mean(ys), diff: r.meanDiff, t: r.t, df: r.df, p: r.p, nA: xs.length, nB: ys.length });
      }
    }
    // The family for Holm is the tests actually run on this metric.
    const adjusted = holmAdjust(tested.map((r) => r.p));
    tested.forEach((r, k) => rows.push({ ...r, pHolm: adjusted[k]! }));
  }
  return { rows, skipped, dropped };
}

/**
 * Constant up to rounding: a spread below 1e-9 of the values' size. Per-call quantities shared by a
 * batch's cases (its edit time) differ only in the last bits once summed in another order, and
 * would otherwise give t ≈ 1e15.
 */
function constant(xs: readonly number[]): boolean {
  return Math.sqrt(variance(xs)) <= 1e-9 * Math.max(...xs.map(Math.abs));
}

/** Why a pair cannot be Welch-tested: a sample too small, or no variance at all (t = ±∞ or 0/0). */
function skipReason(xs: readonly number[], ys: readonly number[]): string | undefined {
  if (xs.length < 2 || ys.length < 2) return `needs ≥ 2 values per group (have ${xs.length} and ${ys.length})`;
  if (constant(xs) && constant(ys)) return "both groups have zero variance";
  return undefined;
}
