/**
 * Dictionaries (sae/): the TopK threshold selection, the activation store and its disk cache, the
 * SAELens metrics on a worked example (an exact dictionary), training that learns, a delta
 * transcoder on a frozen base, and fusing base + α·delta into one transcoder.
 */
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { numpy as np } from "@jax-js/jax";
import { applyPatch } from "../../src/model/patch.js";
import { activate, topkThresholds } from "../../src/model/modules/dictionary-math.js";
import type { Dictionary } from "../../src/model/modules/dictionary.js";
import { ActivationStore, ModelActivations } from "../../src/sae/activation-store.js";
import { FileActivations, writeActivationCache } from "../../src/sae/activation-cache-node.js";
import { deltaTerms, fuseDelta, trainDeltaTranscoder } from "../../src/sae/delta.js";
import { meanCE, reconstructionMetrics, single, spliceMetrics, splicePatch } from "../../src/sae/metrics.js";
import { trainDictionary } from "../../src/sae/train.js";
import { readF32 } from "../../src/tensor/own.js";
import { initEngine } from "../../src/tensor/engine.js";
import { Rng } from "../../src/util/rng.js";
import { maxAbsDiff, tinyModel, tokenRows } from "../model/helpers.js";

await initEngine();

const model = tinyModel("llama", 21);
const rows = Array.from({ length: 48 }, (_, i) => tokenRows(1, 12, model.config.vocabSize, 100 + i)[0]!);
const hookIn = "blocks.1.ln2.hook_normalized";
const hookOut = "blocks.1.hook_mlp_out";

test("topkThresholds gives each row's k-th largest value (checked against a sort)", () => {
  const rng = new Rng(3);
  const d = 37;
  const pre = Float32Array.from({ length: 5 * d }, () => Math.round(rng.normal() * 4) / 2); // ties included
  for (const k of [1, 5, 37]) {
    const got = topkThresholds(pre, 5, d, k);
    for (let r = 0; r < 5; r++) assert.equal(got[r], [...pre.subarray(r * d, (r + 1) * d)].sort((a, b) => b - a)[k - 1]);
  }
});

test("TopK with host thresholds equals TopK through lax.topK", async () => {
  const rng = new Rng(4);
  const data = Float32Array.from({ length: 6 * 20 }, () => rng.normal());
  const kth = topkThresholds(data, 6, 20, 4);
  const a = await readF32(activate(np.array(data).reshape([6, 20]), { type: "topk", k: 4 }));
  const b = await readF32(activate(np.array(data).reshape([6, 20]), { type: "topk", k: 4 }, undefined, np.array(kth).reshape([6, 1])));
  assert.deepEqual(a, b);
  assert.equal(a.filter((v) => v > 0).length <= 24, true);
});

test("the disk activation cache replays exactly what the model produced, and the store serves every activation once per fill", async () => {
  const live = new ModelActivations(model, hookIn, hookOut, rows, 8);
  const dir = path.join(await mkdtemp(path.join(tmpdir(), "actcache-")), "c");
  const meta = await writeActivationCache(dir, live, 6);
  assert.equal(meta.tokens, 48 * 12);
  const again = new ModelActivations(model, hookIn, hookOut, rows, 8);
  const first = await again.next();
  const file = await FileActivations.open(dir, { chunkTokens: 96, seed: 1 });
  // Chunk 0 of the file is the first 96 tokens of the first pass.
  const chunks = [];
  for (let i = 0; i < 6; i++) chunks.push(await file.next());
  const chunk0 = chunks.find((c) => c.x[0] === first.x[0] && c.x[1] === first.x[1]);
  assert.ok(chunk0, "one chunk starts with the first activation");
  assert.deepEqual(chunk0!.x, first.x.subarray(0, 96 * 32));
  assert.deepEqual(chunk0!.y, first.y.subarray(0, 96 * 32));

  // A store of 256 tokens serving 2 × 128: each refill's tokens are served once (a permutation).
  const store = new ActivationStore(await FileActivations.open(dir, { chunkTokens: 64, seed: 2 }), { bufferTokens: 256, seed: 3 });
  const a = await store.next(128);
  const b = await store.next(64);
  const key = (x: Float32Array, i: number) => Array.from(x.subarray(i * 32, i * 32 + 4)).join();
  const seen = new Set([...Array.from({ length: 128 }, (_, i) => key(a.x, i)), ...Array.from({ length: 64 }, (_, i) => key(b.x, i))]);
  assert.equal(seen.size, 192, "no activation served twice within a fill");
});

