import { test } from "node:test";
import assert from "node:assert/strict";
import { bootstrapInterval, bootstrapMeanCI, bootstrapCI, pairedBootstrapDiffCI, bootstrapDistribution } from "../../src/analysis/bootstrap.js";
import { mean } from "../../src/analysis/descriptive.js";

const close = (a: number, b: number, tol: number, what = "") => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

// Integer data: sums are exact, so θ̂ and every replicate are bit-identical to numpy's and ties
// (θ*_b = θ̂, which enter BCa's z₀) are classified the same way.
const x = [21, 34, 19, 56, 44, 30, 28, 61, 33, 40, 22, 39, 50, 15, 36];
const y = [10, 25, 20, 31, 18, 22, 29, 14, 26, 20, 33, 11];

/** The ANSI C LCG, so the same resample indices can be drawn in Python for scipy. */
function* lcg(seed: number) {
  let s = BigInt(seed);
  for (;;) {
    s = (s * 1103515245n + 12345n) % 2147483648n;
    yield Number(s >> 16n);
  }
}
const draw = (g: Generator<number>, xs: number[], idx?: number[]) => {
  const ii = idx ?? xs.map(() => g.next().value! % xs.length);
  return { vals: ii.map((i) => xs[i]!), idx: ii };
};

// Golden values: scipy 1.17.1 scipy.stats.bootstrap(..., n_resamples=0, bootstrap_result=<the same
// replicates>), i.e. scipy's own interval code applied to these replicates (script in the comment
// of each test reproduces the draws with the same LCG).
test("percentile, basic and BCa intervals equal scipy.stats.bootstrap's for the same replicates", () => {
  const g = lcg(42);
  const reps = Array.from({ length: 2000 }, () => mean(draw(g, x).vals));
  const stat = (a: number[]) => mean(a);
  const p = bootstrapInterval([x], stat, reps, { method: "percentile", level: 0.9 });
  close(p.low, 29.996666666666666, 1e-12, "percentile low");
  close(p.high, 40.87, 1e-12, "percentile high");
  const b = bootstrapInterval([x], stat, reps, { method: "basic", level: 0.9 });
  close(b.low, 29.53000000000001, 1e-12, "basic low");
  close(b.high, 40.403333333333336, 1e-12, "basic high");
  const bca = bootstrapInterval([x], stat, reps, { method: "BCa", level: 0.9 });
  close(bca.low, 30.06666666666667, 1e-9, "BCa low");
  close(bca.high, 41.06666666666667, 1e-9, "BCa high");
});

test("two-sample and paired BCa equal scipy's for the same replicates", () => {
  let g = lcg(7);
  const reps2 = Array.from({ length: 1000 }, () => mean(draw(g, x).vals) - mean(draw(g, y).vals));
  const r2 = bootstrapInterval([x, y], (a, b) => mean(a!) - mean(b!), reps2, { method: "BCa" });
  close(r2.low, 5.986463391581539, 1e-9, "2-sample low");
  close(r2.high, 22.05418589811252, 1e-9, "2-sample high");

  const a = x.slice(0, 12);
  g = lcg(3);
  const reps3 = Array.from({ length: 1000 }, () => {
    const { idx } = draw(g, a);
    return mean(idx.map((i) => a[i]! - y[i]!));
  });
  const r3 = bootstrapInterval([a, y], (p, q) => mean(p!.map((v, i) => v - q![i]!)), reps3, { method: "BCa", paired: true });
  close(r3.low, 6.09030547733574, 1e-9, "paired low");
  close(r3.high, 22.748873595797686, 1e-9, "paired high");
});

test("seeded bootstrap converges to scipy's interval (200000 resamples, scipy rng=default_rng(0))", () => {
  // scipy: BCa (29.066666666666666, 42.266666666666666); percentile (28.733333333333334, 41.93333333333333).
  // Different generators, so agreement is up to Monte-Carlo error (~0.1 at this size).
  const bca = bootstrapMeanCI(x, { seed: 1, nResamples: 200000 });
  close(bca.low, 29.067, 0.2, "BCa low");
  close(bca.high, 42.267, 0.2, "BCa high");
  const pct = bootstrapMeanCI(x, { seed: 1, nResamples: 200000, method: "percentile" });
  close(pct.low, 28.733, 0.2, "pct low");
  close(pct.high, 41.933, 0.2, "pct high");
});

test("bootstrap is reproducible per seed and paired CI brackets the mean difference", () => {
  const r1 = bootstrapCI([x], (a) => mean(a), { seed: 5, nResamples: 500 });
  const r2 = bootstrapCI([x], (a) => mean(a), { seed: 5, nResamples: 500 });
  assert.deepEqual(r1, r2);
  const d1 = bootstrapDistribution([x], (a) => mean(a), { seed: 6, nResamples: 50 });
  assert.notDeepEqual(d1, bootstrapDistribution([x], (a) => mean(a), { seed: 5, nResamples: 50 }));
  const a = x.slice(0, 12);
  const pr = pairedBootstrapDiffCI(a, y, { seed: 2, nResamples: 4000 });
  close(pr.estimate, mean(a) - mean(y), 1e-12, "estimate");
  assert.ok(pr.low < pr.estimate && pr.estimate < pr.high);
  close(pr.low, 6.09, 1, "paired low near the scipy value for other replicates");
});
