import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../src/util/rng.js";
import {
  argmax,
  checkSamplingOptions,
  chooseToken,
  isSampling,
  sampleIndex,
  softmax,
  topKFilter,
  topPFilter,
  warpLogits,
} from "../../src/model/sampling.js";

const NEG = -Infinity;
const logOf = (ps: number[]) => Float64Array.from(ps, Math.log);

test("argmax returns the first maximum (torch.argmax)", () => {
  assert.equal(argmax([1, 3, 3, 2]), 1);
  assert.equal(argmax([-5]), 0);
  assert.equal(argmax(Float32Array.from([-1, -0.5, -2])), 1);
});

test("top-k keeps the k largest and ties at the k-th value (HF TopKLogitsWarper)", () => {
  assert.deepEqual([...topKFilter(Float64Array.from([1, 5, 3, 4, 2]), 2)], [NEG, 5, NEG, 4, NEG]);
  // HF: indices_to_remove = scores < topk(scores)[..., -1]: both 3s survive for k = 2.
  assert.deepEqual([...topKFilter(Float64Array.from([3, 1, 3, 0]), 2)], [3, NEG, 3, NEG]);
  // k ≥ vocab keeps everything; min_tokens_to_keep raises k.
  assert.deepEqual([...topKFilter(Float64Array.from([1, 2]), 5)], [1, 2]);
  assert.deepEqual([...topKFilter(Float64Array.from([1, 2, 3]), 1, 2)], [NEG, 2, 3]);
});

test("top-p keeps the smallest most-likely set reaching p (HF TopPLogitsWarper)", () => {
  // probs 0.5, 0.3, 0.15, 0.05. Ascending cumsum: 0.05, 0.20, 0.50, 1.0.
  const s = () => logOf([0.15, 0.5, 0.05, 0.3]);
  // p = 0.75: remove cumsum ≤ 0.25 → drop 0.05 and 0.15; keep {0.5, 0.3} (sum 0.8 ≥ 0.75).
  assert.deepEqual([...topPFilter(s(), 0.75)].map((x) => x === NEG), [true, false, true, false]);
  // p = 0.81: only 0.05 has cumsum ≤ 0.19 → keep three tokens.
  assert.deepEqual([...topPFilter(s(), 0.81)].map((x) => x === NEG), [false, false, true, false]);
  // p = 0.45: remove cumsum ≤ 0.55 → {0.05, 0.15, 0.3} removed; the top token alone has 0.5.
  assert.deepEqual([...topPFilter(s(), 0.45)].map((x) => x === NEG), [true, false, true, true]);
  // p = 0: at least one token (min_tokens_to_keep = 1) — the most likely.
  assert.deepEqual([...topPFilter(s(), 0)].map((x) => x === NEG), [true, false, true, true]);
  // min_tokens_to_keep = 3 overrides p = 0.
  assert.deepEqual([...topPFilter(s(), 0, 3)].map((x) => x === NEG), [false, false, true, false]);
  // p = 1 keeps everything.
  assert.ok([...topPFilter(s(), 1)].every((x) => x !== NEG));
});

test("warpers run in HF order: temperature, then top-k, then top-p", () => {
  // logits [2, 1, 0, -1] at T = 0.5 → [4, 2, 0, -2]; top-k 3 drops -2; then top-p 0.9 over
  // softmax([4, 2, 0]) = [0.867, 0.117, 0.016]: ascending cumsum 0.016, 0.133 → drop index 2.
  const w = warpLogits([2, 1, 0, -1], { temperature: 0.5, topK: 3, topP: 0.9 });
  assert.deepEqual([...w], [4, 2, NEG, NEG]);
});

test("softmax is stable and gives −∞ zero mass", () => {
  const p = softmax([1000, 1000, NEG]);
  assert.deepEqual([...p], [0.5, 0.5, 0]);
});

test("sampleIndex inverts the CDF and never picks a zero-probability token", () => {
  const probs = [0.2, 0, 0.5, 0.3];
  assert.equal(sampleIndex(probs, 0), 0);
  assert.equal(sampleIndex(probs, 0.19999), 0);
  assert.equal(sampleIndex(probs, 0.2), 2);
  assert.equal(sampleIndex(probs, 0.69999), 2);
  assert.equal(sampleIndex(probs, 0.7), 3);
  assert.equal(sampleIndex(probs, 0.9999999999), 3);
  assert.equal(sampleIndex([0, 1, 0], 0.9999999999999999), 1);
});

test("the sampler's row streams (Rng.forRow): same seed and row → same numbers; uniform in [0, 1)", () => {
  const a = Rng.forRow(42);
  const b = Rng.forRow(42);
  const xs = Array.from({ length: 1000 }, () => a.random());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.random()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  assert.notDeepEqual(Array.from({ length: 5 }, () => Rng.forRow(43).random()), xs.slice(0, 5));
  assert.notEqual(Rng.forRow(42, 1).random(), Rng.forRow(42, 0).random());
});

test("sampling frequencies follow the warped distribution", () => {
  const rng = Rng.forRow(7);
  const logits = logOf([0.1, 0.6, 0.3]);
  const counts = [0, 0, 0];
  const n = 20000;
  for (let i = 0; i < n; i++) counts[chooseToken(logits, { temperature: 1 }, rng)]!++;
  assert.ok(Math.abs(counts[0]! / n - 0.1) < 0.015, `${counts}`);
  assert.ok(Math.abs(counts[1]! / n - 0.6) < 0.015, `${counts}`);
  // top-k 1 is greedy even when sampling.
  for (let i = 0; i < 50; i++) assert.equal(chooseToken(logits, { temperature: 2, topK: 1 }, rng), 1);
  // top-p 0.65 leaves {0.6, 0.3}: token 0 never appears.
  for (let i = 0; i < 500; i++) assert.notEqual(chooseToken(logits, { topP: 0.65 }, rng), 0);
});

test("greedy vs sampling and option validation", () => {
  assert.equal(isSampling({}), false);
  assert.equal(isSampling({ temperature: 0, topK: 5 }), false);
  assert.equal(isSampling({ temperature: 0.7 }), true);
  assert.equal(isSampling({ topP: 0.9 }), true);
  assert.throws(() => checkSamplingOptions({ temperature: -1 }), /temperature/);
  assert.throws(() => checkSamplingOptions({ topK: 0 }), /topK/);
  assert.throws(() => checkSamplingOptions({ topK: 1.5 }), /topK/);
  assert.throws(() => checkSamplingOptions({ topP: 1.2 }), /topP/);
  assert.throws(() => chooseToken([1, 2], { temperature: 1 }), /Rng/);
});
