/** Cosine similarity within / between groups (hand vectors) and last-token hidden states (tiny model). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { betweenCosines, cosine, cosineHistogram, lastTokenStates, similarityStats, withinCosines } from "../../src/analysis/similarity.js";
import { initEngine } from "../../src/tensor/engine.js";
import { readF32 } from "../../src/tensor/own.js";
import { tinyWordModel } from "../edit/edit-fixtures.js";
import { renderSvg } from "../../src/lab/report/charts.js";
import { cosineBoxSpec, cosineHistogramSpec, projectionSpec } from "../../src/lab/report/projection-chart.js";
import { pca } from "../../src/analysis/pca.js";

const close = (a: number, b: number, tol: number, what = "") => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);
const r2 = Math.SQRT1_2;

// Group A: e1, e2 and 3(e1 + e2) — cosines 0, 1/√2, 1/√2. Group B: −e1 and −2e1 — cosine 1.
const A = [new Float32Array([1, 0, 0]), new Float32Array([0, 1, 0]), new Float32Array([3, 3, 0])];
const B = [new Float32Array([-1, 0, 0]), new Float32Array([-2, 0, 0])];

test("cosines of hand vectors: orthogonal 0, parallel 1, antiparallel −1, 45° 1/√2", () => {
  close(cosine(A[0]!, A[1]!), 0, 0, "orthogonal");
  close(cosine(B[0]!, B[1]!), 1, 1e-15, "parallel");
  close(cosine(A[0]!, B[0]!), -1, 1e-15, "antiparallel");
  close(cosine(A[0]!, A[2]!), r2, 1e-15, "45°");
  assert.deepEqual(withinCosines(A).map((v) => +v.toFixed(12)), [0, +r2.toFixed(12), +r2.toFixed(12)]);
  assert.deepEqual(betweenCosines(A, B).map((v) => +v.toFixed(12)), [-1, -1, 0, 0, -r2, -r2].map((v) => +v.toFixed(12)));
  assert.throws(() => cosine([0, 0], [1, 0]), /all zeros/);
});

test("similarityStats: within/between mean, std, histogram and a seeded bootstrap CI", () => {
  const s = similarityStats({ A, B }, { bins: 4, seed: 7, nResamples: 500 });
  const a = s.within.A!;
  // values 0, 1/√2, 1/√2: mean √2/3, sample std 1/√6 (deviations −√2/3, √2/6, √2/6).
  assert.equal(a.n, 3);
  close(a.mean, Math.SQRT2 / 3, 1e-12, "mean A");
  close(a.std, 1 / Math.sqrt(6), 1e-12, "std A");
  assert.deepEqual(a.histogram.edges, [-1, -0.5, 0, 0.5, 1]);
  assert.deepEqual(a.histogram.counts, [0, 0, 1, 2]);
  assert.ok(a.ci !== undefined && a.ci.low <= a.mean && a.mean <= a.ci.high && a.ci.low >= 0 && a.ci.high <= r2 + 1e-12, JSON.stringify(a.ci));
  const b = s.within.B!;
  assert.equal(b.n, 1);
  close(b.mean, 1, 1e-12, "mean B");
  assert.ok(Number.isNaN(b.std) && b.ci === undefined, "one pair: no std or CI");
  assert.deepEqual(b.histogram.counts, [0, 0, 0, 1], "cos = 1 falls in the closed last bin");
  assert.equal(s.between.length, 1);
  const ab = s.between[0]!;
  assert.deepEqual([ab.a, ab.b], ["A", "B"]);
  close(ab.summary.mean, -(2 + Math.SQRT2) / 6, 1e-12, "mean A×B");
  assert.deepEqual(ab.summary.histogram.counts, [4, 0, 2, 0]);
  // Same seed → same interval; the interval is a function of the seed.
  assert.deepEqual(similarityStats({ A, B }, { bins: 4, seed: 7, nResamples: 500 }).within.A!.ci, a.ci);
  assert.throws(() => similarityStats({ A, C: [new Float32Array([1, 2])] }), /group 'C' vector 0 has 2 values/);
  assert.throws(() => similarityStats({ A: [] }), /group 'A' is empty/);
  assert.deepEqual(cosineHistogram([-1, 1.0000001, 0.49], 2).counts, [1, 2]);
});

test("lastTokenStates: one vector per prompt at its last real token, the same batched (padded) or alone", async () => {
  await initEngine();
  const model = tinyWordModel(3);
  const hook = "blocks.1.hook_resid_post";
  const prompts = ["Aldo Venn was born in", "Mira Tal", "Oren Sade is the capital of New York"];
  const batched = await lastTokenStates(model, prompts, hook, { batchSize: 3 });
  assert.equal(batched.length, 3);
  for (const [i, p] of prompts.entries()) {
    const ids = model.tokenizer.encode(p).ids;
    const { cache, logits } = model.forward([ids], { cache: [hook] });
    logits?.dispose();
    const full = await readF32(cache[hook]!);
    const d = model.config.dModel;
    const last = full.slice((ids.length - 1) * d, ids.length * d);
    assert.equal(batched[i]!.length, d);
    // Padded and unpadded passes may sum in different orders (different shapes, different kernel tiles): float rounding, relative.
    batched[i]!.forEach((v, k) => close(v, last[k]!, 1e-5 * Math.max(1, Math.abs(last[k]!)), `prompt ${i} dim ${k}`));
  }
  const oneByOne = await lastTokenStates(model, prompts, hook, { batchSize: 1 });
  oneByOne.forEach((v, i) => v.forEach((x, k) => close(x, batched[i]![k]!, 1e-5 * Math.max(1, Math.abs(x)), `batch 1 vs 3, prompt ${i}`)));
  await assert.rejects(lastTokenStates(model, prompts, "blocks.9.hook_resid_post"), /no hook point/);
  await assert.rejects(lastTokenStates(model, ["Aldo", " "], hook), /prompt 1 is empty/);
});

test("projection and cosine-distribution specs render to SVG with one mark per point / bin", async () => {
  const pts = [...A, ...B];
  const groups = ["A", "A", "A", "B", "B"];
  const p = pca(pts, 2);
  const svg = await renderSvg(projectionSpec(p.projection, groups, { method: "PCA", labels: ["e1", "e2", "e1+e2", "-e1", "-2e1"], explainedVarianceRatio: p.explainedVarianceRatio }));
  assert.match(svg, /^<svg/);
  assert.equal((svg.match(/aria-roledescription="point"/g) ?? []).length, 5, "five points");
  assert.match(svg, /PCA 1 \(\d+\.\d% variance\)/);
  assert.match(svg, /label: -2e1/);
  const stats = similarityStats({ A, B }, { bins: 4, nResamples: 200 });
  const hist = await renderSvg(cosineHistogramSpec(stats));
  assert.equal((hist.match(/aria-roledescription="bar"/g) ?? []).length, 12, "3 sets × 4 bins");
  assert.match(hist, /A × B/);
  const box = await renderSvg(cosineBoxSpec(stats));
  assert.equal((box.match(/aria-roledescription="box"/g) ?? []).length, 3, "one box per set");
  assert.match(box, /mean: 0\.4714\d*; set: within A/);
  assert.match(box, /mean: −0\.5690\d*; set: A × B/);
  assert.throws(() => projectionSpec(p.projection, ["A"]), /5 points but 1 group names/);
});
