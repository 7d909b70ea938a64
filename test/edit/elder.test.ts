/**
 * ELDER (model/modules/elder.ts, edit/elder.ts): the router/mixture on a hand example, the
 * allocation-code deferral (inside the Hamming radius → adapters on, outside → bit-exact unedited),
 * a real edit on the tiny fixture model, patch apply/revert/save/load/compose, and resume.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { numpy as np } from "@jax-js/jax";
import { ElderEditor, elderDefaults, elderEditor, type ElderHparams } from "../../src/edit/elder.js";
import { encodePrompt, fill, targetIds } from "../../src/edit/tokens.js";
import { allocationCode, elderKind, mixtureDelta, nearestHamming, routeOne, type ElderModule } from "../../src/model/modules/elder.js";
import { savePatch, loadPatch } from "../../src/model/patch-file.js";
import { patchHash } from "../../src/model/patch-hash.js";
import { applyPatch, composePatches, unpatch, type ModulePatch, type WeightPatch } from "../../src/model/patch.js";
import type { Model } from "../../src/model/types.js";
import { initEngine } from "../../src/tensor/engine.js";
import { readF32 } from "../../src/tensor/own.js";
import { initLora } from "../../src/train/lora.js";
import { Rng } from "../../src/util/rng.js";
import { fwCase, tinyWordModel } from "./edit-fixtures.js";

await initEngine();

const host = (shape: number[], data: number[]) => ({ shape, data: Float32Array.from(data) });

test("router: softmax, top-k (not renormalised) and the k-hot code, on a hand example", () => {
  // q = [1, 2]; W = [[1, 0, 0], [0, 0.5, 0]]; b = 0 → logits [1, 1, 0].
  const router = { W: host([2, 3], [1, 0, 0, 0, 0.5, 0]), b: host([3], [0, 0, 0]) };
  const r = routeOne([1, 2], router, 2);
  const p01 = Math.E / (2 * Math.E + 1);
  assert.deepEqual(r.top, [0, 1]);
  assert.ok(Math.abs(r.weights[0]! - p01) < 1e-12 && Math.abs(r.weights[1]! - p01) < 1e-12);
  assert.equal(r.weights[2], 0);
  assert.ok(Math.abs(r.probs[2]! - 1 / (2 * Math.E + 1)) < 1e-12);
  // Two targets' top-2 sets {0,1} and {2,3} with E = 4 → code 1100 0011.
  assert.deepEqual([...allocationCode([[0, 1], [2, 3]], 4)], [1, 1, 0, 0, 0, 0, 1, 1]);
  const codes = host([2, 8], [1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0]);
  assert.equal(nearestHamming(allocationCode([[0, 2], [2, 3]], 4), codes), 2);
  assert.equal(nearestHamming(allocationCode([[0, 1], [2, 3]], 4), host([0, 8], [])), Infinity);
});

test("mixture: Σ_e w_e·s·(x·A_e)·B_e on a hand example", async () => {
  // x = [1, 2]; s = 2. Expert 0: A = [1, 0]ᵀ, B = [1, 0] → [2, 0]; expert 1: A = [0, 1]ᵀ, B = [0, 1] → [0, 4];
  // expert 2: A = [1, 1]ᵀ, B = [1, 1] → [6, 6]. Row 0: w = [0.25, 0.5, 0] → [0.5, 2]; row 1: w = [0, 0, 1] → [6, 6].
  const x = np.array(Float32Array.from([1, 2, 1, 2])).reshape([2, 1, 2]);
  const A = np.array(Float32Array.from([1, 0, 0, 1, 1, 1])).reshape([3, 2, 1]);
  const B = np.array(Float32Array.from([1, 0, 0, 1, 1, 1])).reshape([3, 1, 2]);
  const w = np.array(Float32Array.from([0.25, 0.5, 0, 0, 0, 1])).reshape([2, 3]);
  const d = mixtureDelta(x, A, B, w, 2);
  assert.deepEqual(d.shape, [2, 1, 2]);
  assert.deepEqual([...(await readF32(d))], [0.5, 2, 6, 6]);
});

/** A hand-built module on the tiny model: 3 experts on blocks.2.mlp.W_out, query at blocks.1.mlp.hook_post. */
function handModule(model: Model, codes: number[][], threshold: number): ElderModule {
  const t = "blocks.2.mlp.W_out";
  const experts = [0, 1, 2].map((e) => {
    const a = initLora(model, { targets: [t], rank: 2, alpha: 2, seed: 10 + e });
    const f = a.targets[t]!;
    const rng = new Rng(20 + e);
    f.B = { shape: f.B.shape, data: f.B.data.map(() => rng.uniform(-1, 1)) };
    return a;
  });
  const d = model.config.dMlp;
  const rng = new Rng(5);
  const router = { W: host([d, 3], Array.from({ length: d * 3 }, () => rng.uniform(-1, 1))), b: host([3], [0, 0, 0]) };
  return { kind: "elder", queryHook: "blocks.1.mlp.hook_post", topK: 1, threshold, targets: [t], experts, routers: { [t]: router }, codes: host([codes.length, 3], codes.flat()) };
}

