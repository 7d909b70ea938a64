/**
 * Attached-module patches (model/attached.ts, model/modules/): an unmerged LoRA adapter gives the
 * merged adapter's logits, a dictionary splice with its error term kept is the identity, α = 0
 * terms vanish exactly, and module patches revert bit-identically, compose with weight patches,
 * hash by effect and round-trip through a patch file.
 */
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { applyPatch, composePatches, unpatch, type ModulePatch, type WeightPatch } from "../../src/model/patch.js";
import { loadPatch, savePatch } from "../../src/model/patch-file.js";
import { patchHash } from "../../src/model/patch-hash.js";
import type { Dictionary } from "../../src/model/modules/dictionary.js";
import type { DictionarySplice } from "../../src/model/modules/dictionary-splice.js";
import { initLora, loraPatch, mergeLora, type LoraAdapter } from "../../src/train/lora.js";
import { readF32 } from "../../src/tensor/own.js";
import { initEngine } from "../../src/tensor/engine.js";
import { Rng } from "../../src/util/rng.js";
import { maxAbsDiff, tinyModel, tokenRows, type Variant } from "./helpers.js";
import type { Model } from "../../src/model/types.js";

await initEngine();

const logits = (m: Model, tokens: number[][]) => readF32(m.forward(tokens).logits!);

/** An adapter with non-zero B (a fresh one changes nothing). */
function busyAdapter(model: Model, targets: string[], seed: number): LoraAdapter {
  const a = initLora(model, { targets, rank: 3, alpha: 6, seed });
  const rng = new Rng(seed + 1);
  for (const f of Object.values(a.targets)) f.B.data.forEach((_, i) => (f.B.data[i] = rng.normal() * 0.3));
  return a;
}

function randomDictionary(kind: "sae" | "transcoder", hookIn: string, hookOut: string, d: number, dSae: number, seed: number, activation: Dictionary["activation"] = { type: "relu" }): Dictionary {
  const rng = new Rng(seed);
  const t = (shape: number[], s: number) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * s) });
  return { kind, hookIn, hookOut, dIn: d, dSae, dOut: d, activation, W_enc: t([d, dSae], 0.3), W_dec: t([dSae, d], 0.3), b_enc: t([dSae], 0.1), b_dec: t([d], 0.1) };
}

const splice = (terms: DictionarySplice["terms"], keepError = false, edits?: DictionarySplice["edits"]): ModulePatch => ({
  type: "module",
  info: { method: "splice" },
  module: { kind: "dictionary-splice", terms, keepError, ...(edits ? { edits } : {}) } as DictionarySplice,
});

for (const variant of ["llama", "gpt2", "gptj", "parallel"] as Variant[]) {
  test(`${variant}: an unmerged LoRA adapter on every adaptable matrix gives the merged adapter's logits`, async () => {
    const model = tinyModel(variant, 3);
    const targets = ["blocks.*.attn.W_Q", "blocks.*.attn.W_K", "blocks.*.attn.W_V", "blocks.*.attn.W_O", "blocks.*.mlp.W_in", "blocks.*.mlp.W_out"];
    if (model.config.gatedMlp) targets.push("blocks.*.mlp.W_gate");
    const adapter = busyAdapter(model, targets, 11);
    const tokens = tokenRows(2, 7, model.config.vocabSize);
    const base = await logits(model, tokens);
    const merged = await logits(applyPatch(model, mergeLora(adapter)), tokens);
    const unmerged = await logits(applyPatch(model, loraPatch(adapter)), tokens);
    assert.ok(maxAbsDiff(base, merged) > 1e-2, "the adapter changes the model");
    assert.ok(maxAbsDiff(merged, unmerged) <= 1e-5, `merged vs unmerged ${maxAbsDiff(merged, unmerged)}`);
  });
}

test("gemma2 refuses an unmerged adapter on W_out (its output is normalised before the hook) but runs one on W_Q", async () => {
  const model = tinyModel("gemma2", 3);
  assert.throws(() => applyPatch(model, loraPatch(busyAdapter(model, ["blocks.0.mlp.W_out"], 2))), /merge it/);
  const a = busyAdapter(model, ["blocks.*.attn.W_Q", "blocks.*.mlp.W_gate"], 2);
  const tokens = tokenRows(1, 6, model.config.vocabSize);
  assert.ok(maxAbsDiff(await logits(applyPatch(model, mergeLora(a)), tokens), await logits(applyPatch(model, loraPatch(a)), tokens)) <= 1e-5);
});

