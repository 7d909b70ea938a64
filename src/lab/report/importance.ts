/**
 * Parameter importance for study reports: a simple variance-based first-order measure, NOT
 * Optuna's default (fANOVA, a random-forest functional ANOVA). For each parameter, over complete
 * trials with a finite value: group the trials by the parameter (categoricals by choice, numbers
 * into up to `bins` equal-count quantile bins), take the correlation ratio
 *   η² = Σ_g n_g (ȳ_g − ȳ)² / Σ_i (y_i − ȳ)²,
 * the share of the objective's variance explained by the parameter's main effect, then normalize
 * so the importances sum to 1 (as Optuna's evaluators do). With few trials per bin η² is biased
 * upward; read it as a ranking, not an effect size.
 */
import type { ParamImportance, ReportTrial } from "./types.js";

export const VARIANCE_IMPORTANCE_METHOD = "variance-based first-order importance (correlation ratio η² over ≤5 quantile bins per parameter, normalized to sum 1; not fANOVA)";

export function varianceImportance(trials: readonly ReportTrial[], bins = 5): ParamImportance[] {
  const done = trials.filter((t) => t.state === "complete" && t.value !== undefined && Number.isFinite(t.value));
  if (done.length < 2) return [];
  const names = [...new Set(done.flatMap((t) => Object.keys(t.params)))].sort();
  const ys = done.map((t) => t.value!);
  const ybar = ys.reduce((s, y) => s + y, 0) / ys.length;
  const sst = ys.reduce((s, y) => s + (y - ybar) ** 2, 0);
  const raw = names.map((param) => {
    const rows = done.filter((t) => t.params[param] !== undefined);
    if (rows.length < 2 || sst === 0) return { param, importance: 0 };
    const groups = groupOf(rows.map((t) => t.params[param]!), bins);
    const sums = new Map<string, { n: number; s: number }>();
    rows.forEach((t, i) => {
      const g = sums.get(groups[i]!) ?? { n: 0, s: 0 };
      g.n++;
      g.s += t.value!;
      sums.set(groups[i]!, g);
    });
    let ssb = 0;
    for (const g of sums.values()) ssb += g.n * (g.s / g.n - ybar) ** 2;
    return { param, importance: ssb / sst };
  });
  const total = raw.reduce((s, r) => s + r.importance, 0);
  return raw.map((r) => ({ param: r.param, importance: total > 0 ? r.importance / total : 0 })).sort((a, b) => b.importance - a.importance);
}

function groupOf(values: readonly (string | number | boolean)[], bins: number): string[] {
  if (!values.every((v) => typeof v === "number")) return values.map((v) => `c:${String(v)}`);
  const nums = values as number[];
  const distinct = [...new Set(nums)].sort((a, b) => a - b);
  if (distinct.length <= bins) return nums.map((v) => `v:${v}`);
  // Equal-count bins by rank.
  const order = nums.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<string>(nums.length);
  order.forEach(([, i], rank) => (out[i] = `b:${Math.floor((rank * bins) / nums.length)}`));
  return out;
}
