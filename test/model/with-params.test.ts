import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np } from "@jax-js/jax";
import { ConfigError } from "../../src/errors.js";
import { paramCount } from "../../src/model/model.js";
import { paramSpecs } from "../../src/model/param-shapes.js";
import { readF32Sync } from "../../src/tensor/own.js";
import { maxAbsDiff, peek, tinyModel, tokenRows } from "./helpers.js";

test("withParams gives a changed model and leaves the original untouched, before and after disposal", () => {
  const model = tinyModel("gpt2");
  const tokens = tokenRows(1, 5, model.config.vocabSize);
  const before = readF32Sync(model.forward(tokens).logits!);
  const W = model.params["blocks.1.mlp.W_out"]!;
  const Wbefore = peek(W);
  const edited = model.withParams({ "blocks.1.mlp.W_out": W.ref.mul(3) });
  const after = readF32Sync(edited.forward(tokens).logits!);
  assert.ok(maxAbsDiff(before, after) > 1e-3, "the edit changes the logits");
  assert.ok(maxAbsDiff(readF32Sync(model.forward(tokens).logits!), before) === 0, "original logits unchanged");
  assert.deepEqual(peek(model.params["blocks.1.mlp.W_out"]!), Wbefore);
  // Unchanged parameters are shared by reference, and disposing either model keeps the other working.
  edited.dispose();
  assert.ok(maxAbsDiff(readF32Sync(model.forward(tokens).logits!), before) === 0);
  const again = model.withParams({});
  model.dispose();
  assert.ok(maxAbsDiff(readF32Sync(again.forward(tokens).logits!), before) === 0);
  again.dispose();
  assert.throws(() => again.forward(tokens), /disposed/);
});

test("withParams rejects a wrongly shaped parameter; paramCount counts every scalar", () => {
  const model = tinyModel("llama");
  assert.throws(() => model.withParams({ "blocks.0.mlp.W_out": np.zeros([3, 3]) }), ConfigError);
  const c = model.config;
  const expected = paramSpecs(c).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  assert.equal(paramCount(model), expected);
  // Llama: no biases, untied, GQA K/V of n_kv_heads · d_head columns.
  const perLayer = 2 * c.dModel + c.dModel * c.nHeads * c.dHead * 2 + c.dModel * c.nKVHeads * c.dHead * 2 + 3 * c.dModel * c.dMlp;
  assert.equal(expected, 2 * c.vocabSize * c.dModel + c.nLayers * perLayer + c.dModel);
  model.dispose();
});

test("apply(params) with the model's own parameters equals forward, and consumes its params", () => {
  const model = tinyModel("llama");
  const tokens = tokenRows(2, 4, model.config.vocabSize);
  const a = readF32Sync(model.forward(tokens).logits!);
  const p = Object.fromEntries(Object.entries(model.params).map(([k, v]) => [k, v.ref]));
  const b = readF32Sync(model.apply(p, tokens).logits!);
  assert.ok(maxAbsDiff(a, b) < 1e-5);
  assert.equal(model.params["embed.W_E"]!.refCount, 1);
  // A rejected call (unknown hook) leaves no extra references behind.
  assert.throws(() => model.forward(tokens, { cache: ["nope"] }));
  const before = Object.values(model.params).map((a) => a.refCount);
  assert.throws(() => model.forward(tokens, { stopAt: "nope" }));
  assert.deepEqual(Object.values(model.params).map((a) => a.refCount), before);
  model.dispose();
});