/** An exact dictionary for the identity map: f = (relu(x), relu(−x)), x̂ = f·[I; −I] = x. */
function exactSae(d: number, hook: string): Dictionary {
  const W_enc = new Float32Array(d * 2 * d);
  const W_dec = new Float32Array(2 * d * d);
  for (let i = 0; i < d; i++) {
    W_enc[i * 2 * d + i] = 1;
    W_enc[i * 2 * d + d + i] = -1;
    W_dec[i * d + i] = 1;
    W_dec[(d + i) * d + i] = -1;
  }
  return { kind: "sae", hookIn: hook, hookOut: hook, dIn: d, dSae: 2 * d, dOut: d, activation: { type: "relu" }, W_enc: { shape: [d, 2 * d], data: W_enc }, W_dec: { shape: [2 * d, d], data: W_dec }, b_enc: { shape: [2 * d], data: new Float32Array(2 * d) }, b_dec: { shape: [d], data: new Float32Array(d) } };
}

test("worked example: an exact SAE has MSE 0, explained variance 1, L0 = d (one of each ± pair fires), CE recovered 1 and ΔCE 0", async () => {
  const hook = "blocks.0.hook_resid_post";
  const sae = exactSae(32, hook);
  const r = await reconstructionMetrics(model, single(sae), rows.slice(0, 8));
  assert.ok(r.mse < 1e-10, `mse ${r.mse}`);
  assert.ok(Math.abs(r.explainedVariance - 1) < 1e-9);
  assert.ok(Math.abs(r.l0 - 32) < 1e-9, `l0 ${r.l0}`);
  assert.equal(r.deadFraction, 0);
  const s = await spliceMetrics(model, single(sae), rows.slice(0, 8));
  assert.ok(Math.abs(s.deltaCE) < 1e-5 && Math.abs(s.ceLossRecovered - 1) < 1e-4, JSON.stringify(s));
  assert.equal(s.ceClean, await meanCE(model, rows.slice(0, 8)));
});

test("a transcoder trains (validation error falls, explained variance rises) and splices; a delta on a frozen base explains more of a changed model", async () => {
  const source = new ModelActivations(model, hookIn, hookOut, rows.slice(0, 40), 8);
  const validation = new ModelActivations(model, hookIn, hookOut, rows.slice(40), 8);
  const r = await trainDictionary({ kind: "transcoder", hookIn, hookOut, dSae: 64, activation: { type: "topk", k: 8 }, source, validation, steps: 60, batchTokens: 128, bufferTokens: 512, lr: 3e-3, evalEvery: 20, seed: 5 });
  assert.equal(r.validation.length, 3);
  assert.ok(r.validation[2]!.mse < r.validation[0]!.mse, JSON.stringify(r.validation));
  assert.ok(r.validation[2]!.explainedVariance > r.validation[0]!.explainedVariance + 0.1, JSON.stringify(r.validation));
  const m = await reconstructionMetrics(model, single(r.dictionary), rows.slice(40));
  assert.ok(m.l0 <= 8 + 1e-9);

  // "Fine-tune": change the MLP's output weights, then train a delta on the changed model's activations.
  const W = model.params["blocks.1.mlp.W_out"]!;
  const tuned = applyPatch(model, { type: "weights", info: { method: "test" }, deltas: { "blocks.1.mlp.W_out": { shape: [...W.shape], data: Float32Array.from({ length: W.size }, (_, i) => 0.3 * Math.sin(i * 0.7)) } } });
  const tunedSource = new ModelActivations(tuned, hookIn, hookOut, rows.slice(0, 40), 8);
  const d = await trainDeltaTranscoder(r.dictionary, { dSae: 16, activation: { type: "topk", k: 4 }, source: tunedSource, steps: 60, batchTokens: 128, bufferTokens: 512, lr: 3e-3, seed: 6 });
  const baseOnly = await reconstructionMetrics(tuned, single(r.dictionary), rows.slice(40));
  const withDelta = await reconstructionMetrics(tuned, deltaTerms(r.dictionary, d.dictionary, 1), rows.slice(40));
  assert.ok(withDelta.mse < baseOnly.mse, `base ${baseOnly.mse} vs base+delta ${withDelta.mse}`);
});

