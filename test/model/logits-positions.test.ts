import assert from "node:assert/strict";
import { test } from "node:test";
import { grad, numpy as np } from "@jax-js/jax";
import { ConfigError } from "../../src/errors.js";
import { lossPositions } from "../../src/eval/logprobs.js";
import { paddedVocab } from "../../src/model/unembed.js";
import { readF32Sync } from "../../src/tensor/own.js";
import { maxAbsDiff, tinyModel, tokenRows, type Variant } from "./helpers.js";

const mask = [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]];
// Row 0 asks for an end, a middle and a repeat; row 1 stays inside its real tokens.
const positions = [[5, 2, 2], [0, 3, 1]];

for (const variant of ["gpt2", "llama", "gemma2"] as Variant[]) {
  test(`${variant}: logits at listed positions are those columns of the full logits, padded or not, with hooks or started late`, () => {
    const model = tinyModel(variant);
    const tokens = tokenRows(2, 6, model.config.vocabSize);
    for (const paddedLogits of [false, true]) {
      const V = paddedLogits ? paddedVocab(model.config.vocabSize) : model.config.vocabSize;
      const full = readF32Sync(model.forward(tokens, { attentionMask: mask, paddedLogits }).logits!);
      const { logits } = model.forward(tokens, { attentionMask: mask, paddedLogits, logitsPositions: positions });
      assert.deepEqual(logits!.shape, [2, 3, V]);
      const got = readF32Sync(logits!);
      const want = new Float32Array(2 * 3 * V);
      positions.forEach((row, b) => row.forEach((t, p) => want.set(full.subarray((b * 6 + t) * V, (b * 6 + t + 1) * V), (b * 3 + p) * V)));
      assert.ok(maxAbsDiff(got, want) < 1e-5, `paddedLogits ${paddedLogits}: max |Δ| ${maxAbsDiff(got, want)}`);
    }
    // The same through the eager paths a loss takes: a hook, and a pass resumed after block 0.
    const hooked = readF32Sync(model.forward(tokens, { attentionMask: mask, hooks: { "blocks.0.hook_resid_post": (x) => x.add(0.25) } }).logits!);
    const V = model.config.vocabSize;
    const { cache } = model.forward(tokens, { attentionMask: mask, cache: ["blocks.0.hook_resid_post"] });
    const late = readF32Sync(model.forward(tokens, { attentionMask: mask, logitsPositions: positions, startFrom: { layer: 1, resid: cache["blocks.0.hook_resid_post"]!.add(0.25) } }).logits!);
    positions.forEach((row, b) =>
      row.forEach((t, p) => assert.ok(maxAbsDiff(late.subarray((b * 3 + p) * V, (b * 3 + p + 1) * V), hooked.subarray((b * 6 + t) * V, (b * 6 + t + 1) * V)) < 1e-5)),
    );
    model.dispose();
  });
}

test("the gradient of a loss on the listed positions equals the gradient of the same loss read from the full logits", () => {
  const model = tinyModel("llama");
  const tokens = tokenRows(2, 6, model.config.vocabSize);
  const V = model.config.vocabSize;
  const d = model.config.dModel;
  const pick = new Float32Array(2 * 6 * V);
  const weights = [[1, -2, 0.5], [3, 1, -1]];
  // The same weighted sum of logits, once over [2, 3, V] and once scattered onto [2, 6, V].
  const w3 = new Float32Array(2 * 3 * V);
  positions.forEach((row, b) => row.forEach((t, p) => {
    for (let v = 0; v < V; v++) {
      const c = weights[b]![p]! * Math.sin(v + p);
      w3[(b * 3 + p) * V + v] = c;
      pick[(b * 6 + t) * V + v] += c;
    }
  }));
  const delta0 = np.array(Float32Array.from({ length: 2 * 6 * d }, (_, i) => 0.1 * Math.cos(i))).reshape([2, 6, d]);
  const lossVia = (logitsPositions: number[][] | undefined, w: Float32Array, shape: number[]) => (delta: ReturnType<typeof np.array>) => {
    const { logits, cache } = model.forward(tokens, { attentionMask: mask, hooks: { "blocks.0.hook_resid_post": (x) => x.add(delta) }, ...(logitsPositions ? { logitsPositions } : {}) });
    for (const a of Object.values(cache)) a.dispose();
    return logits!.mul(np.array(w).reshape(shape)).sum();
  };
  const gListed = readF32Sync(grad(lossVia(positions, w3, [2, 3, V]))(delta0.ref));
  const gFull = readF32Sync(grad(lossVia(undefined, pick, [2, 6, V]))(delta0));
  assert.ok(maxAbsDiff(gListed, gFull) < 1e-4, `max |Δ| ${maxAbsDiff(gListed, gFull)}`);
  assert.ok(Math.max(...gFull.map(Math.abs)) > 1e-3, "the gradient is not trivially zero");
  model.dispose();
});

test("logitsPositions lists are checked: rows, equal lengths, positions inside the pass", () => {
  const model = tinyModel("gpt2");
  const tokens = tokenRows(2, 4, model.config.vocabSize);
  const bad: [unknown, RegExp][] = [
    [[[1]], /1 rows for a batch of 2/],
    [[[1, 2], [3]], /row 1 has 1 positions, row 0 has 2/],
    [[[], []], /no position for row 0/],
    [[[0], [4]], /row 1: position 4 is outside 0…3/],
    [[[0], [1.5]], /position 1.5/],
    ["first", /must be "all", "last" or positions per row/],
  ];
  for (const [lp, why] of bad) {
    assert.throws(() => model.forward(tokens, { logitsPositions: lp as never }), (e: unknown) => e instanceof ConfigError && why.test(e.message) && /logitsPositions/.test(e.message), JSON.stringify(lp));
  }
  model.dispose();
});

test("lossPositions: dense [rows × T] targets and weights become each row's scored positions, padded with weight 0", () => {
  // Row 0 scores positions 1 and 3, row 1 scores none, row 2 scores position 0 only.
  const targets = Int32Array.from([0, 7, 0, 9, 5, 5, 5, 5, 4, 0, 0, 0]);
  const weights = Float32Array.from([0, 0.5, 0, 0.5, 0, 0, 0, 0, 1, 0, 0, 0]);
  const at = lossPositions(targets, weights, 3, 4);
  assert.equal(at.P, 2);
  assert.deepEqual(at.positions, [[1, 3], [0, 0], [0, 0]]);
  assert.deepEqual([...at.targets], [7, 9, 0, 0, 4, 0]);
  assert.deepEqual([...at.weights], [0.5, 0.5, 0, 0, 1, 0]);
});
