/**
 * Steering during KV-cached generation equals steering without the cache, token for token
 * (issue 7, acceptance): the "after-prompt" mask must follow absolute positions across decoding
 * steps (the first steered position is the last prompt token), in a left-padded batch too, and DAC's
 * per-step α must be the same whether each step recomputes the sequence or extends the caches.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { generate } from "../../src/model/generate.js";
import { residHook, steerModel, steeringPatch } from "../../src/steer/apply.js";
import { dacGenerate } from "../../src/steer/dac.js";
import { fitContrastVectors, memorySource } from "../../src/steer/fit.js";
import { abItems, tinySteerModel } from "./helpers.js";

const PROMPTS = ["User : the cat is good ? Answer :", "User : two dog", "the mat"];

test("CAA steering: KV-cached generation == full recomputation, token for token (batch, both position modes)", async () => {
  const model = tinySteerModel();
  const v = (await fitContrastVectors(model, abItems(12), [1], "caa", memorySource(model), "t"))[1]!;
  const plain = await generate(model, PROMPTS, { maxNewTokens: 8, eosTokenId: null });
  for (const positions of ["after-prompt", "all"] as const) {
    for (const alpha of [3, -3]) {
      const steered = steerModel(model, steeringPatch({ vectors: { [residHook(1)]: v }, alpha, positions, info: { method: "caa" } }));
      const cached = await generate(steered, PROMPTS, { maxNewTokens: 8, eosTokenId: null });
      const full = await generate(steered, PROMPTS, { maxNewTokens: 8, eosTokenId: null, useCache: false });
      assert.deepEqual(cached.tokens, full.tokens, `${positions} α=${alpha}`);
      assert.notDeepEqual(cached.tokens, plain.tokens, `${positions} α=${alpha}: steering changed nothing`);
      // One prompt at a time (no padding) gives the same continuations as the padded batch.
      if (alpha < 0) continue;
      for (const [i, p] of PROMPTS.entries()) {
        assert.deepEqual((await generate(steered, [p], { maxNewTokens: 8, eosTokenId: null })).tokens[0], cached.tokens[i], `${positions} α=${alpha} prompt ${i} alone`);
      }
    }
  }
  model.dispose();
});

test("DAC: KV-cached == recomputed, token for token and α for α", async () => {
  const model = tinySteerModel();
  const v = (await fitContrastVectors(model, abItems(12), [1], "caa", memorySource(model), "t"))[1]!;
  for (const prompt of PROMPTS) {
    const props = [{ hook: residHook(1), vector: v, alphaMax: 4 }, { hook: residHook(2), vector: v, alphaMax: -2 }];
    const a = await dacGenerate(model, prompt, props, { maxNewTokens: 8, eosTokenId: null });
    const b = await dacGenerate(model, prompt, props, { maxNewTokens: 8, eosTokenId: null, useCache: false });
    assert.deepEqual(a.tokens, b.tokens);
    a.alphas.forEach((row, t) => row.forEach((x, p) => assert.ok(Math.abs(x - b.alphas[t]![p]!) < 1e-4, `step ${t} property ${p}: ${x} vs ${b.alphas[t]![p]}`)));
    assert.ok(a.alphas.some((r) => r[0]! > 0) && a.alphas.every((r) => r[0]! <= 4 && r[1]! <= 0 && r[1]! >= -2), JSON.stringify(a.alphas));
  }
  model.dispose();
});
