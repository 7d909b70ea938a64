/**
 * Fine-tuning editors (edit/ft.ts): FT-L keeps every weight within W₀ ± ε (L∞) where unconstrained
 * FT does not; each lowers its own loss on the target; only the chosen layers' W_out change.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ftEdit } from "../../src/edit/ft.js";
import { ftDefaults } from "../../src/edit/hparams.js";
import { loglikelihood } from "../../src/eval/logprobs.js";
import { applyPatch } from "../../src/model/patch.js";
import { initEngine } from "../../src/tensor/engine.js";
import { REQUESTS, tinyModel } from "./tiny.js";

await initEngine();
const model = tinyModel();
const req = REQUESTS[0]!;
const score = async (m: typeof model) => (await loglikelihood(m, [{ context: req.prompt.replace("{}", req.subject), continuation: " " + req.targetNew }]))[0]!.sum;

test("FT-L: |ΔW| ≤ ε elementwise, only the layer's W_out changes, the target gains", async () => {
  const hp = { ...ftDefaults(model.config, "ft-l"), layers: [1], lr: 1e-2, numSteps: 10, normConstraint: 2e-3 };
  const patch = await ftEdit(model, [req], hp, {}, "ft-l");
  assert.deepEqual(Object.keys(patch.deltas), ["blocks.1.mlp.W_out"]);
  let max = 0;
  for (const v of patch.deltas["blocks.1.mlp.W_out"]!.data) max = Math.max(max, Math.abs(v));
  assert.ok(max <= 2e-3 * (1 + 1e-5) && max > 1.9e-3, `max |Δ| = ${max}: the bound binds and holds`);
  const edited = applyPatch(model, patch);
  assert.ok((await score(edited)) > (await score(model)), "target gains");
  edited.dispose();
});

test("unconstrained FT and FT-M move weights past the bound and drive the target's loss down", async () => {
  for (const variant of ["ft", "ft-m"] as const) {
    const hp = { ...ftDefaults(model.config, variant), layers: [0, 1], lr: 1e-2, numSteps: 10 };
    assert.equal(hp.normConstraint, false);
    const patch = await ftEdit(model, [req], hp, {}, variant);
    assert.deepEqual(Object.keys(patch.deltas).sort(), ["blocks.0.mlp.W_out", "blocks.1.mlp.W_out"]);
    let max = 0;
    for (const v of patch.deltas["blocks.1.mlp.W_out"]!.data) max = Math.max(max, Math.abs(v));
    assert.ok(max > 2e-2, `${variant}: max |Δ| = ${max}`);
    const edited = applyPatch(model, patch);
    const [a, b] = [await score(model), await score(edited)];
    assert.ok(b > a + 1, `${variant}: log P(target) ${a.toFixed(3)} → ${b.toFixed(3)}`);
    edited.dispose();
  }
});
