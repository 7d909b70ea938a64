/**
 * Before/after comparison: McNemar's exact test against scipy-free worked values, the paired
 * bootstrap interval covers the true difference and is paired (it collapses when the change is
 * constant), and the weighted perplexity difference is computed from resampled (ll, count) pairs.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { compareTask, mcnemarExact } from "../../src/eval/compare.js";
import type { TaskResult } from "../../src/eval/evaluate.js";
import type { MetricValue } from "../../src/eval/types.js";
import { aggregate } from "../../src/eval/metrics.js";

function result(values: Record<string, MetricValue[]>, aggs: Record<string, "mean" | "weighted_perplexity">): TaskResult {
  const n = Object.values(values)[0]!.length;
  return {
    task: "t", version: "1", promptFormat: "", fewshot: { n: 0, split: "none", sampler: "none", seed: 0 }, n, size: n,
    metrics: Object.fromEntries(Object.entries(aggs).map(([k, a]) => [k, { aggregation: a, higherIsBetter: a === "mean", definition: "", value: aggregate(a, values[k]!), stderr: NaN }])),
    perDoc: { ids: Array.from({ length: n }, (_, i) => String(i)), values },
  };
}

test("McNemar exact p-values (binomial tail, two-sided)", () => {
  // b = 0, c = 5: 2 · 0.5^5 = 0.0625.
  assert.ok(Math.abs(mcnemarExact(0, 5) - 0.0625) < 1e-12);
  // b = 1, c = 9: 2 · (1 + 10) / 1024 = 0.021484375.
  assert.ok(Math.abs(mcnemarExact(1, 9) - 22 / 1024) < 1e-12);
  assert.equal(mcnemarExact(3, 3), 1);
  assert.equal(mcnemarExact(0, 0), 1);
});

test("a patch that fixes 12 of 40 wrong answers and breaks 1: diff, CI, paired tests", () => {
  const before: number[] = [];
  const after: number[] = [];
  for (let i = 0; i < 100; i++) {
    const b = i < 60 ? 1 : 0;
    before.push(b);
    after.push(i === 0 ? 0 : i >= 60 && i < 72 ? 1 : b);
  }
  const [acc] = compareTask(result({ acc: before }, { acc: "mean" }), result({ acc: after }, { acc: "mean" }), { seed: 1 });
  assert.equal(acc!.before, 0.6);
  assert.equal(acc!.after, 0.71);
  assert.ok(Math.abs(acc!.diff - 0.11) < 1e-12);
  assert.ok(acc!.ci[0] > 0 && acc!.ci[0] < 0.11 && acc!.ci[1] > 0.11 && acc!.ci[1] < 0.25, `CI ${acc!.ci}`);
  assert.deepEqual(acc!.discordant, { worse: 1, better: 12 });
  assert.ok(Math.abs(acc!.pMcNemar! - mcnemarExact(1, 12)) < 1e-15 && acc!.pMcNemar! < 0.01);
  assert.ok(acc!.pTTest! < 0.01);
});

test("pairing: a constant shift has a zero-width interval; weighted perplexities resample (ll, count) pairs", () => {
  const a = Array.from({ length: 30 }, (_, i) => Math.sin(i) * 3);
  const [m] = compareTask(result({ x: a }, { x: "mean" }), result({ x: a.map((v) => v + 0.5) }, { x: "mean" }), { seed: 3 });
  assert.ok(Math.abs(m!.ci[0] - 0.5) < 1e-9 && Math.abs(m!.ci[1] - 0.5) < 1e-9);
  assert.equal(m!.pTTest, undefined, "no t-test when every difference is the same");
  const pa: MetricValue[] = a.map((_, i) => [-(10 + i), 5 + (i % 3)]);
  const pb: MetricValue[] = a.map((_, i) => [-(8 + i), 5 + (i % 3)]);
  const [p] = compareTask(result({ ppl: pa }, { ppl: "weighted_perplexity" }), result({ ppl: pb }, { ppl: "weighted_perplexity" }), { seed: 3 });
  assert.ok(p!.diff < 0 && p!.ci[0] <= p!.diff && p!.diff <= p!.ci[1] && p!.ci[1] < 0, `${p!.diff} ${p!.ci}`);
  assert.equal(p!.pTTest, undefined);
});
