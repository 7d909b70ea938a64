/**
 * MEMIT (edit/memit.ts): the per-layer solve equals the float64 normal-equation solution computed
 * independently (Gauss–Jordan inverse); a batch edit on a tiny model moves each request's residual
 * at the last edited layer toward its z* (MEMIT's objective) and changes exactly the W_out of its layers.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { memitDefaults } from "../../src/edit/hparams.js";
import { memitEdit, memitLayerUpdate, residualsAt, spreadOverLayers, type LayerSolver } from "../../src/edit/memit.js";
import { keyCovariance } from "../../src/edit/mom2.js";
import { applyPatch, unpatch } from "../../src/model/patch.js";
import { initEngine } from "../../src/tensor/engine.js";
import { readF32 } from "../../src/tensor/own.js";
import { FAST, REQUESTS, TINY, tinyModel } from "./tiny.js";

await initEngine();

function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
}

/** A⁻¹ by Gauss–Jordan with partial pivoting (independent of linalg64.ts). */
function inverse(A: number[][]): number[][] {
  const n = A.length;
  const M = A.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    const piv = M[c]![c]!;
    M[c] = M[c]!.map((v) => v / piv);
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r]![c]!;
      M[r] = M[r]!.map((v, j) => v - f * M[c]![j]!);
    }
  }
  return M.map((row) => row.slice(n));
}

test("memitLayerUpdate = (λC + KKᵀ)⁻¹ K Rᵀ, the normal-equation solution, in float64", () => {
  const r = rng(11);
  const d = 14;
  const n = 5;
  const dOut = 6;
  const lambda = 3.5;
  const X = Array.from({ length: 40 }, () => Array.from({ length: d }, r));
  const C = new Float64Array(d * d);
  for (const x of X) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) C[i * d + j]! += (x[i]! * x[j]!) / X.length;
  const keys = Array.from({ length: n }, () => Float64Array.from({ length: d }, r));
  const resid = Array.from({ length: n }, () => Float64Array.from({ length: dOut }, r));
  const got = memitLayerUpdate(C, keys, resid, lambda);
  const A = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => lambda * C[i * d + j]! + keys.reduce((s, k) => s + k[i]! * k[j]!, 0)));
  const Ainv = inverse(A);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < dOut; j++) {
      // (A⁻¹ K Rᵀ)[i][j] = Σ_c (A⁻¹ k_c)[i] r_c[j]
      let want = 0;
      for (let c = 0; c < n; c++) want += Ainv[i]!.reduce((s, a, m) => s + a * keys[c]![m]!, 0) * resid[c]![j]!;
      assert.ok(Math.abs(got.data[i * dOut + j]! - want) < 1e-12 * (1 + Math.abs(want)), `[${i}][${j}] ${got.data[i * dOut + j]} vs ${want}`);
    }
  }
  // And it is a minimiser: ∂/∂Δ (‖ΔᵀK − R‖² + λ tr ΔᵀCΔ) = 0 ⇔ (λC + KKᵀ)Δ = K Rᵀ.
  const lhs = (i: number, j: number) => A[i]!.reduce((s, a, m) => s + a * got.data[m * dOut + j]!, 0);
  for (const [i, j] of [[0, 0], [5, 3], [13, 5]] as const) {
    const rhs = keys.reduce((s, k, c) => s + k[i]! * resid[c]![j]!, 0);
    assert.ok(Math.abs(lhs(i, j) - rhs) < 1e-10);
  }
});

test("MEMIT batch edit: each request's residual moves toward z*; only the layer range's W_out changes; reverts bitwise", async () => {
  const model = tinyModel();
  const hp = { ...memitDefaults(model.config), ...FAST, layers: [0, 1], mom2UpdateWeight: 1 };
  // memitEdit's own algorithm, with its result inspected: z*, and the model after every layer's update.
  const solve: LayerSolver = async (_i, layer, keys, resid) => memitLayerUpdate(await keyCovariance(model, layer, hp, { caches: TINY }), keys, resid, hp.mom2UpdateWeight);
  const { zs, edited: viaSpread } = await spreadOverLayers(model, REQUESTS, hp, {}, solve, "memit");
  const before = await residualsAt(model, 1, REQUESTS);
  const after = await residualsAt(viaSpread, 1, REQUESTS);
  zs.forEach((z, i) => {
    const d0 = Math.hypot(...z.map((v, j) => v - before[i]![j]!));
    const d1 = Math.hypot(...z.map((v, j) => v - after[i]![j]!));
    assert.ok(d1 < 0.5 * d0, `request ${i}: ‖h − z*‖ ${d0.toFixed(3)} → ${d1.toFixed(3)}`);
  });
  viaSpread.dispose();

  const patch = await memitEdit(model, REQUESTS.slice(0, 2), { ...hp, vNumGradSteps: 2 }, { caches: TINY });
  assert.equal(patch.info.method, "memit");
  assert.deepEqual(Object.keys(patch.deltas).sort(), ["blocks.0.mlp.W_out", "blocks.1.mlp.W_out"]);
  for (const d of Object.values(patch.deltas)) assert.ok(Math.hypot(...d.data) > 1e-3, "a real update");
  const edited = applyPatch(model, patch);
  for (const name of Object.keys(model.params)) {
    if (name in patch.deltas) continue;
    assert.deepEqual(await readF32(edited.params[name]!.ref), await readF32(model.params[name]!.ref), `${name} unchanged`);
  }
  const W0 = await readF32(model.params["blocks.0.mlp.W_out"]!.ref);
  assert.equal(unpatch(edited), model);
  assert.deepEqual(await readF32(unpatch(edited).params["blocks.0.mlp.W_out"]!.ref), W0);
  edited.dispose();
  model.dispose();
});
