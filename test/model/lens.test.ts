/** model/lens.ts: next-token top-k, the logit lens and attention patterns against the forward pass. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { attentionPatterns, logitLens, topK, topNextTokens } from "../../src/model/lens.js";
import { softmax } from "../../src/model/sampling.js";
import { readF32 } from "../../src/tensor/own.js";
import { maxAbsDiff, tinyModel, type Variant } from "./helpers.js";

const IDS = [5, 17, 3, 42, 8, 11];

test("topK orders by probability, lower id first on ties, and keeps k", () => {
  const model = tinyModel("llama");
  const probs = [0.1, 0.3, 0.05, 0.3, 0.25];
  assert.deepEqual(topK(model, probs, 3).map((t) => t.id), [1, 3, 4]);
  assert.deepEqual(topK(model, probs, 10).map((t) => t.id), [1, 3, 4, 0, 2]);
  model.dispose();
});

// gemma2 has a final soft-cap and (1 + w) norms, gpt2 learned positions, biases and LayerNorm.
for (const variant of ["llama", "gpt2", "gemma2"] as Variant[]) {
  test(`${variant}: the logit lens's last row is the model's own next-token distribution`, async () => {
    const model = tinyModel(variant);
    const lens = await logitLens(model, IDS, 3);
    assert.equal(lens.points.length, model.config.nLayers + 1);
    assert.equal(lens.top.length, lens.points.length);
    const { logits } = model.forward([IDS]);
    const flat = await readF32(logits!);
    const V = model.config.vocabSize;
    for (let t = 0; t < IDS.length; t++) {
      const probs = softmax(flat.subarray(t * V, (t + 1) * V));
      const row = lens.top.at(-1)![t]!;
      assert.deepEqual(row.map((x) => x.id), topK(model, probs, 3).map((x) => x.id));
      assert.ok(maxAbsDiff(row.map((x) => x.prob), row.map((x) => probs[x.id]!)) < 1e-6);
    }
    // Earlier rows differ: the stream has not finished computing.
    assert.notDeepEqual(lens.top[0]!.map((r) => r[0]!.prob), lens.top.at(-1)!.map((r) => r[0]!.prob));
    const next = await topNextTokens(model, IDS, 3);
    assert.deepEqual(next, lens.top.at(-1)!.at(-1));
    model.dispose();
  });
}

test("attention patterns are causal and each query row sums to 1", async () => {
  const model = tinyModel("llama");
  const { layers, nHeads, tokens } = await attentionPatterns(model, IDS);
  const T = IDS.length;
  assert.equal(tokens.length, T);
  assert.equal(layers.length, model.config.nLayers);
  for (const pattern of layers) {
    assert.equal(pattern.length, nHeads * T * T);
    for (let h = 0; h < nHeads; h++) {
      for (let q = 0; q < T; q++) {
        const row = pattern.subarray((h * T + q) * T, (h * T + q + 1) * T);
        assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
        for (let k = q + 1; k < T; k++) assert.equal(row[k], 0);
      }
    }
  }
  model.dispose();
});