test("an SAE splice with its error term kept is the identity; without it the output changes; feature edits act through the error term", async () => {
  const model = tinyModel("llama", 4);
  const hook = "blocks.0.hook_resid_post";
  const sae = randomDictionary("sae", hook, hook, 32, 48, 5);
  const tokens = tokenRows(2, 6, model.config.vocabSize);
  const base = await logits(model, tokens);
  assert.ok(maxAbsDiff(base, await logits(applyPatch(model, splice([{ dictionary: sae, scale: 1 }], true)), tokens)) === 0);
  assert.ok(maxAbsDiff(base, await logits(applyPatch(model, splice([{ dictionary: sae, scale: 1 }], false)), tokens)) > 1e-3);
  const edited = await logits(applyPatch(model, splice([{ dictionary: sae, scale: 1 }], true, [{ term: 0, feature: 3, value: 5 }])), tokens);
  assert.ok(maxAbsDiff(base, edited) > 1e-3, "clamping a feature changes the output");
});

test("a transcoder splice replaces hook_mlp_out from ln2.hook_normalized; a term with scale 0 is exactly absent", async () => {
  const model = tinyModel("gpt2", 4);
  const base = randomDictionary("transcoder", "blocks.1.ln2.hook_normalized", "blocks.1.hook_mlp_out", 32, 40, 6);
  const delta = randomDictionary("transcoder", "blocks.1.ln2.hook_normalized", "blocks.1.hook_mlp_out", 32, 8, 7);
  const tokens = tokenRows(2, 6, model.config.vocabSize);
  const baseOnly = await logits(applyPatch(model, splice([{ dictionary: base, scale: 1 }])), tokens);
  const alpha0 = await logits(applyPatch(model, splice([{ dictionary: base, scale: 1 }, { dictionary: delta, scale: 0 }])), tokens);
  const alpha1 = await logits(applyPatch(model, splice([{ dictionary: base, scale: 1 }, { dictionary: delta, scale: 1 }])), tokens);
  assert.equal(maxAbsDiff(baseOnly, alpha0), 0);
  assert.ok(maxAbsDiff(baseOnly, alpha1) > 1e-3);
  assert.ok(maxAbsDiff(baseOnly, await logits(model, tokens)) > 1e-3);
});

test("module patches revert bit-identically, compose with a weight patch, hash by effect and round-trip through a file", async () => {
  const model = tinyModel("llama", 5);
  const tokens = tokenRows(2, 6, model.config.vocabSize);
  const before = await logits(model, tokens);
  const W = model.params["blocks.1.mlp.W_out"]!;
  const weights: WeightPatch = { type: "weights", info: { method: "rome-like" }, deltas: { "blocks.1.mlp.W_out": { shape: [...W.shape], data: Float32Array.from({ length: W.size }, (_, i) => 0.05 * Math.sin(i)) } } };
  const sae = randomDictionary("sae", "blocks.0.hook_resid_post", "blocks.0.hook_resid_post", 32, 40, 8, { type: "topk", k: 5 });
  const adapter = busyAdapter(model, ["blocks.0.mlp.W_in"], 9);
  const composed = composePatches([weights, splice([{ dictionary: sae, scale: 1 }]), loraPatch(adapter)]);
  const patched = applyPatch(model, composed);
  const after = await logits(patched, tokens);
  assert.ok(maxAbsDiff(before, after) > 1e-3);
  assert.deepEqual(await logits(unpatch(patched), tokens), before);

  // The composition equals applying each in turn.
  const stepwise = applyPatch(applyPatch(applyPatch(model, weights), splice([{ dictionary: sae, scale: 1 }])), loraPatch(adapter));
  assert.deepEqual(await logits(stepwise, tokens), after);

  const dir = await mkdtemp(path.join(tmpdir(), "module-patch-"));
  const file = path.join(dir, "p.safetensors");
  await savePatch(file, composed);
  const loaded = await loadPatch(file);
  assert.equal(await patchHash(loaded), await patchHash(composed));
  assert.deepEqual(await logits(applyPatch(model, loaded), tokens), after);

  // The hash follows the effect, not the description.
  const renamed = { ...loraPatch({ ...adapter, info: { method: "lora", note: "other" } }) };
  assert.equal(await patchHash(renamed), await patchHash(loraPatch(adapter)));
  const scaled = splice([{ dictionary: sae, scale: 0.5 }]);
  assert.notEqual(await patchHash(scaled), await patchHash(splice([{ dictionary: sae, scale: 1 }])));
});
