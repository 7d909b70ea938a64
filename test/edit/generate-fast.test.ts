/**
 * ROME's generate_fast as the generation metrics use it (eval/editing/score.ts generateFast):
 * every text is max_out_len tokens with its prompt (100 by default, as test_generation), whatever
 * the prompt's length, and EOS does not end it early.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { generateFast, ROME_GENERATION_LENGTH } from "../../src/eval/editing/score.js";
import { initEngine } from "../../src/tensor/engine.js";
import { tinyModel } from "./tiny.js";

await initEngine();

test("generateFast: prompt + continuation is max_out_len tokens for prompts of any length", async () => {
  const model = tinyModel("gpt2");
  const prompts = ["Aldo Venn was born in", "The", "Cora Mill lives in the city of"];
  const texts = await generateFast(model, prompts, { maxOutLen: 14, seed: 3 });
  assert.equal(ROME_GENERATION_LENGTH, 100);
  texts.forEach((t, i) => {
    assert.ok(t.text.startsWith(prompts[i]!), "the text starts with its prompt");
    // The word-level tokenizer adds BOS, which counts (as Llama's does in ROME's tok()).
    assert.equal(t.promptTokens, prompts[i]!.split(" ").length + 1);
    assert.equal(t.promptTokens + t.newTokens, 14, `text ${i}: ${t.text}`);
  });
  assert.deepEqual(await generateFast(model, prompts, { maxOutLen: 14, seed: 3 }), texts, "seeded");
});