async function queryCode(model: Model, m: ElderModule, ids: number[], pos: number): Promise<number[]> {
  const { cache } = model.forward([ids], { cache: [m.queryHook], stopAt: m.queryHook });
  const q = await readF32(cache[m.queryHook]!.slice(0, pos));
  return [...allocationCode([routeOne(q, m.routers[m.targets[0]!]!, m.topK).top], 3)];
}

const logitsOf = async (model: Model, tokens: number[][], queryPositions?: number[]) => readF32(model.forward(tokens, queryPositions ? { queryPositions } : {}).logits!);

test("deferral: inside the Hamming radius the adapters act, outside the output is bit-exact unedited", async () => {
  const model = tinyWordModel();
  const ids = encodePrompt(model.tokenizer, "Aldo Venn was born in");
  const last = ids.length - 1;
  const code = await queryCode(model, handModule(model, [], 1), ids, last);
  const other = code.map((c) => 1 - c); // top-1 of 3 experts: the complement is at distance 3
  const base = await logitsOf(model, [ids]);
  // Stored code equal to the query's (distance 0 < 1): adapters on, the logits move.
  const on = await logitsOf(applyPatch(model, { type: "module", info: { method: "elder" }, module: handModule(model, [other, code], 1) }), [ids]);
  assert.ok(on.some((v, i) => v !== base[i]), "in scope: the adapters must change the output");
  // Only a code at distance 3: threshold 3 → out (3 < 3 is false), bit-exact; threshold 4 → in.
  const out = await logitsOf(applyPatch(model, { type: "module", info: { method: "elder" }, module: handModule(model, [other], 3) }), [ids]);
  assert.deepEqual(out, base);
  const wide = await logitsOf(applyPatch(model, { type: "module", info: { method: "elder" }, module: handModule(model, [other], 4) }), [ids]);
  assert.ok(wide.some((v, i) => v !== base[i]));
  // Mixed batch: the same tokens queried at two positions with different codes; only row 0 in scope.
  let pos = -1;
  for (let p = 0; p < last; p++) if ((await queryCode(model, handModule(model, [], 1), ids, p)).join() !== code.join()) pos = p;
  assert.ok(pos >= 0, "fixture: some position must route differently from the last token");
  const patched = applyPatch(model, { type: "module", info: { method: "elder" }, module: handModule(model, [code], 1) });
  const mixed = await logitsOf(patched, [ids, ids], [last, pos]);
  const half = mixed.length / 2;
  assert.deepEqual(mixed.slice(half), base, "row 1 is out of scope: exactly the unedited logits");
  assert.ok(mixed.slice(0, half).some((v, i) => v !== base[i]));
});

const tinyHp = (model: Model): ElderHparams => ({ ...elderDefaults(model.config), layers: [2], deferralLayer: 1, numExperts: 4, rank: 4, loraAlpha: 8, topK: 2, lr: 5e-2, nIter: 12, threshold: 2, guidedLossWeight: 0.1, seed: 1 });

