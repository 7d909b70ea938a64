/**
 * Metric definitions and aggregations, as lm-evaluation-harness computes them
 * (lm_eval/api/task.py ConfigurableTask.process_results, lm_eval/api/metrics.py).
 *
 * Multiple choice, from the loglikelihoods ll_i of each choice's continuation:
 *   acc      = [argmax_i ll_i = gold]                       (np.argmax: the first maximum wins ties)
 *   acc_norm = [argmax_i ll_i / len(choice_i) = gold]       (len in characters of the choice text,
 *                                                            without the target delimiter)
 *   p_target = exp(ll_gold) / Σ_i exp(ll_i)                  (the gold choice's probability renormalised
 *                                                            over the choices: CAA's "probability of the
 *                                                            answer matching behaviour")
 * Loglikelihood (LAMBADA): acc = is_greedy, perplexity = exp(−mean_docs ll).
 * Weighted perplexities (WikiText): word_perplexity = exp(−Σ ll / Σ words),
 * byte_perplexity = exp(−Σ ll / Σ bytes), bits_per_byte = −Σ ll / Σ bytes / ln 2.
 */
import type { Aggregation, MetricDef, MetricValue } from "./types.js";

/** np.argmax: index of the first maximum. */
export function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}

export function multipleChoiceScores(lls: readonly number[], choices: readonly string[], gold: number): { acc: number; acc_norm: number; p_target: number } {
  const norm = lls.map((ll, i) => ll / choices[i]!.length);
  const m = Math.max(...lls);
  const z = lls.reduce((s, ll) => s + Math.exp(ll - m), 0);
  return {
    acc: argmax(lls) === gold ? 1 : 0,
    acc_norm: argmax(norm) === gold ? 1 : 0,
    p_target: Math.exp(lls[gold]! - m) / z,
  };
}

export const MC_METRICS: Record<string, MetricDef> = {
  acc: { aggregation: "mean", higherIsBetter: true, definition: "mean of [argmax_i ll_i == gold], ll_i = log p(delimiter + choice_i | prompt) (lm-eval acc)" },
  acc_norm: { aggregation: "mean", higherIsBetter: true, definition: "mean of [argmax_i ll_i / len_chars(choice_i) == gold] (lm-eval acc_norm)" },
  p_target: { aggregation: "mean", higherIsBetter: true, definition: "mean of exp(ll_gold) / Σ_i exp(ll_i): the gold choice's probability renormalised over the choices" },
};

/** Reduce per-document values to the task's number. */
export function aggregate(agg: Aggregation, values: readonly MetricValue[]): number {
  if (values.length === 0) return NaN;
  switch (agg) {
    case "mean": {
      let s = 0;
      for (const v of values) s += v as number;
      return s / values.length;
    }
    case "perplexity": {
      let s = 0;
      for (const v of values) s += v as number;
      return Math.exp(-s / values.length);
    }
    case "weighted_perplexity":
    case "bits_per_byte": {
      let ll = 0;
      let n = 0;
      for (const v of values) {
        const [a, b] = v as [number, number];
        ll += a;
        n += b;
      }
      return agg === "weighted_perplexity" ? Math.exp(-ll / n) : -ll / n / Math.LN2;
    }
  }
}

/** Standard error of a mean-aggregated metric (sample std / √n, as lm-eval's mean_stderr); NaN otherwise. */
export function stderr(agg: Aggregation, values: readonly MetricValue[]): number {
  if (agg !== "mean" || values.length < 2) return NaN;
  const xs = values as number[];
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  const v = xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
  return Math.sqrt(v / xs.length);
}
