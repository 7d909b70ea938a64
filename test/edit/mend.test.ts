/**
 * MEND (edit/mend-net.ts, mend.ts, mend-train.ts, mend-file-node.ts): the rank-1 gradient identity,
 * the editor network's forward and statistics against direct computations, the editor's ΔW, that
 * meta-training lowers the post-edit loss, bit-exact resume, file round trip and refused files.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { grad, numpy as np } from "@jax-js/jax";
import { mendEditor, mendFactors, requestBatch, mendDeltas } from "../../src/edit/mend.js";
import { tokenLogprobs } from "../../src/eval/logprobs.js";
import { idmlpForward, initMendNetwork, networkInput, updateStats, type MendNetwork, type MendShapeNet } from "../../src/edit/mend-net.js";
import { trainMend } from "../../src/edit/mend-train.js";
import { loadMendNetwork, mendCheckpointFile, saveMendNetwork } from "../../src/edit/mend-file-node.js";
import type { Arr } from "../../src/model/types.js";
import { initEngine } from "../../src/tensor/engine.js";
import { disposeTree, readF32 } from "../../src/tensor/own.js";
import { fwCase, tinyWordModel } from "./edit-fixtures.js";

await initEngine();
const model = tinyWordModel();
const CASES = [fwCase("a", "Aldo Venn", "Kelmar", "Tovia"), fwCase("b", "Mira Tal", "Tovia", "Kelmar"), fwCase("c", "Oren Sade", "Brisk", "Kelmar"), fwCase("d", "Aldo Venn", "Acme", "Tovia")];
const INNER = ["blocks.1.mlp.W_gate", "blocks.2.mlp.W_in", "blocks.2.mlp.W_out"];
const dir = await mkdtemp(path.join(tmpdir(), "mend-test-"));
test.after(() => rm(dir, { recursive: true, force: true }));

test("rank-1 identity: Σ_t u_t δ_tᵀ equals jax-js grad of the edit loss w.r.t. W (1e-5)", async () => {
  const batch = requestBatch(model, [CASES[0]!.request, CASES[1]!.request]);
  const { factors } = await mendFactors(model, INNER, batch);
  const W = INNER.map((n) => model.params[n]!.ref);
  const gs = grad((ws: Arr[]) => {
    const p = Object.fromEntries(Object.entries(model.params).filter(([k]) => !INNER.includes(k)).map(([k, v]) => [k, v.ref]));
    INNER.forEach((n, i) => (p[n] = ws[i]!));
    // The loss from every position's logits and the dense targets: independent of the positions mendFactors asks for.
    const { logits, cache } = model.apply(p, batch.tokens, { attentionMask: batch.mask, paddedLogits: true });
    disposeTree(cache);
    const [B, T] = [batch.tokens.length, batch.tokens[0]!.length];
    const { logprobs, greedy } = tokenLogprobs(logits!, np.array(batch.targets, { dtype: np.int32 }).reshape([B, T]));
    greedy.dispose();
    return logprobs.mul(np.array(batch.weights).reshape([B, T])).sum().mul(-1);
  })(W) as Arr[];
  for (let i = 0; i < INNER.length; i++) {
    const g = await readF32(gs[i]!);
    const [din, dout] = model.params[INNER[i]!]!.shape as [number, number];
    const f = factors[i]!;
    let maxErr = 0;
    let maxAbs = 0;
    for (let a = 0; a < din; a++) for (let b = 0; b < dout; b++) {
      let s = 0;
      for (let t = 0; t < f.n; t++) s += f.u[t * din + a]! * f.d[t * dout + b]!;
      maxErr = Math.max(maxErr, Math.abs(s - g[a * dout + b]!));
      maxAbs = Math.max(maxAbs, Math.abs(g[a * dout + b]!));
    }
    assert.ok(maxAbs > 1e-4, `${INNER[i]}: the gradient is not trivially zero`);
    assert.ok(maxErr < 1e-5, `${INNER[i]}: max |Σuδᵀ − ∇W| = ${maxErr}`);
  }
});

test("running statistics: Welford mean and s equal the direct mean and Σ(x − mean)²", () => {
  const stats = { uMean: new Float32Array(), vMean: new Float32Array(), uS: new Float32Array(), vS: new Float32Array(), k: 0 };
  // u rows (2 dims): (1, 2), (3, 6), (5, 1); v rows (1 dim): 4, 0, 2.
  updateStats(stats, new Float32Array([1, 2, 3, 6]), new Float32Array([4, 0]), 2);
  updateStats(stats, new Float32Array([5, 1]), new Float32Array([2]), 1);
  assert.equal(stats.k, 3);
  assert.deepEqual([...stats.uMean], [3, 3]); // (1+3+5)/3, (2+6+1)/3
  assert.deepEqual([...stats.uS], [8, 14]); // 4+0+4, 1+9+4
  assert.deepEqual([...stats.vMean], [2]);
  assert.deepEqual([...stats.vS], [8]); // 4+4+0
});

test("network forward on a hand example equals the direct computation", async () => {
  // xDim 1, deltaDim 1 (dim 2), rank 1, n_hidden 1 (two LRLinear layers), two modes; mode 1 used.
  const sn: MendShapeNet = {
    xDim: 1, deltaDim: 1, nModes: 2,
    params: {
      "layers.0.u": { shape: [2, 1], data: new Float32Array([1, -2]) },
      "layers.0.v": { shape: [1, 2], data: new Float32Array([0.5, 1]) },
      "layers.0.bias": { shape: [2], data: new Float32Array([0.25, 0]) },
      "layers.0.mode_scale": { shape: [2, 2], data: new Float32Array([9, 9, 2, 1]) },
      "layers.0.mode_shift": { shape: [2, 2], data: new Float32Array([9, 9, 0, 0.5]) },
      "layers.1.u": { shape: [2, 1], data: new Float32Array([1, 1]) },
      "layers.1.v": { shape: [1, 2], data: new Float32Array([1, -1]) },
      "layers.1.bias": { shape: [2], data: new Float32Array([0, 0]) },
      "layers.1.mode_scale": { shape: [2, 2], data: new Float32Array([1, 1, 1, 1]) },
      "layers.1.mode_shift": { shape: [2, 2], data: new Float32Array([0, 0, 0, 0]) },
    },
    // stats: mean (1 | 0), s (2 | 8), k = 3 → std = sqrt(1) = 1 and sqrt(4) = 2.
    stats: { uMean: new Float32Array([1]), vMean: new Float32Array([0]), uS: new Float32Array([2]), vS: new Float32Array([8]), k: 3 },
  };
  // u = 3, δ = 4 → û = (3−1)/(1+1e-7) ≈ 2, δ̂ = 4/(2+1e-7) ≈ 2. By hand, with z = (2, 2):
  //  layer 0: v·z = 0.5·2 + 1·2 = 3; pre = (1·3 + 0.25, −2·3 + 0) = (3.25, −6); ·scale(2,1)+shift(0,0.5) = (6.5, −5.5)
  //           clamp → (6.5, 0); + z → (8.5, 2)
  //  layer 1: v·z = 8.5 − 2 = 6.5; pre = (6.5, 6.5); clamp → (6.5, 6.5); + z → (15, 8.5)
  const { x, rows } = networkInput(sn, true, new Float32Array([3]), new Float32Array([4]), 1, false);
  assert.equal(rows, 1);
  const p = Object.fromEntries(Object.entries(sn.params).map(([k, t]) => [k, np.array(t.data).reshape(t.shape)]));
  const out = await readF32(idmlpForward(p, np.array(x).reshape([1, 2]), 1, 1, 2));
  assert.ok(Math.abs(out[0]! - 15) < 1e-5 && Math.abs(out[1]! - 8.5) < 1e-5, `got ${[...out]}`);
  // A row with δ = 0 carries no gradient and is dropped (nz_mask).
  assert.equal(networkInput(sn, true, new Float32Array([3, 1]), new Float32Array([4, 0]), 2, false).rows, 1);
});

test("the editor: ΔW = −α·ũᵀδ̃ with the network (identity at init), WeightPatch method mend; untrained / missing archive refused", async () => {
  const shapes = INNER.map((n) => [...model.params[n]!.shape]);
  const net = initMendNetwork(INNER, shapes, { nHidden: 1, rank: 4, norm: false }, 0.5, 1);
  const patch = await mendEditor.create().edit(model, [CASES[0]!.request], { archive: net, innerParams: [], lrScale: 2 });
  assert.equal(patch.type, "weights");
  if (patch.type !== "weights") return;
  assert.equal(patch.info.method, "mend");
  // U = 0 at init and norm off: g is the identity, so ΔW = −lr_scale·α·Σ u δᵀ = −1·∇W.
  const { factors } = await mendFactors(model, INNER, requestBatch(model, [CASES[0]!.request]));
  const [din, dout] = shapes[2]! as [number, number];
  const f = factors[2]!;
  let maxErr = 0;
  for (let a = 0; a < din; a++) for (let b = 0; b < dout; b++) {
    let s = 0;
    for (let t = 0; t < f.n; t++) s += f.u[t * din + a]! * f.d[t * dout + b]!;
    maxErr = Math.max(maxErr, Math.abs(-1 * s - patch.deltas[INNER[2]!]!.data[a * dout + b]!));
  }
  assert.ok(maxErr < 1e-6, `ΔW vs −∇W: ${maxErr}`);
  await assert.rejects(mendEditor.create().edit(model, [CASES[0]!.request], { archive: null, innerParams: [], lrScale: 1 }), RangeError);
  const normed = initMendNetwork(INNER, shapes, { nHidden: 1, rank: 4, norm: true }, 0.5, 1);
  await assert.rejects(mendDeltas(normed, factors), /untrained/);
});

const TRAIN = { innerParams: INNER, net: { rank: 8 }, lr: 1e-3, editLr: 1e-2, lrLr: 1e-3, accumulateBs: 2, cEdit: 1, seed: 5 };

test("meta-training lowers the post-edit loss on the fixture model", async () => {
  const r = await trainMend(model, CASES, [], { ...TRAIN, lr: 3e-3, accumulateBs: 1, maxIters: 12 });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = mean(r.history.slice(0, 4).map((h) => h.lossEdit));
  const last = mean(r.history.slice(-4).map((h) => h.lossEdit));
  assert.equal(r.steps, 12);
  assert.ok(last < 0.7 * first, `post-edit loss first epoch ${first}, last epoch ${last}`);
  assert.ok(r.history.every((h) => Number.isFinite(h.loss)));
});

test("a killed training resumes bit for bit (stopAtStep, then resume from the checkpoint)", async () => {
  const a = path.join(dir, "a.safetensors");
  const b = path.join(dir, "b.safetensors");
  const full = await trainMend(model, CASES, CASES.slice(0, 2), { ...TRAIN, maxIters: 4, valInterval: 2, valSteps: 1, checkpointEvery: 100, checkpoint: mendCheckpointFile(a) });
  const part = await trainMend(model, CASES, CASES.slice(0, 2), { ...TRAIN, maxIters: 4, valInterval: 2, valSteps: 1, checkpointEvery: 100, checkpoint: mendCheckpointFile(b), stopAtStep: 3 });
  assert.equal(part.steps, 3);
  const resumed = await trainMend(model, CASES, CASES.slice(0, 2), { ...TRAIN, maxIters: 4, valInterval: 2, valSteps: 1, checkpointEvery: 100, checkpoint: mendCheckpointFile(b) });
  assert.equal(resumed.steps, 4);
  const bytes = async (n: MendNetwork, f: string) => (await saveMendNetwork(f, n), readFile(f));
  assert.deepEqual(await bytes(resumed.net, path.join(dir, "r.safetensors")), await bytes(full.net, path.join(dir, "f.safetensors")));
  // The checkpoints hold the same state (all but the wall-clock seconds of the step logs).
  const [sa, sb] = [await mendCheckpointFile(a).load(), await mendCheckpointFile(b).load()];
  const strip = (s: typeof sa) => ({ ...s!, history: s!.history.map((h) => ({ ...h, seconds: 0 })) });
  assert.deepEqual(strip(sb), strip(sa), "the final checkpoints hold the same state");
});

test("network file: round trip; corrupt, foreign and pickle files are refused naming the file", async () => {
  const shapes = INNER.map((n) => [...model.params[n]!.shape]);
  const net = (await trainMend(model, CASES, [], { ...TRAIN, maxIters: 2 })).net;
  const f = path.join(dir, "net.safetensors");
  await saveMendNetwork(f, net);
  const back = await loadMendNetwork(f);
  assert.deepEqual(back.innerParams, INNER);
  assert.deepEqual(back.shapes, shapes);
  assert.deepEqual([...back.editLrs], [...net.editLrs]);
  for (const [k, sn] of Object.entries(net.nets)) {
    for (const [t, h] of Object.entries(sn.params)) assert.deepEqual([...back.nets[k]!.params[t]!.data], [...h.data], `${k}.${t}`);
    assert.equal(back.nets[k]!.stats.k, sn.stats.k);
    assert.deepEqual([...back.nets[k]!.stats.vS], [...sn.stats.vS]);
  }
  const corrupt = path.join(dir, "corrupt.safetensors");
  await writeFile(corrupt, (await readFile(f)).subarray(0, 40));
  await assert.rejects(loadMendNetwork(corrupt), (e: Error & { code?: string }) => e.code === "MEND_FILE_CORRUPT" && e.message.includes(corrupt));
  const pickle = path.join(dir, "mend.safetensors.x");
  await writeFile(pickle, Buffer.from([0x80, 0x04, 0x95, 0, 0, 0]));
  await assert.rejects(loadMendNetwork(pickle), (e: Error & { code?: string }) => e.code === "MEND_PICKLE_REFUSED" && e.message.includes(pickle));
  await assert.rejects(loadMendNetwork(path.join(dir, "none.safetensors")), (e: Error & { code?: string }) => e.code === "MEND_FILE_MISSING");
  // A path archive goes through the node loader by dynamic import.
  const patch = await mendEditor.create().edit(model, [CASES[0]!.request], { archive: f, innerParams: [], lrScale: 1 });
  assert.equal(patch.type, "weights");
});