async function argmaxAfter(model: Model, text: string): Promise<number> {
  const ids = encodePrompt(model.tokenizer, text);
  const logits = await logitsOf(model, [ids]);
  const V = logits.length / ids.length;
  const row = logits.subarray((ids.length - 1) * V, ids.length * V);
  return row.indexOf(Math.max(...row));
}

test("a real edit flips the tiny model's prediction; the patch reverts, saves, loads and composes", async () => {
  const model = tinyWordModel();
  const c = fwCase("1", "Aldo Venn", "Kelmar", "Tovia");
  const text = fill(c.request.prompt, c.request.subject);
  const target = targetIds(model.tokenizer, text, c.request.targetNew)[0]!;
  assert.notEqual(await argmaxAfter(model, text), target, "fixture: the target must not be predicted before the edit");
  const editor = new ElderEditor();
  const patch = (await editor.edit(model, [c.request], tinyHp(model))) as ModulePatch;
  assert.equal(patch.info.method, "elder");
  const edited = applyPatch(model, patch);
  assert.equal(await argmaxAfter(edited, text), target);
  const base = await logitsOf(model, [[1, 2, 3]]);
  assert.deepEqual(await logitsOf(unpatch(edited), [[1, 2, 3]]), base);

  const dir = await mkdtemp(path.join(tmpdir(), "elder-"));
  try {
    await savePatch(path.join(dir, "p.safetensors"), patch);
    const loaded = await loadPatch(path.join(dir, "p.safetensors"));
    assert.equal(await patchHash(loaded), await patchHash(patch));
    assert.deepEqual(await logitsOf(applyPatch(model, loaded), [encodePrompt(model.tokenizer, text)]), await logitsOf(edited, [encodePrompt(model.tokenizer, text)]));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const W = model.params["blocks.0.mlp.W_out"]!;
  const weights: WeightPatch = { type: "weights", info: { method: "w" }, deltas: { "blocks.0.mlp.W_out": { shape: [...W.shape], data: Float32Array.from({ length: W.size }, (_, i) => 0.01 * Math.cos(i)) } } };
  const ids = encodePrompt(model.tokenizer, text);
  const both = await logitsOf(applyPatch(model, composePatches([weights, patch])), [ids]);
  assert.deepEqual(both, await logitsOf(applyPatch(applyPatch(model, weights), patch), [ids]));
  assert.notDeepEqual(both, await logitsOf(applyPatch(model, weights), [ids]));
});

test("resume: export after edit 1, import into a fresh editor, edit 2 equals the uninterrupted stream", async () => {
  const model = tinyWordModel();
  const hp = { ...tinyHp(model), nIter: 4 };
  const c1 = fwCase("1", "Aldo Venn", "Kelmar", "Tovia").request;
  const c2 = fwCase("2", "Mira Tal", "Brisk", "Tovia").request;
  const a = new ElderEditor();
  await a.edit(model, [c1], hp);
  const whole = await a.edit(model, [c2], hp);
  const b = new ElderEditor();
  const first = await b.edit(model, [c1], hp);
  const state = JSON.parse(JSON.stringify(b.exportState()));
  const c = new ElderEditor();
  c.importState(state, first);
  const resumed = await c.edit(model, [c2], hp);
  assert.equal(await patchHash(resumed), await patchHash(whole));
  assert.equal(((resumed as ModulePatch).module as ElderModule).codes.shape[0], 2);
  c.reset();
  assert.equal(c.exportState(), undefined);
});

test("bad input: RangeErrors name the field", async () => {
  const model = tinyWordModel();
  const c1 = fwCase("1", "Aldo Venn", "Kelmar", "Tovia").request;
  await assert.rejects(new ElderEditor().edit(model, [c1], { ...tinyHp(model), topK: 9 }), /top_k/);
  await assert.rejects(new ElderEditor().edit(model, [c1], { ...tinyHp(model), deferralLayer: 2, layers: [1] }), /deferral_layer/);
  assert.throws(() => elderKind.decode({ meta: { queryHook: "x" }, tensors: {} }), /queryHook, topK, threshold/);
  assert.equal(elderEditor.keys.num_experts!.field, "numExperts");
});
