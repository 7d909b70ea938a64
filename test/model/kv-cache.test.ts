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
