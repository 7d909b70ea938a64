/**
 * ROME (edit/rome.ts) on a tiny random model: the rank-one update stores v* at its key exactly
 * (W' k = v*: for ROME's code the plain prompt's key, seen through the edited model's own forward
 * pass; for r-ROME the averaged k*), changes only the edited layer's W_out, raises the target's
 * probability, and the patch applies, reverts bitwise and round-trips through a file.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { romeDefaults } from "../../src/edit/hparams.js";
import { computeTargetVector, type ValueStep } from "../../src/edit/compute-value.js";
import { contextTemplates } from "../../src/edit/context-templates.js";
import { romeEdit, type RomeStep } from "../../src/edit/rome.js";
import { subjectLastIndex } from "../../src/edit/tokens.js";
import { loglikelihood } from "../../src/eval/logprobs.js";
import { applyPatch, unpatch } from "../../src/model/patch.js";
import { loadPatch, savePatch } from "../../src/model/patch-file.js";
import type { Model } from "../../src/model/types.js";
import { initEngine } from "../../src/tensor/engine.js";
import { readF32 } from "../../src/tensor/own.js";
import { FAST, REQUESTS, TINY, tinyModel } from "./tiny.js";

await initEngine();

const model = tinyModel();
const hp = { ...romeDefaults(model.config), ...FAST, layer: 1 };
const req = REQUESTS[0]!;

async function mlpOutAtSubject(m: Model): Promise<Float32Array> {
  const { ids, index } = subjectLastIndex(m.tokenizer, req.prompt, req.subject);
  const hook = `blocks.${hp.layer}.hook_mlp_out`;
  const { cache } = m.forward([ids], { cache: [hook], stopAt: hook });
  const d = m.config.dModel;
  return (await readF32(cache[hook]!)).slice(index * d, (index + 1) * d);
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

test("ROME: the edited model's MLP output at the subject is v*, only W_out of the layer changes, the target gains", async () => {
  const steps: RomeStep[] = [];
  const patch = await romeEdit(model, [req], hp, { caches: TINY }, steps);
  assert.deepEqual(Object.keys(patch.deltas), ["blocks.1.mlp.W_out"]);
  const edited = applyPatch(model, patch);
  const before = await mlpOutAtSubject(model);
  const after = await mlpOutAtSubject(edited);
  const v = steps[0]!.vStar;
  assert.ok(relErr(before, v) > 0.05, "v* differs from the unedited output (the test can fail)");
  assert.ok(relErr(after, v) < 1e-4, `W' k = v* through the forward pass (rel. error ${relErr(after, v)})`);
  for (const [name, W] of Object.entries(model.params)) {
    if (name === "blocks.1.mlp.W_out") continue;
    assert.deepEqual(await readF32(edited.params[name]!.ref), await readF32(W.ref), `${name} unchanged`);
  }
  const score = async (m: Model) => (await loglikelihood(m, [{ context: req.prompt.replace("{}", req.subject), continuation: " " + req.targetNew }]))[0]!.sum;
  const [lp0, lp1] = [await score(model), await score(edited)];
  assert.ok(lp1 > lp0 + 0.5, `log P(target) ${lp0.toFixed(3)} → ${lp1.toFixed(3)}`);
  edited.dispose();
});

test("v*: every step is observed and ‖δ‖ never exceeds clamp_norm_factor · ‖v₀‖", async () => {
  const seen: ValueStep[] = [];
  const tight = { ...hp, clampNormFactor: 0.05, vNumGradSteps: 8 };
  const templates = (await contextTemplates(model, tight, 0, TINY)).flat();
  const v = await computeTargetVector(model, req, tight, templates, "blocks.1.hook_mlp_out", (s) => seen.push(s));
  assert.deepEqual(seen.map((s) => s.step), Array.from({ length: v.steps }, (_, i) => i));
  assert.equal(seen[seen.length - 1]!.loss, v.loss);
  assert.ok(seen.every((s) => s.clampRatio <= 1 + 1e-5), "the clamp holds after every step");
  assert.ok(Math.max(...seen.map((s) => s.clampRatio)) > 0.999, "a 5% clamp binds (the test can fail)");
  const norm = (x: ArrayLike<number>) => Math.hypot(...Array.from(x));
  assert.ok(norm(v.target.map((t, i) => t - v.init[i]!)) <= 0.05 * norm(v.init) * (1 + 1e-5));
});

test("r-ROME: W' k* = v* for the template-averaged key (host float64)", async () => {
  const steps: RomeStep[] = [];
  const patch = await romeEdit(model, [req], { ...hp, keyMode: "r-rome" }, { caches: TINY }, steps);
  const { key, vStar, kStar } = steps[0]!;
  assert.deepEqual(key, kStar, "r-ROME uses k* for the update");
  const W = await readF32(model.params["blocks.1.mlp.W_out"]!.ref);
  const D = patch.deltas["blocks.1.mlp.W_out"]!.data;
  const [dIn, dOut] = [model.config.dMlp, model.config.dModel];
  const out = new Float64Array(dOut);
  for (let i = 0; i < dIn; i++) for (let j = 0; j < dOut; j++) out[j]! += key[i]! * (W[i * dOut + j]! + D[i * dOut + j]!);
  assert.ok(relErr(out, vStar) < 1e-5, `rel. error ${relErr(out, vStar)}`);
  // ROME's code does not satisfy this for k* (its update is exact for the plain prompt's key).
  const rome: RomeStep[] = [];
  const p2 = await romeEdit(model, [req], hp, { caches: TINY }, rome);
  const D2 = p2.deltas["blocks.1.mlp.W_out"]!.data;
  const out2 = new Float64Array(dOut);
  for (let i = 0; i < dIn; i++) for (let j = 0; j < dOut; j++) out2[j]! += rome[0]!.kStar[i]! * (W[i * dOut + j]! + D2[i * dOut + j]!);
  assert.ok(relErr(out2, rome[0]!.vStar) > 1e-3, "ROME's update is not exact at k*");
});

test("the patch reverts bitwise and round-trips through savePatch/loadPatch", async () => {
  const patch = await romeEdit(model, REQUESTS.slice(0, 2), { ...hp, vNumGradSteps: 3 }, { seed: 1, caches: TINY });
  assert.equal(patch.info.method, "rome");
  const W0 = await readF32(model.params["blocks.1.mlp.W_out"]!.ref);
  const edited = applyPatch(model, patch);
  const back = unpatch(edited);
  assert.equal(back, model);
  assert.deepEqual(await readF32(back.params["blocks.1.mlp.W_out"]!.ref), W0);
  const dir = mkdtempSync(path.join(os.tmpdir(), "scalpel-rome-"));
  try {
    const file = path.join(dir, "rome.safetensors");
    await savePatch(file, patch);
    const loaded = await loadPatch(file);
    assert.equal(loaded.type, "weights");
    if (loaded.type !== "weights") return;
    assert.deepEqual(loaded.deltas, patch.deltas);
    assert.deepEqual(JSON.parse(JSON.stringify(loaded.info)), JSON.parse(JSON.stringify(patch.info)));
    const again = applyPatch(model, loaded);
    assert.deepEqual(await readF32(again.params["blocks.1.mlp.W_out"]!.ref), await readF32(edited.params["blocks.1.mlp.W_out"]!.ref));
    again.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  edited.dispose();
});
