import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np } from "@jax-js/jax";
import { encodePair, loglikelihood, loglikelihoodTokens, tokenLogprobs } from "../../src/eval/logprobs.js";
import { readF32, readI32 } from "../../src/tensor/own.js";
import { Rng } from "../../src/util/rng.js";
import { fakeModel } from "./fake-model.js";

/** Manual reference: full logits of the unpadded sequence, float64 log-softmax per position. */
async function manual(ctx: number[], cont: number[]) {
  const model = fakeModel();
  const seq = [...ctx, ...cont];
  const { logits } = model.forward([seq]);
  const V = model.config.vocabSize;
  const flat = await readF32(logits!);
  const lps: number[] = [];
  let greedy = true;
  cont.forEach((tok, k) => {
    const row = flat.subarray((ctx.length - 1 + k) * V, (ctx.length + k) * V);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    lps.push(row[tok]! - lse);
    if (row.indexOf(max) !== tok) greedy = false;
  });
  return { lps, greedy };
}

test("encodePair moves trailing context whitespace into the continuation (lm-eval _encode_pair)", () => {
  const tok = fakeModel().tokenizer;
  const enc = (s: string) => tok.encode(s).ids;
  // " c" is one merged token: encode("the ") + encode("cat") would split it.
  const p = encodePair(tok, "the ", "cat");
  assert.deepEqual(p.context, enc("the"));
  assert.deepEqual(p.continuation, enc(" cat"));
  assert.equal(p.continuation.length, 3);
  // No trailing whitespace: whole-minus-context.
  const q = encodePair(tok, "the", " cat");
  assert.deepEqual(q, p);
  // Empty context conditions on BOS.
  const r = encodePair(tok, "", "cat");
  assert.deepEqual(r, { context: [tok.bosId], continuation: enc("cat") });
});

test("loglikelihood matches a manual computation from full logits, batched, any order", async () => {
  const model = fakeModel();
  const reqs = [
    { context: "the cat", continuation: " sat" },
    { context: "a", continuation: "b" },
    { context: "hello ", continuation: "world!" },
    { context: "", continuation: "xyz" },
    { context: "the quick brown fox", continuation: " jumps over" },
  ];
  const res = await loglikelihood(model, reqs, { batchSize: 2 });
  assert.equal(res.length, reqs.length);
  for (let i = 0; i < reqs.length; i++) {
    const pair = encodePair(model.tokenizer, reqs[i]!.context, reqs[i]!.continuation);
    const ref = await manual(pair.context, pair.continuation);
    assert.deepEqual(res[i]!.continuationTokens, pair.continuation);
    assert.equal(res[i]!.logprobs.length, pair.continuation.length);
    res[i]!.logprobs.forEach((lp, k) => assert.ok(Math.abs(lp - ref.lps[k]!) < 1e-4, `req ${i} tok ${k}: ${lp} vs ${ref.lps[k]}`));
    assert.ok(Math.abs(res[i]!.sum - ref.lps.reduce((s, x) => s + x, 0)) < 1e-4);
    assert.equal(res[i]!.isGreedy, ref.greedy);
    assert.ok(res[i]!.logprobs.every((x) => x < 0));
  }
  // Batch size does not change the numbers (right padding is invisible to causal attention).
  const one = await loglikelihood(model, reqs, { batchSize: 1 });
  for (let i = 0; i < reqs.length; i++) {
    one[i]!.logprobs.forEach((lp, k) => assert.ok(Math.abs(lp - res[i]!.logprobs[k]!) < 1e-5));
  }
});

test("isGreedy is true for the model's own greedy continuation", async () => {
  const model = fakeModel();
  const ctx = model.tokenizer.encode("the cat").ids;
  const greedy: number[] = [];
  for (let i = 0; i < 4; i++) {
    const { logits } = model.forward([[...ctx, ...greedy]]);
    const flat = await readF32(logits!);
    const row = flat.subarray(flat.length - model.config.vocabSize);
    greedy.push(row.indexOf(Math.max(...row)));
  }
  const [g, ng] = await loglikelihoodTokens(model, [
    { context: ctx, continuation: greedy },
    { context: ctx, continuation: [...greedy.slice(0, 3), (greedy[3]! + 1) % model.config.vocabSize] },
  ]);
  assert.equal(g!.isGreedy, true);
  assert.equal(ng!.isGreedy, false);
  assert.ok(g!.logprobs[3]! > ng!.logprobs[3]!);
});

test("inputs longer than the context window are cut from the left (lm-eval max_length+1)", async () => {
  const model = fakeModel(); // nCtx 48
  const ctx = Array.from({ length: 60 }, (_, i) => i % 26);
  const cont = [1, 2, 3];
  const [r] = await loglikelihoodTokens(model, [{ context: ctx, continuation: cont }]);
  const kept = [...ctx, ...cont].slice(-49);
  const ref = await manual(kept.slice(0, kept.length - 3), cont);
  r!.logprobs.forEach((lp, k) => assert.ok(Math.abs(lp - ref.lps[k]!) < 1e-4));
  await assert.rejects(loglikelihoodTokens(model, [{ context: [1], continuation: [] }]), /at least one token/);
});

test("tokenLogprobs gathers correctly at a GPT-2-sized vocabulary (ids above 42.7k)", async () => {
  const V = 50257;
  const rng = Rng.forRow(3);
  const data = Float32Array.from({ length: 2 * V }, () => rng.random() * 8 - 4);
  const targets = [[50256], [43000]];
  data[1 * V + 44000] = 9; // argmax of row 1
  const { logprobs, greedy } = tokenLogprobs(np.array(data, { shape: [2, 1, V] }), np.array(targets, { dtype: np.int32 }));
  const lp = await readF32(logprobs);
  const gr = await readI32(greedy);
  for (let b = 0; b < 2; b++) {
    const row = data.subarray(b * V, (b + 1) * V);
    let max = -Infinity;
    for (const x of row) max = Math.max(max, x);
    let s = 0;
    for (const x of row) s += Math.exp(x - max);
    const ref = row[targets[b]![0]!]! - max - Math.log(s);
    assert.ok(Math.abs(lp[b]! - ref) < 1e-4, `${lp[b]} vs ${ref}`);
  }
  assert.equal(gr[1], 44000);
});

test("each row's query position (for retrieval-based edits) is its last context token", async () => {
  const model = fakeModel();
  const seen: number[][] = [];
  const forward = model.forward.bind(model);
  const spy = Object.assign(Object.create(model), {
    forward: (tokens: number[][], options: Parameters<typeof forward>[1] = {}) => (seen.push(options.queryPositions!), forward(tokens, options)),
  });
  // Inputs (context + continuation minus its last token): 3 + 1 = 4 and 5 + 0 = 5 tokens; longest first.
  await loglikelihoodTokens(spy, [
    { context: [1, 2, 3], continuation: [4, 5] },
    { context: [1, 2, 3, 4, 5], continuation: [6] },
  ]);
  assert.deepEqual(seen, [[4, 2]]);
});
