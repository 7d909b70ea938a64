/**
 * Before/after comparison of one task's metrics on the same documents (a model and the same model
 * with a patch): each metric's difference (after − before) with a paired bootstrap confidence
 * interval (documents resampled with replacement, one index draw shared by both runs; percentile
 * interval of agg(after*) − agg(before*), analysis/bootstrap.ts), and where the sample allows a
 * paired significance test:
 * - mean-aggregated metrics: the paired t-test on per-document differences (scipy ttest_rel),
 *   when n ≥ 2 and the differences are not all equal;
 * - 0/1 metrics (acc, exact_match): also McNemar's exact test, two-sided, on the discordant pairs
 *   b = #(before 1, after 0), c = #(before 0, after 1): p = min(1, 2·P[Bin(b + c, ½) ≤ min(b, c)]).
 */
import { bootstrapCI } from "../analysis/bootstrap.js";
import { pairedTTest } from "../analysis/ttest.js";
import { UsageError } from "../errors.js";
import { aggregate } from "./metrics.js";
import type { TaskResult } from "./evaluate.js";
import type { MetricValue } from "./types.js";

export interface MetricComparison {
  metric: string;
  before: number;
  after: number;
  diff: number;
  ci: [number, number];
  level: number;
  /** Paired t-test p-value (mean metrics), when defined. */
  pTTest?: number;
  /** McNemar exact p-value (0/1 metrics). */
  pMcNemar?: number;
  discordant?: { worse: number; better: number };
  higherIsBetter: boolean;
}

export interface CompareOptions {
  seed?: number;
  nResamples?: number;
  level?: number;
}

export function compareTask(before: TaskResult, after: TaskResult, options: CompareOptions = {}): MetricComparison[] {
  if (before.perDoc.ids.join("\u0000") !== after.perDoc.ids.join("\u0000")) {
    throw new UsageError("UNPAIRED_RESULTS", `task ${before.task}: the two runs scored different documents, so they cannot be compared pairwise`, {
      fix: "evaluate both with the same --limit and task version",
    });
  }
  const level = options.level ?? 0.95;
  return Object.entries(before.metrics).map(([name, def]) => {
    const a = before.perDoc.values[name]!;
    const b = after.perDoc.values[name]!;
    const agg = def.aggregation;
    const cmp: MetricComparison = {
      metric: name,
      before: aggregate(agg, a),
      after: aggregate(agg, b),
      diff: aggregate(agg, b) - aggregate(agg, a),
      ci: [NaN, NaN],
      level,
      higherIsBetter: def.higherIsBetter,
    };
    if (a.length >= 2) {
      // Columns: mean metrics → [before, after]; pairs → [before ll, before count, after ll, after count].
      const pairs = Array.isArray(a[0]);
      const cols = pairs ? [col(a, 0), col(a, 1), col(b, 0), col(b, 1)] : [a as number[], b as number[]];
      const stat = pairs
        ? (la: number[], ca: number[], lb: number[], cb: number[]) => aggregate(agg, zip(lb, cb)) - aggregate(agg, zip(la, ca))
        : (xa: number[], xb: number[]) => aggregate(agg, xb) - aggregate(agg, xa);
      const boot = bootstrapCI(cols, stat as (...s: number[][]) => number, { paired: true, method: "percentile", nResamples: options.nResamples ?? 2000, level, seed: options.seed ?? 0 });
      cmp.ci = [boot.low, boot.high];
    }
    if (agg === "mean") {
      const xa = a as number[];
      const xb = b as number[];
      const d = xb.map((x, i) => x - xa[i]!);
      // Differences that are all equal (up to rounding) have no variance: the t statistic is undefined.
      const spread = Math.max(...d) - Math.min(...d);
      if (d.length >= 2 && spread > 1e-12 * Math.max(1, ...d.map(Math.abs))) cmp.pTTest = pairedTTest(xb, xa, level).p;
      if ([...xa, ...xb].every((x) => x === 0 || x === 1)) {
        let worse = 0;
        let better = 0;
        xa.forEach((x, i) => {
          if (x === 1 && xb[i] === 0) worse++;
          if (x === 0 && xb[i] === 1) better++;
        });
        cmp.discordant = { worse, better };
        cmp.pMcNemar = mcnemarExact(worse, better);
      }
    }
    return cmp;
  });
}

/** Two-sided exact McNemar p-value from the discordant counts. */
export function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  // P[Bin(n, ½) ≤ k], summed in log space.
  let logC = 0; // log C(n, 0)
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log((n - i + 1) / i);
    sum += Math.exp(logC - n * Math.LN2);
  }
  return Math.min(1, 2 * sum);
}

function col(xs: MetricValue[], i: number): number[] {
  return xs.map((x) => (x as [number, number])[i]!);
}

function zip(a: number[], b: number[]): MetricValue[] {
  return a.map((x, i) => [x, b[i]!] as [number, number]);
}
