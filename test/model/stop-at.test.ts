import assert from "node:assert/strict";
import { test } from "node:test";
import { disposeTree, readF32Sync } from "../../src/tensor/own.js";
import { maxAbsDiff, tinyModel, tokenRows } from "./helpers.js";

test("stopAt returns the cache up to that point, no logits, and runs no later hooks", () => {
  const model = tinyModel("llama");
  const tokens = tokenRows(2, 5, model.config.vocabSize);
  const names = ["blocks.0.hook_resid_post", "blocks.1.attn.hook_q", "blocks.1.hook_resid_post"];
  const full = model.forward(tokens, { cache: names });
  let late = 0;
  const early = model.forward(tokens, {
    cache: names,
    stopAt: "blocks.1.attn.hook_q",
    hooks: { "blocks.1.mlp.hook_post": (x) => (late++, x), "blocks.1.hook_resid_post": (x) => (late++, x) },
  });
  assert.equal(early.logits, undefined);
  assert.equal(late, 0);
  assert.deepEqual(Object.keys(early.cache).sort(), names.slice(0, 2).sort());
  for (const n of names.slice(0, 2)) {
    assert.ok(maxAbsDiff(readF32Sync(early.cache[n]!), readF32Sync(full.cache[n]!)) < 1e-6, n);
  }
  full.cache[names[2]!]!.dispose();
  full.logits!.dispose();
  model.dispose();
});

test("stopAt with a KV cache returns no cache and releases the consumed one", () => {
  const model = tinyModel("gpt2");
  const first = model.forward([[1, 2, 3]], { returnKV: true });
  first.logits!.dispose();
  const out = model.forward([[4]], { kv: first.kv!, stopAt: "blocks.0.hook_resid_post", cache: ["blocks.0.hook_resid_post"] });
  assert.equal(out.kv, undefined);
  assert.equal(out.logits, undefined);
  assert.deepEqual(out.cache["blocks.0.hook_resid_post"]!.shape, [1, 1, model.config.dModel]);
  // The consumed cache's arrays are freed (refcount 0), including the layer the pass never reached.
  assert.equal(first.kv!.layers[1]!.k.refCount, 0);
  assert.equal(first.kv!.layers[0]!.k.refCount, 0);
  disposeTree(out.cache);
  model.dispose();
});
