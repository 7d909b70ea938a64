/**
 * Build a report's MetricSummary from per-seed (or per-case) values: mean, std (ddof = 1), n and
 * a confidence interval for the mean — a seeded BCa bootstrap (scipy.stats.bootstrap's default
 * method) or Student's t interval mean ± t_{n−1} · s/√n. The method is recorded in `ciMethod`.
 */
import { bootstrapMeanCI } from "../../analysis/bootstrap.js";
import { mean, std } from "../../analysis/descriptive.js";
import { oneSampleTTest } from "../../analysis/ttest.js";
import type { MetricSummary } from "./types.js";

export interface SummarizeOptions {
  /** "bca" (default) or "t". */
  ci?: "bca" | "t";
  level?: number;
  /** Bootstrap seed (default 0) and resamples (default 9999). */
  seed?: number;
  nResamples?: number;
  definition?: string;
  version?: string;
  group?: string;
}

export function summarizeMetric(name: string, values: readonly number[], opts: SummarizeOptions = {}): MetricSummary {
  const n = values.length;
  const level = opts.level ?? 0.95;
  const base: MetricSummary = { name, mean: mean(values), n, definition: opts.definition, version: opts.version, group: opts.group };
  if (n < 2) return base;
  const s = std(values);
  const out: MetricSummary = { ...base, std: s, ciLevel: level };
  if (s === 0) return { ...out, ciLow: base.mean, ciHigh: base.mean, ciMethod: "all values equal" };
  if ((opts.ci ?? "bca") === "t") {
    const t = oneSampleTTest(values, 0, level);
    return { ...out, ciLow: t.ci[0], ciHigh: t.ci[1], ciMethod: `Student t (df ${n - 1})` };
  }
  const nResamples = opts.nResamples ?? 9999;
  const b = bootstrapMeanCI(values, { seed: opts.seed ?? 0, nResamples, level, method: "BCa" });
  return { ...out, ciLow: b.low, ciHigh: b.high, ciMethod: `BCa bootstrap (${nResamples} resamples, seed ${opts.seed ?? 0})` };
}
