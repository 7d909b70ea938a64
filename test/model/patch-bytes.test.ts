/**
 * patchToBytes / patchFromBytes (model/patch-bytes.ts), the in-memory patch format the web lab
 * downloads and uploads: the bytes are exactly the file savePatch writes, and they decode to what
 * loadPatch reads, for weight, activation, module and composed patches; bytes that are not a patch
 * are refused with a CheckpointError.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { CheckpointError } from "../../src/errors.js";
import { serializeSafetensors } from "../../src/io/safetensors-write.js";
import { patchFromBytes, patchToBytes } from "../../src/model/patch-bytes.js";
import { loadPatch, savePatch } from "../../src/model/patch-file.js";
import { composePatches, type ActivationPatch, type ModulePatch, type Patch, type WeightPatch } from "../../src/model/patch.js";
import type { DictionarySplice } from "../../src/model/modules/dictionary-splice.js";

const wave = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));

const weights: WeightPatch = {
  type: "weights",
  info: { method: "rome", description: "Aldo Venn → Kelmar" },
  deltas: { "blocks.1.mlp.W_out": { shape: [6, 4], data: wave(24, Math.sin) } },
};

const steering: ActivationPatch = {
  type: "activations",
  info: { method: "caa", config: { layer: 2 } },
  additions: [
    { hook: "blocks.2.hook_resid_post", vector: wave(4, Math.cos), alpha: -1.5, positions: "after-prompt" },
    { hook: "blocks.0.hook_resid_post", vector: wave(4, (i) => i), alpha: 2, positions: "all" },
  ],
};

const t = (shape: number[], s: number) => ({ shape, data: wave(shape.reduce((a, b) => a * b, 1), (i) => s * Math.sin(i + s)) });
const hook = "blocks.0.hook_resid_post";
const splice: ModulePatch = {
  type: "module",
  info: { method: "splice" },
  module: {
    kind: "dictionary-splice",
    keepError: true,
    terms: [{ scale: 1, dictionary: { kind: "sae", hookIn: hook, hookOut: hook, dIn: 4, dSae: 6, dOut: 4, activation: { type: "relu" }, W_enc: t([4, 6], 0.3), W_dec: t([6, 4], 0.2), b_enc: t([6], 0.1), b_dec: t([4], 0.05) } }],
  } as DictionarySplice,
};

const cases: [string, Patch][] = [
  ["weights", weights],
  ["activations", steering],
  ["module", splice],
  ["composed", composePatches([weights, steering, splice], { method: "compose", seed: 3 })],
];

for (const [kind, patch] of cases) {
  test(`${kind}: patchToBytes is savePatch's file, patchFromBytes reads what loadPatch reads`, async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), "patch-bytes-")), "p.safetensors");
    await savePatch(file, patch);
    const bytes = patchToBytes(patch);
    assert.deepEqual(bytes, new Uint8Array(await readFile(file)));
    const fromBytes = await patchFromBytes(bytes, "p.safetensors");
    assert.deepEqual(fromBytes, await loadPatch(file));
    assert.equal(fromBytes.type, patch.type);
    assert.deepEqual(patchToBytes(fromBytes), bytes, "decoding then encoding gives the same bytes");
  });
}

test("bytes that are not a patch are refused with a CheckpointError naming the file", async () => {
  const isPatchError = (re: RegExp) => (e: unknown) => e instanceof CheckpointError && re.test(e.message) && e.file === "x.safetensors";
  const plain = serializeSafetensors({ x: { dtype: "float32", shape: [2], data: new Float32Array(2) } });
  await assert.rejects(patchFromBytes(plain, "x.safetensors"), isPatchError(/not a scalpel patch/));
  const bytes = patchToBytes(weights);
  await assert.rejects(patchFromBytes(bytes.slice(0, bytes.length - 8), "x.safetensors"), isPatchError(/./));
  await assert.rejects(patchFromBytes(new TextEncoder().encode("not safetensors at all"), "x.safetensors"), isPatchError(/./));
  const broken = serializeSafetensors({ x: { dtype: "float32", shape: [2], data: new Float32Array(2) } }, { scalpel_patch: "{not json" });
  await assert.rejects(patchFromBytes(broken, "x.safetensors"), isPatchError(/./));
});
