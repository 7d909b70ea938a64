/**
 * generate() and loglikelihood() must release every array they create (jax-js has no GC safety
 * net: a forgotten logits tensor leaks for good). Vocabulary 50000 makes each step's logits
 * 0.4–1.2 MB, so a leak of one array per step grows RSS by >100 MB over the loop below; without a
 * leak growth was 0–49 MB (allocator noise; 49 MB once in CI), hence the 80 MB bound.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loglikelihoodTokens } from "../../src/eval/logprobs.js";
import { gpt2 } from "../../src/model/families/gpt2.js";
import { generate } from "../../src/model/generate.js";
import { createModel } from "../../src/model/model.js";
import { randomParams } from "../../src/model/random-params.js";
import { fakeTokenizer } from "../eval/fake-model.js";

test("RSS stays flat over repeated generation and scoring", async () => {
  const config = gpt2.parseConfig({ model_type: "gpt2", n_embd: 64, n_layer: 2, n_head: 4, n_positions: 64, vocab_size: 50000 }, "config.json");
  const model = createModel(config, randomParams(config, 1), fakeTokenizer());
  const round = async () => {
    for (let i = 0; i < 10; i++) {
      await generate(model, [[1, 2, 3], [4, 5]], { maxNewTokens: 10, eosTokenId: null });
      await generate(model, [[1, 2, 3]], { maxNewTokens: 4, eosTokenId: null, useCache: false });
      await loglikelihoodTokens(model, [{ context: [1, 2, 3], continuation: [4, 5] }, { context: [7], continuation: [8, 9, 10] }]);
    }
  };
  await round(); // warm-up: kernel caches, allocator pools
  const before = process.memoryUsage().rss;
  await round();
  await round();
  const grown = (process.memoryUsage().rss - before) / 1e6;
  assert.ok(grown < 80, `RSS grew ${grown.toFixed(0)} MB`);
  model.dispose();
});
