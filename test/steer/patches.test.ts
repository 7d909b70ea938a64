/**
 * Steering vectors are patches: they save and load (safetensors + JSON description), compose
 * (two vectors at two layers = applying one after the other), scale, and α = 0 parts drop out.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { composePatches, unpatch } from "../../src/model/patch.js";
import { loadPatch, savePatch } from "../../src/model/patch-file.js";
import { readF32 } from "../../src/tensor/own.js";
import { dropZeroAdditions, residHook, scalePatch, steerModel, steeringPatch } from "../../src/steer/apply.js";
import { patchHash } from "../../src/model/patch-hash.js";
import { tinySteerModel } from "./helpers.js";

test("save/load, compose, scale, drop zero additions", async () => {
  const dir = await mkdtemp(join(tmpdir(), "scalpel-steer-patch-"));
  const model = tinySteerModel();
  const v1 = Float32Array.from({ length: 32 }, (_, k) => Math.sin(k));
  const v2 = Float32Array.from({ length: 32 }, (_, k) => Math.cos(k));
  const p1 = steeringPatch({ vectors: { [residHook(0)]: v1 }, alpha: 2, positions: "all", info: { method: "caa", seed: 1 } });
  const p2 = steeringPatch({ vectors: { [residHook(2)]: v2 }, alpha: -1.5, positions: "all", info: { method: "pca" } });
  const both = composePatches([p1, p2], { method: "compose" });
  await savePatch(join(dir, "both.safetensors"), both);
  const loaded = await loadPatch(join(dir, "both.safetensors"));
  assert.deepEqual(loaded, both);
  assert.equal(await patchHash(loaded), await patchHash(both));
  assert.notEqual(await patchHash(p1), await patchHash(scalePatch(p1, 2)));

  const ids = [model.tokenizer.encode("the cat sat on the mat").ids];
  const read = async (m: typeof model) => readF32(m.forward(ids).logits!);
  const composed = await read(steerModel(model, loaded));
  const sequential = await read(steerModel(steerModel(model, p1), p2));
  assert.deepEqual(composed, sequential);
  // α scales: 2·v1 at α = 1 equals v1 at α = 2.
  const doubled = steeringPatch({ vectors: { [residHook(0)]: v1.map((x) => 2 * x) }, alpha: 1, positions: "all", info: { method: "t" } });
  const a = await read(steerModel(model, doubled));
  const b = await read(steerModel(model, p1));
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) < 1e-4));
  // Scaling by 0 drops everything: the original model object comes back.
  assert.equal(dropZeroAdditions(scalePatch(both, 0)), undefined);
  assert.equal(steerModel(model, scalePatch(both, 0)), model);
  const half = dropZeroAdditions(composePatches([scalePatch(p1, 0), p2]));
  assert.ok(half?.type === "composed" && half.patches.length === 1);
  assert.equal(unpatch(steerModel(model, both)), model);
  model.dispose();
  await rm(dir, { recursive: true, force: true });
});
