import assert from "node:assert/strict";
import { test } from "node:test";
import { disposeTree, readF32Sync } from "../../src/tensor/own.js";
import { maxAbsDiff, peek, rowSlice, tinyModel, tokenRows, type Variant } from "./helpers.js";

for (const variant of ["gpt2", "llama", "mistral", "parallel", "gemma2", "gptj"] as Variant[]) {
  test(`${variant}: left-padded batch rows equal the unpadded rows run alone`, () => {
    const model = tinyModel(variant);
    const V = model.config.vocabSize;
    const rows = tokenRows(3, 7, V).map((r, i) => r.slice(0, 7 - 2 * i)); // lengths 7, 5, 3
    const len = 7;
    const padded = rows.map((r) => [...new Array<number>(len - r.length).fill(0), ...r]);
    const mask = rows.map((r) => [...new Array<number>(len - r.length).fill(0), ...new Array<number>(r.length).fill(1)]);
    const batch = readF32Sync(model.forward(padded, { attentionMask: mask }).logits!);
    rows.forEach((r, b) => {
      const alone = readF32Sync(model.forward([r]).logits!);
      const diff = maxAbsDiff(rowSlice(batch, len, V, b, len - r.length, len), alone);
      assert.ok(diff < 1e-5, `${variant} row ${b}: ${diff}`);
    });
    model.dispose();
  });
}

test("padding keys get zero attention; sliding-window keys outside the window get zero attention", () => {
  const model = tinyModel("mistral"); // window 3
  const mask = [[0, 0, 1, 1, 1, 1, 1]];
  const { cache } = model.forward([[0, 0, 4, 5, 6, 7, 8]], { attentionMask: mask, cache: ["blocks.0.attn.hook_pattern"] });
  const pat = peek(cache["blocks.0.attn.hook_pattern"]!);
  const L = 7;
  for (let h = 0; h < model.config.nHeads; h++) {
    for (let q = 2; q < L; q++) {
      for (let k = 0; k < L; k++) {
        const p = pat[(h * L + q) * L + k]!;
        const visible = k >= 2 && k <= q && q - k < 3;
        if (!visible) assert.equal(p, 0, `head ${h} q ${q} k ${k}`);
        else assert.ok(p > 0);
      }
    }
  }
  disposeTree(cache);
  model.dispose();
});

test("sliding window over a cache with padding inside: the window counts real tokens, not cache slots", async () => {
  const { attentionBiasData, planMask, MASKED } = await import("../../src/model/mask.js");
  // Cached [real, pad, pad, real], then one query (slot 4): the first key is 4 slots back but only
  // 2 real tokens (slots 0 and 3) lie between it and the query.
  const plan = planMask(1, 1, 4, [[1, 0, 0, 1]], undefined);
  const visible = (window: number) => Array.from(attentionBiasData(plan, window).data).map((b) => (b === MASKED ? 0 : 1));
  assert.deepEqual(visible(3), [1, 0, 0, 1, 1], "window 3: the first real key is 2 real tokens back, inside");
  assert.deepEqual(visible(2), [0, 0, 0, 1, 1], "window 2: only the last real key and the query itself");
  assert.deepEqual(plan.positionIds, [[2]], "the query's position counts real tokens too");
});
