import assert from "node:assert/strict";
import { test } from "node:test";
import { loglikelihoodTokens } from "../../src/eval/logprobs.js";
import { loglikelihoodRolling, rollingTokenWindows } from "../../src/eval/rolling.js";
import { readF32 } from "../../src/tensor/own.js";
import { fakeModel } from "./fake-model.js";

test("rolling windows: golden, worked by hand from lm-eval's get_rolling_token_windows", () => {
  const toks = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  // max_seq_len 4: raw windows ([0,1,2,3],[1..4]), ([4,5,6,7],[5..8]), ([6,7,8,9],[9,10]),
  // then make_disjoint_window keeps a[: len(a) − (len(b) − 1)].
  assert.deepEqual(rollingTokenWindows(toks, 0, 4), [
    { context: [0], continuation: [1, 2, 3, 4] },
    { context: [4], continuation: [5, 6, 7, 8] },
    { context: [6, 7, 8], continuation: [9, 10] },
  ]);
  assert.deepEqual(rollingTokenWindows([7, 8], 0, 4), [{ context: [0], continuation: [7, 8] }]);
  assert.deepEqual(rollingTokenWindows([], 0, 4), []);
  // Every token predicted exactly once, each window's input within max_seq_len.
  const long = Array.from({ length: 37 }, (_, i) => i + 1);
  const w = rollingTokenWindows(long, 0, 8);
  assert.deepEqual(w.flatMap((x) => x.continuation), long);
  for (const x of w) assert.ok(x.context.length + x.continuation.length - 1 <= 8);
  assert.throws(() => rollingTokenWindows(long, 0, 8, 0), /contextLen/);
});

test("loglikelihoodRolling: short text = score of the text after the prefix token", async () => {
  const model = fakeModel();
  const text = "the cat sat on the mat";
  const [r] = await loglikelihoodRolling(model, [text]);
  const ids = model.tokenizer.encode(text).ids;
  const [ref] = await loglikelihoodTokens(model, [{ context: [model.tokenizer.bosId!], continuation: ids }]);
  assert.equal(r!.tokens, ids.length);
  assert.ok(Math.abs(r!.sum - ref!.sum) < 1e-4);
});

test("loglikelihoodRolling: long text = sum over windows computed from full logits", async () => {
  const model = fakeModel(); // nCtx 48
  const text = "the quick brown fox jumps over the lazy dog and runs far away into the woods again";
  const ids = model.tokenizer.encode(text).ids;
  assert.ok(ids.length > 48);
  const maxLength = 20;
  const [r] = await loglikelihoodRolling(model, [text, "a b"], { maxLength, batchSize: 3 });
  const V = model.config.vocabSize;
  let sum = 0;
  for (const win of rollingTokenWindows(ids, model.tokenizer.bosId!, maxLength)) {
    const seq = [...win.context, ...win.continuation];
    const { logits } = model.forward([seq.slice(0, -1)]);
    const flat = await readF32(logits!);
    win.continuation.forEach((tok, k) => {
      const pos = win.context.length - 1 + k;
      const row = flat.subarray(pos * V, (pos + 1) * V);
      const max = Math.max(...row);
      sum += row[tok]! - max - Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    });
  }
  assert.equal(r!.tokens, ids.length);
  assert.equal(r!.logprobs.length, ids.length);
  assert.ok(Math.abs(r!.sum - sum) < 1e-3, `${r!.sum} vs ${sum}`);
});
