/**
 * Zero-steering guarantee (issue 7, acceptance): α = 0 reproduces the unsteered model exactly —
 * logits bitwise equal and identical greedy generations, with and without the KV cache — for CAA,
 * PCA and DAC. Each check is paired with α ≠ 0 changing the output, so the test can fail.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { generate } from "../../src/model/generate.js";
import { applyPatch } from "../../src/model/patch.js";
import { readF32 } from "../../src/tensor/own.js";
import { residHook, steerModel, steeringPatch } from "../../src/steer/apply.js";
import { dacGenerate } from "../../src/steer/dac.js";
import { fitContrastVectors, memorySource } from "../../src/steer/fit.js";
import type { Model } from "../../src/model/types.js";
import { abItems, tinySteerModel } from "./helpers.js";

const LAYER = 1;
const PROMPTS = ["User : the cat is good ? Answer :", "User : the dog sat on the mat"];

async function logitsOf(model: Model, text: string, promptLength?: number): Promise<Float32Array> {
  const ids = model.tokenizer.encode(text).ids;
  const { logits } = model.forward([ids], promptLength === undefined ? {} : { promptLength });
  return readF32(logits!);
}

function bitwiseEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]);
}

test("α = 0 is the unsteered model, bitwise, for CAA, PCA and DAC, with and without the KV cache", async () => {
  const model = tinySteerModel();
  const items = abItems(12);
  const vectors = {
    caa: (await fitContrastVectors(model, items, [LAYER], "caa", memorySource(model), "t"))[LAYER]!,
    pca: (await fitContrastVectors(model, items, [LAYER], "pca", memorySource(model), "t"))[LAYER]!,
  };
  const base = await logitsOf(model, PROMPTS[0]!, 4);
  const ref = { cached: await generate(model, PROMPTS, { maxNewTokens: 10, eosTokenId: null }), uncached: await generate(model, PROMPTS, { maxNewTokens: 10, eosTokenId: null, useCache: false }) };
  for (const [method, v] of Object.entries(vectors)) {
    for (const positions of ["all", "after-prompt"] as const) {
      const zero = steerModel(model, steeringPatch({ vectors: { [residHook(LAYER)]: v }, alpha: 0, positions, info: { method } }));
      assert.ok(bitwiseEqual(await logitsOf(zero, PROMPTS[0]!, 4), base), `${method}/${positions}: α = 0 logits differ`);
      for (const useCache of [true, false]) {
        const g = await generate(zero, PROMPTS, { maxNewTokens: 10, eosTokenId: null, useCache });
        assert.deepEqual(g.tokens, (useCache ? ref.cached : ref.uncached).tokens, `${method}/${positions}/cache=${useCache}: α = 0 generation differs`);
      }
      // The same patch with α ≠ 0 changes the logits (the check above could fail).
      const on = steerModel(model, steeringPatch({ vectors: { [residHook(LAYER)]: v }, alpha: 4, positions, info: { method } }));
      assert.ok(!bitwiseEqual(await logitsOf(on, PROMPTS[0]!, 4), base), `${method}/${positions}: α = 4 changed nothing`);
    }
    // Through model/patch.ts directly (hooks attached, α = 0 inside): greedy generations still identical.
    const attached = applyPatch(model, steeringPatch({ vectors: { [residHook(LAYER)]: v }, alpha: 0, positions: "all", info: { method } }));
    assert.deepEqual((await generate(attached, PROMPTS, { maxNewTokens: 10, eosTokenId: null })).tokens, ref.cached.tokens);
  }
  // DAC with α_max = 0: every step's steered logits are the unsteered ones, bit for bit.
  for (const useCache of [true, false]) {
    for (const [i, prompt] of PROMPTS.entries()) {
      const d = await dacGenerate(model, prompt, [{ hook: residHook(LAYER), vector: vectors.caa, alphaMax: 0 }], { maxNewTokens: 10, eosTokenId: null, useCache, returnLogits: true });
      assert.deepEqual(d.tokens, ref.cached.tokens[i], `DAC cache=${useCache}: tokens differ from generate()`);
      d.steeredLogits!.forEach((l, t) => assert.ok(bitwiseEqual(l, d.baseLogits![t]!), `DAC cache=${useCache} step ${t}: logits differ`));
      assert.ok(d.alphas.every((a) => a[0] === 0));
      const on = await dacGenerate(model, prompt, [{ hook: residHook(LAYER), vector: vectors.caa, alphaMax: 4 }], { maxNewTokens: 3, eosTokenId: null, useCache, returnLogits: true });
      assert.ok(!bitwiseEqual(on.steeredLogits![0]!, on.baseLogits![0]!), "DAC with α_max = 4 changed nothing");
    }
  }
  model.dispose();
});
