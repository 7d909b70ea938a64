/**
 * generate() and loglikelihood() on the real forward pass (createModel + randomParams, a tiny
 * GPT-2), where the KV cache, left-padding masks and position ids are model/forward.ts's own.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loglikelihood, encodePair } from "../../src/eval/logprobs.js";
import { gpt2 } from "../../src/model/families/gpt2.js";
import { generate } from "../../src/model/generate.js";
import { createModel } from "../../src/model/model.js";
import { randomParams } from "../../src/model/random-params.js";
import { argmax } from "../../src/model/sampling.js";
import type { Hook, Model } from "../../src/model/types.js";
import { readF32 } from "../../src/tensor/own.js";
import { fakeTokenizer } from "../eval/fake-model.js";

async function tinyGpt2(): Promise<Model> {
  const tok = fakeTokenizer();
  const raw = { model_type: "gpt2", vocab_size: tok.vocabSize, n_embd: 32, n_layer: 2, n_head: 4, n_positions: 64, bos_token_id: tok.bosId, eos_token_id: tok.eosId };
  const config = gpt2.parseConfig(raw, "config.json");
  // Large weights: peaked logits, so greedy choices are far from ties and float noise.
  return createModel(config, randomParams(config, 11, { std: 0.3, biasStd: 0.1, normStd: 0.1 }), tok);
}

const PROMPTS = ["the cat sat", "a", "hello world!", "x y"];

test("real forward: KV-cached greedy == no-cache greedy == one prompt at a time == by hand", async () => {
  const model = await tinyGpt2();
  const opts = { maxNewTokens: 8, eosTokenId: null };
  const cached = await generate(model, PROMPTS, opts);
  const plain = await generate(model, PROMPTS, { ...opts, useCache: false });
  assert.deepEqual(cached.tokens, plain.tokens);
  for (let i = 0; i < PROMPTS.length; i++) {
    const single = await generate(model, [PROMPTS[i]!], opts);
    assert.deepEqual(single.tokens[0], cached.tokens[i], `prompt ${i}`);
  }
  // By hand: full forward of the unpadded sequence, argmax of the last row.
  const ids = model.tokenizer.encode(PROMPTS[0]!).ids;
  const out: number[] = [];
  for (let s = 0; s < 8; s++) {
    const { logits } = model.forward([[...ids, ...out]]);
    const flat = await readF32(logits!);
    out.push(argmax(flat.subarray(flat.length - model.config.vocabSize)));
  }
  assert.deepEqual(cached.tokens[0], out);
  assert.ok(new Set(cached.tokens.map((t) => t.join())).size > 1, "outputs should differ between prompts");
  model.dispose();
});

test("real forward: sampling is reproducible per seed", async () => {
  const model = await tinyGpt2();
  const opts = { maxNewTokens: 10, eosTokenId: null, temperature: 1, topP: 0.9 };
  const a = await generate(model, PROMPTS, { ...opts, seed: 3 });
  const b = await generate(model, PROMPTS, { ...opts, seed: 3 });
  const c = await generate(model, PROMPTS, { ...opts, seed: 4 });
  assert.deepEqual(a.tokens, b.tokens);
  assert.notDeepEqual(a.tokens, c.tokens);
  model.dispose();
});

test("real forward: hooks apply during generation (prefill and every cached step)", async () => {
  const model = await tinyGpt2();
  const seen: number[][] = [];
  const record: Hook = (x, ctx) => {
    seen.push(ctx.positions);
    return x;
  };
  const hooks = { "blocks.1.hook_resid_post": record };
  const res = await generate(model, ["the cat"], { maxNewTokens: 4, eosTokenId: null, hooks });
  assert.equal(seen.length, 4); // prefill + 3 decoding steps
  const n = model.tokenizer.encode("the cat").ids.length; // 6: " c" is one token
  assert.deepEqual(seen[0], [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(seen.slice(1), [[n], [n + 1], [n + 2]]);
  assert.equal(res.tokens[0]!.length, 4);
  model.dispose();
});

test("real forward: loglikelihood (batched, right-padded) equals full-logit log-softmax", async () => {
  const model = await tinyGpt2();
  const reqs = [
    { context: "the cat", continuation: " sat down" },
    { context: "a ", continuation: "b" },
    { context: "hello world", continuation: "!" },
  ];
  const res = await loglikelihood(model, reqs, { batchSize: 3 });
  for (let i = 0; i < reqs.length; i++) {
    const p = encodePair(model.tokenizer, reqs[i]!.context, reqs[i]!.continuation);
    const { logits } = model.forward([[...p.context, ...p.continuation]]);
    const flat = await readF32(logits!);
    const V = model.config.vocabSize;
    let sum = 0;
    let greedy = true;
    p.continuation.forEach((tok, k) => {
      const row = flat.subarray((p.context.length - 1 + k) * V, (p.context.length + k) * V);
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
      assert.ok(Math.abs(res[i]!.logprobs[k]! - (row[tok]! - lse)) < 1e-4, `req ${i} token ${k}`);
      sum += row[tok]! - lse;
      if (argmax(row) !== tok) greedy = false;
    });
    assert.ok(Math.abs(res[i]!.sum - sum) < 1e-4);
    assert.equal(res[i]!.isGreedy, greedy);
  }
  model.dispose();
});
