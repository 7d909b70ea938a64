/**
 * Patches (model/patch.ts, patch-file.ts): weight deltas and activation additions apply to give a
 * new model, leave the original bitwise untouched, revert with unpatch, compose in order, keep the
 * zero-strength guarantee, and round-trip through a safetensors file.
 */
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { applyPatch, composePatches, unpatch, type ActivationPatch, type WeightPatch } from "../../src/model/patch.js";
import { loadPatch, savePatch } from "../../src/model/patch-file.js";
import { modelHash } from "../../src/model/hash.js";
import { generate } from "../../src/model/generate.js";
import { CheckpointError } from "../../src/errors.js";
import { writeSafetensors } from "../../src/io/safetensors-file.js";
import { readF32 } from "../../src/tensor/own.js";
import { initEngine } from "../../src/tensor/engine.js";
import { tinyModel } from "./helpers.js";

await initEngine();

const tokens = [[1, 5, 9, 2, 7]];

async function logits(model: ReturnType<typeof tinyModel>): Promise<Float32Array> {
  return readF32(model.forward(tokens).logits!);
}

function weightPatch(model: ReturnType<typeof tinyModel>, scale: number): WeightPatch {
  const W = model.params["blocks.1.mlp.W_out"]!;
  const data = Float32Array.from({ length: W.size }, (_, i) => scale * Math.sin(i));
  return { type: "weights", info: { method: "test" }, deltas: { "blocks.1.mlp.W_out": { shape: [...W.shape], data } } };
}

function steering(d: number, alpha: number, positions: "all" | "after-prompt" = "all"): ActivationPatch {
  const vector = Float32Array.from({ length: d }, (_, i) => Math.cos(i));
  return { type: "activations", info: { method: "test" }, additions: [{ hook: "blocks.0.hook_resid_post", vector, alpha, positions }] };
}

test("a weight patch changes the model, leaves the original bitwise untouched and reverts with unpatch", async () => {
  const model = tinyModel("llama");
  const before = await logits(model);
  const hashBefore = await modelHash(model);
  const patched = applyPatch(model, weightPatch(model, 0.5));
  const after = await logits(patched);
  assert.ok(after.some((v, i) => v !== before[i]), "the patch must change the logits");
  assert.deepEqual(await logits(model), before);
  assert.equal(unpatch(patched), model);
  assert.deepEqual(await logits(unpatch(patched)), before);
  assert.equal(await modelHash(model), hashBefore);
  assert.notEqual(await modelHash(patched), hashBefore);
  // W' = W + Δ exactly.
  const W = await readF32(model.params["blocks.1.mlp.W_out"]!.ref);
  const W2 = await readF32(patched.params["blocks.1.mlp.W_out"]!.ref);
  const d = weightPatch(model, 0.5).deltas["blocks.1.mlp.W_out"]!.data;
  W2.forEach((v, i) => assert.equal(v, Math.fround(W[i]! + d[i]!)));
  patched.dispose();
  model.dispose();
});

test("an activation patch at α = 0 gives bitwise-identical logits and generations; α ≠ 0 changes them", async () => {
  const model = tinyModel("llama");
  const d = model.config.dModel;
  const base = await logits(model);
  assert.deepEqual(await logits(applyPatch(model, steering(d, 0))), base);
  assert.notDeepEqual(await logits(applyPatch(model, steering(d, 2))), base);
  const g0 = await generate(model, [[1, 4, 6]], { maxNewTokens: 6, eosTokenId: null });
  const g1 = await generate(applyPatch(model, steering(d, 0)), [[1, 4, 6]], { maxNewTokens: 6, eosTokenId: null });
  assert.deepEqual(g1.tokens, g0.tokens);
  model.dispose();
});

test("after-prompt additions leave a plain forward alone and steer generation from the last prompt token on", async () => {
  const model = tinyModel("llama");
  const d = model.config.dModel;
  const steered = applyPatch(model, steering(d, 4, "after-prompt"));
  assert.deepEqual(await logits(steered), await logits(model), "no promptLength: nothing is added");
  const prompt = [[1, 4, 6, 3]];
  const a = await generate(steered, prompt, { maxNewTokens: 5, eosTokenId: null });
  const b = await generate(steered, prompt, { maxNewTokens: 5, eosTokenId: null, useCache: false });
  assert.deepEqual(a.tokens, b.tokens, "KV-cached steering equals uncached steering");
  const all = await generate(applyPatch(model, steering(d, 4, "all")), prompt, { maxNewTokens: 5, eosTokenId: null });
  const plain = await generate(model, prompt, { maxNewTokens: 5, eosTokenId: null });
  assert.ok(a.tokens[0]!.some((t, i) => t !== plain.tokens[0]![i]) || all.tokens[0]!.some((t, i) => t !== plain.tokens[0]![i]), "steering with α = 4 should change some token");
  model.dispose();
});

test("composed patches apply in order and round-trip through a safetensors file", async () => {
  const model = tinyModel("llama");
  const patch = composePatches([weightPatch(model, 0.25), steering(model.config.dModel, 1.5)], { method: "compose", seed: 3 });
  const direct = await logits(applyPatch(model, patch));
  const file = path.join(await mkdtemp(path.join(tmpdir(), "patch-")), "p.safetensors");
  await savePatch(file, patch);
  const loaded = await loadPatch(file);
  assert.equal(loaded.type, "composed");
  assert.deepEqual(loaded.info, patch.info);
  assert.deepEqual(await logits(applyPatch(model, loaded)), direct);
  // A single patch loads as itself.
  await savePatch(file, weightPatch(model, 0.25));
  assert.equal((await loadPatch(file)).type, "weights");
  model.dispose();
});

test("a file that is not a patch, or names tensors it lacks, is refused with a typed error", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "patch-bad-"));
  const plain = path.join(dir, "plain.safetensors");
  await writeSafetensors(plain, { x: { dtype: "float32", shape: [2], data: new Float32Array(2) } });
  await assert.rejects(loadPatch(plain), (e: unknown) => e instanceof CheckpointError && /not a scalpel patch/.test(e.message));
  const lying = path.join(dir, "lying.safetensors");
  const meta = { version: 1, info: { method: "x" }, composed: false, entries: [{ type: "weights", info: { method: "x" }, params: ["blocks.0.mlp.W_out"] }] };
  await writeSafetensors(lying, { x: { dtype: "float32", shape: [2], data: new Float32Array(2) } }, { scalpel_patch: JSON.stringify(meta) });
  await assert.rejects(loadPatch(lying), (e: unknown) => e instanceof CheckpointError && /does not hold/.test(e.message));
  const broken = path.join(dir, "broken.safetensors");
  await writeSafetensors(broken, { x: { dtype: "float32", shape: [2], data: new Float32Array(2) } }, { scalpel_patch: "{not json" });
  await assert.rejects(loadPatch(broken), (e: unknown) => e instanceof CheckpointError);
});
