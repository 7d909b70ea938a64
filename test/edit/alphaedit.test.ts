/**
 * AlphaEdit (edit/alphaedit.ts): P projects onto the small-eigenvalue directions of C; the update
 * leaves every preserved key's output unchanged (k₀ᵀ ΔW ≈ 0) where MEMIT's does not; on a tiny
 * model the edit moves the targets while the large-eigenvalue directions of C stay untouched; and
 * sequential edits accumulate the edited keys (cache_c).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { alphaEdit, alphaEditLayerUpdate, AlphaEditState, nullSpaceProjector } from "../../src/edit/alphaedit.js";
import { averagedKeys } from "../../src/edit/compute-key.js";
import { contextTemplates } from "../../src/edit/context-templates.js";
import { alphaEditDefaults } from "../../src/edit/hparams.js";
import { symEig64, mat64 } from "../../src/analysis/linalg64.js";
import { memitLayerUpdate } from "../../src/edit/memit.js";
import { keyCovariance } from "../../src/edit/mom2.js";
import { loglikelihood } from "../../src/eval/logprobs.js";
import { applyPatch } from "../../src/model/patch.js";
import { initEngine } from "../../src/tensor/engine.js";
import { FAST, REQUESTS, TINY, tinyModel } from "./tiny.js";

await initEngine();

function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
}

/** max over keys of ‖kᵀ Δ‖ / (‖k‖ ‖Δ‖). */
function leak(keys: Float64Array[], D: Float64Array, d: number, dOut: number): number {
  let normD = 0;
  for (const v of D) normD += v * v;
  normD = Math.sqrt(normD);
  let worst = 0;
  for (const k of keys) {
    let out = 0;
    for (let j = 0; j < dOut; j++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += k[i]! * D[i * dOut + j]!;
      out += s * s;
    }
    worst = Math.max(worst, Math.sqrt(out) / (Math.hypot(...k) * normD));
  }
  return worst;
}

test("the update is orthogonal to preserved keys: k₀ᵀ ΔW ≈ 0 (MEMIT's is not)", () => {
  const r = rng(5);
  const d = 16;
  const dOut = 5;
  // Preserved keys span a 10-dimensional subspace: C has 6 zero eigenvalues.
  const basis = Array.from({ length: 10 }, () => Float64Array.from({ length: d }, r));
  const K0 = Array.from({ length: 60 }, () => {
    const k = new Float64Array(d);
    for (const b of basis) {
      const c = r() * 2;
      for (let i = 0; i < d; i++) k[i]! += c * b[i]!;
    }
    return k;
  });
  const C = new Float64Array(d * d);
  for (const k of K0) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) C[i * d + j]! += (k[i]! * k[j]!) / K0.length;
  const { P, rank } = nullSpaceProjector(C, d, 1e-8);
  assert.equal(rank, 6);
  // P is a projector: P² = P, symmetric.
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let m = 0; m < d; m++) s += P[i * d + m]! * P[m * d + j]!;
      assert.ok(Math.abs(s - P[i * d + j]!) < 1e-10 && Math.abs(P[i * d + j]! - P[j * d + i]!) < 1e-12);
    }
  }
  const keys = Array.from({ length: 3 }, () => Float64Array.from({ length: d }, r));
  const resid = Array.from({ length: 3 }, () => Float64Array.from({ length: dOut }, r));
  const D = alphaEditLayerUpdate(P, new Float64Array(d * d), keys, resid, 1e-3).data;
  assert.ok(leak(K0, D, d, dOut) < 1e-9, `AlphaEdit leak ${leak(K0, D, d, dOut)}`);
  // MEMIT with the same C (a small ridge keeps λC + KKᵀ invertible) writes into preserved directions.
  const M = memitLayerUpdate(C.map((v, i) => v + (i % (d + 1) === 0 ? 1e-2 : 0)), keys, resid, 1).data;
  assert.ok(leak(K0, M, d, dOut) > 1e-2, `MEMIT leak ${leak(K0, M, d, dOut)}`);
});

test("AlphaEdit on a tiny model: targets gain, C's large-eigenvalue directions are untouched, cache_c accumulates", async () => {
  const model = tinyModel();
  const base = { ...alphaEditDefaults(model.config), ...FAST, layers: [0, 1] };
  // Protect the top half of each layer's key spectrum (a random model's C has no exact null space).
  const C1 = await keyCovariance(model, 1, base, { caches: TINY });
  const d = model.config.dMlp;
  const eig = symEig64(mat64(d, d, C1));
  const threshold = eig.values[Math.floor(d / 2)]!;
  const hp = { ...base, nullspaceThreshold: threshold, L2: 1e-3 };
  const state = new AlphaEditState();
  const patch = await alphaEdit(model, REQUESTS.slice(0, 2), hp, { caches: TINY }, state);
  assert.deepEqual(Object.keys(patch.deltas).sort(), ["blocks.0.mlp.W_out", "blocks.1.mlp.W_out"]);
  const D1 = Float64Array.from(patch.deltas["blocks.1.mlp.W_out"]!.data);
  const protectedDirs: Float64Array[] = [];
  eig.values.forEach((v, c) => v >= threshold && protectedDirs.push(Float64Array.from({ length: d }, (_, i) => eig.vectors.data[i * d + c]!)));
  assert.ok(protectedDirs.length >= d / 2 - 1);
  assert.ok(leak(protectedDirs, D1, d, model.config.dModel) < 1e-5, `leak ${leak(protectedDirs, D1, d, model.config.dModel)}`);

  const edited = applyPatch(model, patch);
  const reqs = REQUESTS.slice(0, 2).map((r) => ({ context: r.prompt.replace("{}", r.subject), continuation: " " + r.targetNew }));
  const [before, after] = [await loglikelihood(model, reqs), await loglikelihood(edited, reqs)];
  before.forEach((b, i) => assert.ok(after[i]!.sum > b.sum + 0.1, `request ${i}: ${b.sum.toFixed(3)} → ${after[i]!.sum.toFixed(3)}`));

  // cache_c = Σ K Kᵀ of the edited model's keys.
  const layer1 = await state.layer(model, 1, hp, {});
  const templates = await contextTemplates(model, hp, 0, TINY);
  const keys = await averagedKeys(edited, 1, REQUESTS.slice(0, 2), templates, "grouped");
  for (const [i, j] of [[0, 0], [3, 7], [d - 1, d - 1]] as const) {
    const want = keys.reduce((s, k) => s + k[i]! * k[j]!, 0);
    assert.ok(Math.abs(layer1.cacheC[i * d + j]! - want) < 1e-9 * (1 + Math.abs(want)));
  }
  // A second, sequential edit on the edited model reuses the state (same P, grown cache_c).
  const patch2 = await alphaEdit(edited, REQUESTS.slice(2), hp, { caches: TINY }, state);
  const layer1b = await state.layer(edited, 1, hp, {});
  assert.equal(layer1b, layer1, "state is per unedited model");
  const keys2 = await averagedKeys(applyPatch(edited, patch2), 1, REQUESTS.slice(2), templates, "grouped");
  const want00 = keys.reduce((s, k) => s + k[0]! * k[0]!, 0) + keys2[0]![0]! ** 2;
  assert.ok(Math.abs(layer1.cacheC[0]! - want00) < 1e-9 * (1 + want00));
  edited.dispose();
  model.dispose();
});
