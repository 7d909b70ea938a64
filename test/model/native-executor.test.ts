/**
 * Work routed to the native executor (model/native/executor.ts) gives the results of the jax-js
 * path: loglikelihood scores, greedy and sampled generation, covariance statistics; and it is not
 * used where it cannot be (hook functions, hooked views of a model).
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { collectMom2 } from "../../src/edit/covariance.js";
import { loglikelihood } from "../../src/eval/logprobs.js";
import { generate } from "../../src/model/generate.js";
import { nativeFor, setNativeExecutor } from "../../src/model/native/executor.js";
import { enableNativeExecutor } from "../../src/model/native/enable-node.js";
import { applyPatch } from "../../src/model/patch.js";
import { withHooks } from "../../src/model/with-hooks.js";
import { maxAbsDiff, tinyModel } from "./helpers.js";

after(() => setNativeExecutor(undefined));

/** `fn` once on jax-js and once through the native executor. */
async function bothPaths<T>(fn: () => Promise<T>): Promise<[T, T]> {
  setNativeExecutor(undefined);
  const jax = await fn();
  assert.ok(enableNativeExecutor());
  try {
    return [jax, await fn()];
  } finally {
    setNativeExecutor(undefined);
  }
}

test("the executor is used only for loaded models and calls without hook functions", () => {
  const model = tinyModel("llama");
  enableNativeExecutor();
  assert.ok(nativeFor(model));
  assert.equal(nativeFor(model, { "blocks.0.hook_resid_post": (x) => x }), undefined);
  assert.equal(nativeFor(withHooks(model, { "blocks.0.hook_resid_post": (x) => x })), undefined);
  // A weight-patched copy (an edit) stays on jax-js: compiling it would copy every weight per edit.
  const W = model.params["blocks.0.mlp.W_out"]!;
  const edited = applyPatch(model, { type: "weights", info: { method: "test" }, deltas: { "blocks.0.mlp.W_out": { shape: W.shape.slice(), data: new Float32Array(W.size) } } });
  assert.equal(nativeFor(edited), undefined);
  edited.dispose();
  setNativeExecutor(undefined);
  assert.equal(nativeFor(model), undefined);
  model.dispose();
});

for (const variant of ["gpt2", "llama", "mistral", "gemma2", "gptj"] as const) {
  test(`${variant}: loglikelihood, generation and covariance agree between jax-js and the native executor`, async () => {
    const model = tinyModel(variant);
    const requests = [
      { context: "abc de", continuation: "fg" },
      { context: "x", continuation: "yz!" },
      { context: "hello wor", continuation: "ld" },
    ];
    const [a, b] = await bothPaths(() => loglikelihood(model, requests, { batchSize: 2 }));
    for (let i = 0; i < requests.length; i++) {
      assert.ok(maxAbsDiff(a[i]!.logprobs, b[i]!.logprobs) < 1e-4, `request ${i}: ${a[i]!.logprobs} vs ${b[i]!.logprobs}`);
      assert.deepEqual(a[i]!.argmax, b[i]!.argmax);
      assert.equal(a[i]!.isGreedy, b[i]!.isGreedy);
    }
    const prompts = ["abc", "hello there"];
    const [g1, g2] = await bothPaths(() => generate(model, prompts, { maxNewTokens: 12, eosTokenId: null }));
    assert.deepEqual(g2.tokens, g1.tokens, "greedy decoding");
    const [s1, s2] = await bothPaths(() => generate(model, prompts, { maxNewTokens: 12, eosTokenId: null, temperature: 0.8, seed: 3 }));
    assert.deepEqual(s2.tokens, s1.tokens, "seeded sampling");
    const texts = ["one two three", "four five", "a much longer text with several words in it", "x"];
    const [c1, c2] = await bothPaths(() => collectMom2(model, { layer: 1, texts }));
    assert.equal(c2.count, c1.count);
    const scale = Math.max(...c1.sum.map(Math.abs));
    assert.ok(maxAbsDiff(c1.sum, c2.sum) <= 1e-5 * scale, `covariance differs by ${maxAbsDiff(c1.sum, c2.sum)} (scale ${scale})`);
    model.dispose();
  });
}
