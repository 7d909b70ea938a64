/** generate() against a tiny deterministic fake Model (test/eval/fake-model.ts). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { firstStop, generate } from "../../src/model/generate.js";
import { argmax } from "../../src/model/sampling.js";
import { readF32 } from "../../src/tensor/own.js";
import { EOS, fakeModel } from "../eval/fake-model.js";

const PROMPTS = ["the cat", "a", "hello world!", "x y z"];

/** Reference greedy decoding: full forward of the unpadded sequence each step, by hand. */
async function manualGreedy(prompt: string, n: number): Promise<number[]> {
  const model = fakeModel();
  const ids = model.tokenizer.encode(prompt).ids;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const { logits } = model.forward([[...ids, ...out]]);
    const flat = await readF32(logits!);
    const V = model.config.vocabSize;
    const tok = argmax(flat.subarray(flat.length - V));
    out.push(tok);
    if (tok === EOS) break;
  }
  return out;
}

test("greedy generation equals a hand-written greedy loop", async () => {
  const model = fakeModel();
  const res = await generate(model, ["the cat"], { maxNewTokens: 8, eosTokenId: null });
  assert.deepEqual(res.tokens[0], await manualGreedy("the cat", 8));
  assert.equal(res.texts[0], model.tokenizer.decode(res.tokens[0]!));
  assert.deepEqual(res.finishReasons, ["length"]);
  assert.equal(res.tokens[0]!.length, 8);
});

test("KV-cached greedy generation equals generation without the cache", async () => {
  const model = fakeModel();
  const a = await generate(model, PROMPTS, { maxNewTokens: 10, eosTokenId: null });
  const b = await generate(model, PROMPTS, { maxNewTokens: 10, eosTokenId: null, useCache: false });
  assert.deepEqual(a.tokens, b.tokens);
  assert.deepEqual(a.texts, b.texts);
});

test("batched (left-padded) generation equals one prompt at a time", async () => {
  const model = fakeModel();
  const batched = await generate(model, PROMPTS, { maxNewTokens: 10, eosTokenId: null });
  for (let i = 0; i < PROMPTS.length; i++) {
    const single = await generate(model, [PROMPTS[i]!], { maxNewTokens: 10, eosTokenId: null });
    assert.deepEqual(batched.tokens[i], single.tokens[0], `prompt ${i}`);
  }
  // The test has teeth: the prompts really differ in length (padding is exercised) and outputs differ.
  assert.notDeepEqual(batched.tokens[0], batched.tokens[1]);
});

test("sampling: same seed → same output, other seed → other output, per-row streams", async () => {
  const model = fakeModel();
  const opts = { maxNewTokens: 12, eosTokenId: null, temperature: 1.5, topK: 20, topP: 0.95 };
  const a = await generate(model, PROMPTS, { ...opts, seed: 5 });
  const b = await generate(model, PROMPTS, { ...opts, seed: 5 });
  const c = await generate(model, PROMPTS, { ...opts, seed: 6 });
  assert.deepEqual(a.tokens, b.tokens);
  assert.notDeepEqual(a.tokens, c.tokens);
  // Row 0's sample does not depend on what else is in the batch.
  const alone = await generate(model, [PROMPTS[0]!], { ...opts, seed: 5 });
  assert.deepEqual(alone.tokens[0], a.tokens[0]);
  // And sampled ≠ greedy (temperature 1.5 over a 59-token vocabulary).
  const greedy = await generate(model, PROMPTS, { maxNewTokens: 12, eosTokenId: null });
  assert.notDeepEqual(a.tokens, greedy.tokens);
});

test("EOS ends a row: EOS kept in tokens, dropped from text; other rows continue", async () => {
  const model = fakeModel(1, 2.5); // EOS made likely
  const res = await generate(model, PROMPTS, { maxNewTokens: 20 });
  assert.ok(res.finishReasons.includes("eos"), `${res.finishReasons}`);
  for (let i = 0; i < PROMPTS.length; i++) {
    const t = res.tokens[i]!;
    if (res.finishReasons[i] === "eos") {
      assert.equal(t.at(-1), EOS);
      assert.equal(t.indexOf(EOS), t.length - 1);
      assert.equal(res.texts[i], model.tokenizer.decode(t.slice(0, -1)));
    } else {
      assert.equal(t.length, 20);
      assert.ok(!t.includes(EOS));
    }
  }
  // Without EOS stopping the same model runs to the limit, and the prefix matches.
  const noEos = await generate(model, PROMPTS, { maxNewTokens: 20, eosTokenId: null });
  for (let i = 0; i < PROMPTS.length; i++) assert.deepEqual(noEos.tokens[i]!.slice(0, res.tokens[i]!.length), res.tokens[i]);
});

test("stop strings end generation and cut the text before the stop string", async () => {
  const model = fakeModel();
  const free = await generate(model, ["the cat"], { maxNewTokens: 16, eosTokenId: null });
  const text = free.texts[0]!;
  assert.ok(text.length >= 6, text);
  const stop = text.slice(3, 5); // a string we know occurs
  const res = await generate(model, ["the cat"], { maxNewTokens: 16, eosTokenId: null, stop: ["zzzz", stop] });
  assert.equal(res.finishReasons[0], "stop");
  assert.equal(res.texts[0], text.slice(0, text.indexOf(stop)));
  // Tokens stop at the step that completed the stop string.
  const gen = res.tokens[0]!;
  assert.ok(model.tokenizer.decode(gen).includes(stop));
  assert.ok(!model.tokenizer.decode(gen.slice(0, -1)).includes(stop));
  assert.equal(firstStop("abcabc", ["c", "b"]), 1);
  assert.equal(firstStop("abc", ["x"]), -1);
});

test("context window and zero budget finish with 'length'", async () => {
  const model = fakeModel();
  const long = "ab".repeat(23); // 46 tokens, nCtx 48 → 2 new tokens fit
  const res = await generate(model, [long, "a"], { maxNewTokens: 10, eosTokenId: null });
  assert.equal(res.tokens[0]!.length, 2);
  assert.deepEqual(res.finishReasons, ["length", "length"]);
  await assert.rejects(generate(model, ["ab".repeat(25)]), /50 tokens, more than the model's context window \(48\)/);
  const none = await generate(model, ["a"], { maxNewTokens: 0 });
  assert.deepEqual(none, { texts: [""], tokens: [[]], finishReasons: ["length"], promptTokens: [[0]] });
});

test("token-id prompts and the empty prompt (starts from BOS)", async () => {
  const model = fakeModel();
  const ids = model.tokenizer.encode("the cat").ids;
  const a = await generate(model, [ids], { maxNewTokens: 5, eosTokenId: null });
  const b = await generate(model, ["the cat"], { maxNewTokens: 5, eosTokenId: null });
  assert.deepEqual(a.tokens, b.tokens);
  const empty = await generate(model, [""], { maxNewTokens: 3, eosTokenId: null });
  assert.deepEqual(empty.promptTokens, [[model.tokenizer.bosId]]);
  await assert.rejects(generate(model, ["a"], { maxNewTokens: -1 }), /maxNewTokens/);
  await assert.rejects(generate(model, ["a"], { topP: 2 }), /topP/);
});
