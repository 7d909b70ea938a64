/**
 * Shared rows and shared prefixes change how much is computed, never the numbers: scoring with
 * them equals lm-eval-style scoring (logprobs.ts loglikelihoodTokens) request by request; the
 * request cache answers repeats without the model; perplexity requests are reassembled from windows.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryRequestCache } from "../../src/eval/cache.js";
import { executeRequests } from "../../src/eval/execute.js";
import { loglikelihood, loglikelihoodTokens } from "../../src/eval/logprobs.js";
import { perplexity } from "../../src/eval/perplexity.js";
import { scoreTokenRequests } from "../../src/eval/score-rows.js";
import type { Request } from "../../src/eval/types.js";
import { tinyModel, words } from "./tiny-model.js";

test("shared rows and a shared 40-token prefix give lm-eval's loglikelihoods with less compute", async () => {
  const m = tinyModel();
  const enc = (s: string) => m.tokenizer.encode(s, { addSpecialTokens: false }).ids;
  const prefix = enc(words(40));
  const reqs: { context: number[]; continuation: number[] }[] = [];
  for (let i = 0; i < 5; i++) {
    const q = enc(words(3 + i, 100 + i));
    for (const c of ["A", "B", "C", "D"]) reqs.push({ context: [...prefix, ...q], continuation: enc(c) });
    reqs.push({ context: [...prefix, ...q], continuation: enc("the cat sat") });
  }
  reqs.push({ context: enc("the"), continuation: enc("cat") });
  const ref = await loglikelihoodTokens(m, reqs, { batchSize: 4 });
  const positions: number[] = [];
  for (const minSharedPrefix of [32, 0]) {
    const { scores, stats } = await scoreTokenRequests(m, reqs, { batchSize: 3, minSharedPrefix });
    // 5 questions × (one row for the four letters + one for the phrase) + the lone request.
    assert.equal(stats.rows, 11);
    assert.equal(stats.prefixGroups, minSharedPrefix ? 1 : 0);
    scores.forEach((s, i) => {
      assert.ok(Math.abs(s.ll - ref[i]!.sum) < 1e-4, `request ${i}: ${s.ll} vs ${ref[i]!.sum}`);
      assert.equal(s.isGreedy, ref[i]!.isGreedy);
      assert.equal(s.nTokens, reqs[i]!.continuation.length);
    });
    positions.push(stats.forwardTokens);
  }
  assert.ok(positions[0]! < positions[1]! / 2, `prefix computed once: ${positions[0]} positions run vs ${positions[1]} without sharing`);
});

test("executeRequests: string and token requests, firstTokens, perplexity windows, and a cache that answers repeats", async () => {
  const m = tinyModel(2);
  const cache = new MemoryRequestCache();
  const text = words(70, 5);
  const reqs: Request[] = [
    { type: "loglikelihood", context: "the cat", continuation: " sat on the mat" },
    { type: "loglikelihood", context: "the cat", continuation: " sat on the mat", firstTokens: 1 },
    { type: "loglikelihood", context: "the cat", continuation: " sat on the mat" }, // a duplicate
    { type: "perplexity", text, prefix: true, maxLength: 32, stride: 16 },
    { type: "generate_until", context: "the dog ran", until: ["."], maxNewTokens: 5 },
  ];
  const first = await executeRequests(m, reqs, { namespace: "ns", cache, batchSize: 2 });
  assert.equal(first.stats.unique, 4);
  assert.equal(first.stats.computed, 4);
  const [full] = await loglikelihood(m, [{ context: "the cat", continuation: " sat on the mat" }]);
  const r0 = first.responses[0]!;
  assert.ok(r0.type === "loglikelihood" && Math.abs(r0.ll - full!.sum) < 1e-4 && r0.nTokens === 4);
  const r1 = first.responses[1]!;
  assert.ok(r1.type === "loglikelihood" && Math.abs(r1.ll - full!.logprobs[0]!) < 1e-4 && r1.nTokens === 1);
  assert.deepEqual(first.responses[2], first.responses[0]);
  const ppl = await perplexity(m, text, { prefix: true, maxLength: 32, stride: 16 });
  const r3 = first.responses[3]!;
  assert.ok(r3.type === "perplexity" && r3.nTokens === 70 && Math.abs(r3.ll - ppl.loglikelihood) < 1e-3);
  assert.equal(first.responses[4]!.type, "generate_until");
  const again = await executeRequests(m, reqs, { namespace: "ns", cache });
  assert.equal(again.stats.computed, 0);
  assert.equal(again.stats.cacheHits, 4);
  assert.deepEqual(again.responses, first.responses);
  // Another namespace (another model or patch) shares nothing.
  const other = await executeRequests(m, reqs.slice(0, 1), { namespace: "other", cache });
  assert.equal(other.stats.computed, 1);
});

test("addSpecialTokens requests are encoded with BOS (lm-eval add_bos_token), without it otherwise", async () => {
  const m = tinyModel(6, 64, true);
  const req = { type: "loglikelihood" as const, context: "the cat", continuation: " sat" };
  const { responses } = await executeRequests(m, [req, { ...req, addSpecialTokens: true }], { namespace: "bos" });
  const [plain] = await loglikelihood(m, [{ context: "the cat", continuation: " sat" }]);
  const [withBos] = await loglikelihood(m, [{ context: "the cat", continuation: " sat" }], { addSpecialTokens: true });
  assert.deepEqual(withBos!.contextTokens.slice(0, 1), [m.tokenizer.bosId]);
  const [a, b] = responses as { ll: number }[];
  assert.ok(Math.abs(a!.ll - plain!.sum) < 1e-4 && Math.abs(b!.ll - withBos!.sum) < 1e-4);
  assert.ok(Math.abs(a!.ll - b!.ll) > 1e-3, "BOS changes the loglikelihood");
});