test("fusing base + α·delta gives the two-term splice's logits; TopK pairs are refused", async () => {
  const rng = new Rng(9);
  const t = (shape: number[], s: number) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * s) });
  const dict = (dSae: number): Dictionary => ({ kind: "transcoder", hookIn, hookOut, dIn: 32, dSae, dOut: 32, activation: { type: "relu" }, W_enc: t([32, dSae], 0.3), W_dec: t([dSae, 32], 0.3), b_enc: t([dSae], 0.1), b_dec: t([32], 0.1) });
  const base = dict(24);
  const delta = dict(6);
  const toks = rows.slice(0, 3);
  const L = (patch: Parameters<typeof applyPatch>[1]) => readF32(applyPatch(model, patch).forward(toks).logits!);
  const two = await L(splicePatch(deltaTerms(base, delta, 1.5)));
  const one = await L(splicePatch(single(fuseDelta(base, delta, 1.5))));
  assert.ok(maxAbsDiff(two, one) < 1e-5, `${maxAbsDiff(two, one)}`);
  assert.throws(() => fuseDelta({ ...base, activation: { type: "topk", k: 2 } }, delta), /TopK/);
});

test("feature activations are readable in a forward pass and at every generation step, and match the encoder", async () => {
  const { featureActivations, withFeatureReader } = await import("../../src/sae/features.js");
  const { generate } = await import("../../src/model/generate.js");
  const hook = "blocks.0.hook_resid_post";
  const sae = exactSae(32, hook);
  const toks = rows.slice(0, 2).map((r) => r.slice(0, 6));
  const f = featureActivations(model, sae, toks);
  assert.equal(f.length, 2);
  assert.equal(f[0]!.length, 6);
  const resid = await readF32(model.forward(toks, { cache: [hook], stopAt: hook }).cache[hook]!);
  // The exact SAE's features are relu(x) and relu(−x).
  for (let i = 0; i < 32; i++) assert.equal(f[1]![5]![i], Math.max(0, resid[(1 * 6 + 5) * 32 + i]!));
  const steps: number[][] = [];
  const viewed = withFeatureReader(model, sae, (r) => steps.push(r.positions));
  await generate(viewed, [toks[0]!], { maxNewTokens: 3 });
  assert.equal(steps.length, 3, "the prompt pass and two decoding steps");
  assert.deepEqual(steps.slice(1).map((p) => p.length), [1, 1]);
});

test("dead features are found and resampled (decoder rows stay unit norm) and training goes on", async () => {
  const source = new ModelActivations(model, hookIn, hookOut, rows.slice(0, 40), 8);
  const r = await trainDictionary({ kind: "transcoder", hookIn, hookOut, dSae: 96, activation: { type: "topk", k: 1 }, source, steps: 12, batchTokens: 64, bufferTokens: 512, lr: 3e-3, seed: 8, resampleAt: [6], deadWindowTokens: 256 });
  assert.equal(r.resampled.length, 1);
  assert.ok(r.resampled[0]!.features > 0, "with k = 1 of 96 features, some do not fire for 4 steps");
  assert.ok(r.history[6]!.deadFraction < r.history[5]!.deadFraction, "resampled features count as alive again");
  const W = r.dictionary.W_dec.data;
  for (let i = 0; i < 96; i++) {
    let s = 0;
    for (let d = 0; d < 32; d++) s += W[i * 32 + d]! ** 2;
    assert.ok(Math.abs(Math.sqrt(s) - 1) < 1e-4, `decoder row ${i} norm ${Math.sqrt(s)}`);
  }
});
