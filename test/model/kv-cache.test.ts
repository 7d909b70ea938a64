import assert from "node:assert/strict";
import { test } from "node:test";
import { disposeTree, readF32Sync } from "../../src/tensor/own.js";
import type { KVCache } from "../../src/model/types.js";
import { maxAbsDiff, rowSlice, tinyModel, tokenRows, type Variant } from "./helpers.js";

// mistral's window (3) is shorter than the sequence, so the cached path must apply the window too.
for (const variant of ["gpt2", "llama", "mistral", "parallel", "gemma2", "gptj"] as Variant[]) {
  test(`${variant}: decoding with the KV cache equals the full forward`, () => {
    const model = tinyModel(variant);
    const V = model.config.vocabSize;
    const tokens = tokenRows(2, 9, V);
    const full = readF32Sync(model.forward(tokens).logits!);

    // Prefix of 4, then chunks of 1, 3 and 1 tokens.
    const first = model.forward(tokens.map((r) => r.slice(0, 4)), { returnKV: true });
    assert.ok(maxAbsDiff(readF32Sync(first.logits!), tokens.flatMap((_, b) => [...rowSlice(full, 9, V, b, 0, 4)])) < 1e-5);
    let kv: KVCache = first.kv!;
    assert.equal(kv.length, 4);
    assert.deepEqual(kv.layers[0]!.k.shape, [2, model.config.nKVHeads, 4, model.config.dHead]);
    let at = 4;
    for (const step of [1, 3, 1]) {
      const out = model.forward(tokens.map((r) => r.slice(at, at + step)), { kv });
      kv = out.kv!;
      const got = readF32Sync(out.logits!);
      for (let b = 0; b < 2; b++) {
        const diff = maxAbsDiff(got.slice(b * step * V, (b + 1) * step * V), rowSlice(full, 9, V, b, at, at + step));
        assert.ok(diff < 1e-5, `${variant} step at ${at}: ${diff}`);
      }
      at += step;
    }
    assert.equal(kv.length, 9);
    disposeTree(kv.layers);
    model.dispose();
  });
}

test("KV decoding of a left-padded batch equals each row decoded alone", () => {
  const model = tinyModel("llama");
  const V = model.config.vocabSize;
  const a = [5, 9, 14, 3, 7];
  const b = [11, 2, 8]; // left-padded by 2
  const mask = [[1, 1, 1, 1, 1], [0, 0, 1, 1, 1]];
  const first = model.forward([a.slice(0, 3), [0, 0, b[0]!]], { attentionMask: mask.map((r) => r.slice(0, 3)), returnKV: true });
  first.logits!.dispose();
  const next = [[a[3]!], [b[1]!]];
  const out = model.forward(next, { kv: first.kv!, attentionMask: [[1], [1]] });
  const got = readF32Sync(out.logits!);
  disposeTree(out.kv!.layers);
  const aloneA = readF32Sync(model.forward([a.slice(0, 4)]).logits!);
  const aloneB = readF32Sync(model.forward([b.slice(0, 2)]).logits!);
  assert.ok(maxAbsDiff(got.slice(0, V), aloneA.slice(3 * V, 4 * V)) < 1e-5);
  assert.ok(maxAbsDiff(got.slice(V, 2 * V), aloneB.slice(1 * V, 2 * V)) < 1e-5);
  model.dispose();
});

// kvPadTo: the cache keeps room for later positions (zeros, masked), so steps keep their shapes and
// unhooked steps run compiled. Padding to 4 makes the 9-token run grow the cache twice (4 → 8 → 12).
for (const variant of ["gpt2", "llama", "mistral", "gemma2", "gptj"] as Variant[]) {
  test(`${variant}: decoding with a padded KV cache (kvPadTo) equals the full forward, compiled and hooked`, () => {
    const model = tinyModel(variant);
    const V = model.config.vocabSize;
    const tokens = tokenRows(2, 9, V);
    const full = readF32Sync(model.forward(tokens).logits!);
    for (const hooked of [false, true]) {
      // An identity hook forces the eager path; without hooks the steps go through jit.
      const hooks = hooked ? { "blocks.0.hook_resid_post": (x: import("../../src/model/types.js").Arr) => x } : undefined;
      const first = model.forward(tokens.map((r) => r.slice(0, 3)), { returnKV: true, kvPadTo: 4, hooks });
      first.logits!.dispose();
      let kv: KVCache = first.kv!;
      assert.equal(kv.padTo, 4);
      assert.deepEqual(kv.layers[0]!.k.shape, [2, model.config.nKVHeads, 4, model.config.dHead]);
      let at = 3;
      for (const step of [1, 1, 2, 1, 1]) {
        const out = model.forward(tokens.map((r) => r.slice(at, at + step)), { kv, hooks });
        kv = out.kv!;
        const got = readF32Sync(out.logits!);
        for (let b = 0; b < 2; b++) {
          const diff = maxAbsDiff(got.slice(b * step * V, (b + 1) * step * V), rowSlice(full, 9, V, b, at, at + step));
          assert.ok(diff < 1e-5, `${variant} ${hooked ? "hooked" : "compiled"} step at ${at}: ${diff}`);
        }
        at += step;
        assert.equal(kv.length, at);
        assert.equal(kv.layers[0]!.k.shape[2], Math.ceil(at / 4) * 4);
      }
      disposeTree(kv.layers);
    }
    model.dispose();
  });
}

test("logitsPositions 'last' and paddedLogits: the same numbers as the full logits", () => {
  for (const variant of ["gpt2", "gemma2", "gptj"] as Variant[]) {
    const model = tinyModel(variant);
    const V = model.config.vocabSize;
    const Vp = Math.ceil(V / 64) * 64;
    const tokens = tokenRows(2, 5, V);
    for (const jit of [true, false]) {
      const opts = jit ? {} : { cache: ["hook_embed"] }; // a cache request forces the eager path
      const r = model.forward(tokens, opts);
      disposeTree(r.cache);
      const full = readF32Sync(r.logits!);
      const last = model.forward(tokens, { ...opts, logitsPositions: "last" });
      disposeTree(last.cache);
      assert.deepEqual(last.logits!.shape, [2, 1, V]);
      const gotLast = readF32Sync(last.logits!);
      for (let b = 0; b < 2; b++) assert.ok(maxAbsDiff(gotLast.slice(b * V, (b + 1) * V), rowSlice(full, 5, V, b, 4, 5)) < 1e-5);
      const padded = model.forward(tokens, { ...opts, paddedLogits: true });
      disposeTree(padded.cache);
      assert.deepEqual(padded.logits!.shape, [2, 5, Vp]);
      const gotPad = readF32Sync(padded.logits!);
      for (let row = 0; row < 10; row++) {
        assert.ok(maxAbsDiff(gotPad.slice(row * Vp, row * Vp + V), full.slice(row * V, (row + 1) * V)) < 1e-5, `${variant} row ${row}`);
        for (let v = V; v < Vp; v++) assert.equal(gotPad[row * Vp + v], -1e9);
      }
    }
    model.dispose();
  }
});
