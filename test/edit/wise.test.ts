/**
 * WISE (model/modules/wise.ts, edit/wise.ts, edit/wise-merge.ts): TIES merging, the router and the
 * margin loss on hand examples; the side memory's routing on the tiny model against a score
 * computed here in plain JS; a real edit; patch apply/revert/save/load/compose; resume.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { numpy as np } from "@jax-js/jax";
import { meanPositive, WiseEditor, wiseDefaults, wiseEditor, wiseMarginLoss, type WiseHparams } from "../../src/edit/wise.js";
import { tiesMerge, trimByMagnitude } from "../../src/edit/wise-merge.js";
import { encodePrompt } from "../../src/edit/tokens.js";
import { wiseKind, wiseRoute, wiseRowScore, type WiseModule } from "../../src/model/modules/wise.js";
import { savePatch, loadPatch } from "../../src/model/patch-file.js";
import { patchHash } from "../../src/model/patch-hash.js";
import { applyPatch, composePatches, unpatch, type ModulePatch, type WeightPatch } from "../../src/model/patch.js";
import type { Model } from "../../src/model/types.js";
import { initEngine } from "../../src/tensor/engine.js";
import { readF32 } from "../../src/tensor/own.js";
import { fwCase, tinyWordModel } from "./edit-fixtures.js";

await initEngine();

test("TIES merge: trim by density, elect the sign of the weighted sum, disjoint mean (hand example)", () => {
  // base 1; shards base + [3,−1,2,0] and base + [−1,−2,4,1]; weights ½, ½; density ½ (k = 2).
  // Trimmed: δ1 = [3,0,2,0], δ2 = [0,−2,4,0]. Σwδ = [1.5,−1,3,0] → signs [+,−,+,+ (0 counts +)].
  // Agreeing: entry 0 only δ1, entry 1 only δ2, entry 2 both, entry 3 none (divisor 0 → 1).
  // Merged Δ = [1.5/0.5, −1/0.5, 3/1, 0] = [3, −2, 3, 0].
  const base = Float32Array.from([1, 1, 1, 1]);
  const s1 = Float32Array.from([4, 0, 3, 1]);
  const s2 = Float32Array.from([0, -1, 5, 2]);
  assert.deepEqual([...trimByMagnitude(Float32Array.from([3, -1, 2, 0]), 0.5)], [3, 0, 2, 0]);
  assert.deepEqual([...tiesMerge(base, [s1, s2], [0.5, 0.5], 0.5)], [4, -1, 4, 1]);
  // Density 1 keeps everything; opposite signs of equal weight: the elected + wins at 0 (sum ≥ 0).
  assert.deepEqual([...tiesMerge(Float32Array.from([0, 0]), [Float32Array.from([2, -2]), Float32Array.from([-2, 1])], [1, 1], 1)], [2, -2]);
  assert.throws(() => tiesMerge(base, [s1], [1, 1], 0.5), RangeError);
});

test("router decisions (hand example): Merge threshold / argmax, Retrieve's ordered scan", () => {
  assert.equal(wiseRoute("merge", [2, 2.4], [2.5, 2.5]), -1); // both below → main memory
  assert.equal(wiseRoute("merge", [2, 3], [2.5, 2.5]), 1);
  assert.equal(wiseRoute("merge", [3, 2.6], [2.5, 2.5]), 0);
  assert.equal(wiseRoute("merge", [3, 3], [2.5, 2.5]), 1); // tie → the later (WISE.py dist1 > dist2 else new)
  // Retrieve: current shard 1 < 2 → main, best 1; memory 1: 5 > 1 and 5 > 4 → 1, best 5; memory 2: 6 > 5 but 6 ≤ 7.
  assert.equal(wiseRoute("retrieve", [1, 5, 6], [2, 4, 7]), 1);
  assert.equal(wiseRoute("retrieve", [3, 2, 1], [2, 0, 0]), 0);
  // Row score: mean over tokens 0…q; the tokens after q (the scored continuation) do not count.
  assert.equal(wiseRowScore([1, 2, 3, 100], 2), 2);
});

test("margin loss: mean of the positive parts per term, averaged over requests (hand example)", async () => {
  // Request 1: s_edit [10, 30], s_irr 8, α 5, β 20, γ 10:
  //   ⟨8 − s_edit + 10⟩₊ = ⟨[8, −12]⟩₊ = 8;  ⟨8 − 5⟩₊ = 3;  ⟨20 − s_edit⟩₊ = ⟨[10, −10]⟩₊ = 10 → 21.
  // Request 2: s_edit [25, 25], s_irr 1: every term ≤ 0 → 0. Mean 10.5.
  const l = wiseMarginLoss(np.array([[10, 30], [25, 25]]), np.array([8, 1]), 5, 20, 10);
  const lv = (await readF32(l))[0]!;
  assert.ok(Math.abs(lv - 10.5) < 1e-5, `margin loss ${lv}, by hand 10.5 (the mean of the relu parts would give 6)`);
  const mp = await readF32(meanPositive(np.array([[-1, 2, 4], [-1, -2, 0]])));
  assert.ok(Math.abs(mp[0]! - 3) < 1e-6 && mp[1] === 0, `⟨[−1, 2, 4]⟩₊ = 3, ⟨[−1, −2, 0]⟩₊ = 0; got ${[...mp]}`);
});

/** x·W on the host: a [T, m], W [m, n]. */
function matmulHost(a: Float32Array, T: number, W: Float32Array, m: number, n: number): Float32Array {
  const out = new Float32Array(T * n);
  for (let t = 0; t < T; t++) for (let k = 0; k < m; k++) {
    const x = a[t * m + k]!;
    for (let j = 0; j < n; j++) out[t * n + j] += x * W[k * n + j]!;
  }
  return out;
}

const silu = (x: number) => x / (1 + Math.exp(-x));

/** The WISE score of one prompt computed here in plain JS: mean_t ‖silu(a_t·W) − silu(y_t)‖. */
async function hostScore(model: Model, l: number, ids: number[], W: Float32Array): Promise<{ score: number; side: Float32Array }> {
  const { cache, logits } = model.forward([ids], { cache: [`blocks.${l}.mlp.hook_post`, `blocks.${l}.hook_mlp_out`] });
  logits!.dispose();
  const a = await readF32(cache[`blocks.${l}.mlp.hook_post`]!);
  const y = await readF32(cache[`blocks.${l}.hook_mlp_out`]!);
  const [m, n] = model.params[`blocks.${l}.mlp.W_out`]!.shape as [number, number];
  const T = ids.length;
  const side = matmulHost(a, T, W, m, n);
  let score = 0;
  for (let t = 0; t < T; t++) {
    let sq = 0;
    for (let j = 0; j < n; j++) sq += (silu(side[t * n + j]!) - silu(y[t * n + j]!)) ** 2;
    score += Math.sqrt(sq) / T;
  }
  return { score, side };
}

test("side memory routing on the tiny model: the score computed in plain JS decides, outputs are exact", async () => {
  const model = tinyWordModel();
  const l = 2;
  const [m, n] = model.params[`blocks.${l}.mlp.W_out`]!.shape as [number, number];
  const W0 = await readF32(model.params[`blocks.${l}.mlp.W_out`]!.ref);
  const W = W0.map((v, i) => v + 0.05 * Math.sin(i));
  const ids = encodePrompt(model.tokenizer, "Aldo Venn was born in");
  const other = encodePrompt(model.tokenizer, "Mira Tal lives");
  const one = await hostScore(model, l, ids, W);
  const two = await hostScore(model, l, other, W);
  assert.notEqual(one.score, two.score);
  const mod = (minAct: number): ModulePatch => ({
    type: "module", info: { method: "wise" },
    module: { kind: "wise", layer: l, act: "silu", actRatio: 0.5, routing: "merge", memories: [{ W: { shape: [m, n], data: W }, minAct }] } as WiseModule,
  });
  const base = await readF32(model.forward([ids]).logits!);
  // threshold = minAct × 0.5 just above the score → the main memory, bit for bit.
  assert.deepEqual(await readF32(applyPatch(model, mod((one.score * 1.01) / 0.5)).forward([ids]).logits!), base);
  // … just below → the side memory's output a·W replaces y.
  const above = applyPatch(model, mod((one.score * 0.99) / 0.5));
  const routed = await readF32(above.forward([ids], { cache: [`blocks.${l}.hook_mlp_out`] }).cache[`blocks.${l}.hook_mlp_out`]!);
  assert.equal(routed.length, one.side.length);
  for (let i = 0; i < routed.length; i++) assert.ok(Math.abs(routed[i]! - one.side[i]!) < 1e-4, `side output ${i}`);
  // One batch, a threshold between the two rows' scores: the higher-scoring row takes the side
  // memory, the other keeps the main memory's output (as in its unpatched single-row forward).
  const [hi, lo] = one.score > two.score ? [ids, other] : [other, ids];
  const mid = applyPatch(model, mod((one.score + two.score) / 2 / 0.5));
  const T = Math.max(ids.length, other.length);
  const pad = (r: number[]) => [...r, ...new Array<number>(T - r.length).fill(0)];
  const mask = (r: number[]) => [...r.map(() => 1), ...new Array<number>(T - r.length).fill(0)];
  const batch = await readF32(mid.forward([pad(hi), pad(lo)], { attentionMask: [mask(hi), mask(lo)], cache: [`blocks.${l}.hook_mlp_out`] }).cache[`blocks.${l}.hook_mlp_out`]!);
  const hiSide = (hi === ids ? one : two).side;
  const loMain = await readF32(model.forward([lo], { cache: [`blocks.${l}.hook_mlp_out`] }).cache[`blocks.${l}.hook_mlp_out`]!);
  for (let i = 0; i < hiSide.length; i++) assert.ok(Math.abs(batch[i]! - hiSide[i]!) < 1e-4, `routed row ${i}`);
  for (let i = 0; i < loMain.length; i++) assert.ok(Math.abs(batch[T * n + i]! - loMain[i]!) < 1e-5, `unrouted row ${i}`);
  assert.throws(() => applyPatch(model, { ...mod(1), module: { ...mod(1).module, layer: 9 } as WiseModule }), RangeError);
});

function tinyHp(model: Model, over: Partial<WiseHparams> = {}): WiseHparams {
  return {
    ...wiseDefaults(model.config), layers: [2], nIter: 10, maskRatio: 1, normConstraint: 5,
    contextTemplateLengthParams: [[5, 1]], irrelevantCount: 4, ...over,
  };
}

async function argmaxAfter(model: Model, text: string): Promise<string> {
  const ids = encodePrompt(model.tokenizer, text);
  const lg = await readF32(model.forward([ids]).logits!);
  const V = lg.length / ids.length;
  const row = lg.subarray((ids.length - 1) * V, ids.length * V);
  let best = 0;
  for (let v = 1; v < V; v++) if (row[v]! > row[best]!) best = v;
  return model.tokenizer.decode([best]).trim();
}

test("a real edit flips the tiny model's prediction, leaves an unrelated prompt; the patch applies, reverts, saves, composes", async () => {
  const model = tinyWordModel();
  const c = fwCase("a", "Aldo Venn", "Tovia", "Kelmar");
  assert.notEqual(await argmaxAfter(model, "Aldo Venn was born in"), "Tovia");
  const unrelatedBefore = await argmaxAfter(model, "Oren Sade was born in");
  const editor = wiseEditor.create();
  const patch = (await editor.edit(model, [c.request], tinyHp(model), { seed: 1 })) as ModulePatch;
  assert.equal(patch.info.method, "wise");
  const edited = applyPatch(model, patch);
  assert.equal(await argmaxAfter(edited, "Aldo Venn was born in"), "Tovia");
  assert.equal(await argmaxAfter(edited, "Oren Sade was born in"), unrelatedBefore);

  const probe = [[1, 2, 3, 4]];
  const base = await readF32(model.forward(probe).logits!);
  assert.deepEqual(await readF32(unpatch(edited).forward(probe).logits!), base);

  const dir = await mkdtemp(path.join(tmpdir(), "wise-"));
  try {
    await savePatch(path.join(dir, "p.safetensors"), patch);
    const loaded = await loadPatch(path.join(dir, "p.safetensors"));
    assert.equal(await patchHash(loaded), await patchHash(patch));
    const ids = encodePrompt(model.tokenizer, "Aldo Venn was born in");
    assert.deepEqual(await readF32(applyPatch(model, loaded).forward([ids]).logits!), await readF32(edited.forward([ids]).logits!));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  // Composed with a weight patch on another layer: the same as applying one after the other.
  const name = "blocks.0.mlp.W_out";
  const shape = model.params[name]!.shape as number[];
  const w: WeightPatch = { type: "weights", info: { method: "test" }, deltas: { [name]: { shape, data: new Float32Array(shape[0]! * shape[1]!).fill(0.01) } } };
  const composed = applyPatch(model, composePatches([w, patch]));
  const stepwise = applyPatch(applyPatch(model, w), patch);
  assert.deepEqual(await readF32(composed.forward(probe).logits!), await readF32(stepwise.forward(probe).logits!));
  assert.deepEqual(wiseKind.decode(wiseKind.encode(patch.module as WiseModule)).memories.length, (patch.module as WiseModule).memories.length);
  await assert.rejects(editor.edit(model, [c.request], { ...tinyHp(model), replay: true }), RangeError);
});

test("resume: exportState → importState continues the stream exactly (sharded, merged)", async () => {
  const model = tinyWordModel();
  const cs = [fwCase("a", "Aldo Venn", "Tovia", "Kelmar"), fwCase("b", "Mira Tal", "Brisk", "Kelmar"), fwCase("c", "Oren Sade", "Kelmar", "Tovia")];
  // save every edit, merge every 2: edit 2 merges two shards by TIES; edit 3 is a fresh shard.
  const hp = tinyHp(model, { nIter: 3, maskRatio: 0.5, saveFreq: 1, mergeFreq: 2, densities: 0.5 });
  const whole = new WiseEditor();
  let last: ModulePatch | undefined;
  for (const c of cs) last = (await whole.edit(model, [c.request], hp, { seed: 2 })) as ModulePatch;
  const first = new WiseEditor();
  let p: ModulePatch | undefined;
  for (const c of cs.slice(0, 2)) p = (await first.edit(model, [c.request], hp, { seed: 2 })) as ModulePatch;
  const state = JSON.parse(JSON.stringify(first.exportState()));
  const resumed = new WiseEditor();
  resumed.importState(state, p);
  const after = (await resumed.edit(model, [cs[2]!.request], hp, { seed: 2 })) as ModulePatch;
  const mods = [last!.module as WiseModule, after.module as WiseModule];
  assert.equal(mods[0]!.memories.length, 1); // merged memory; the shard saved at edit 3 merges at inference
  assert.deepEqual(mods[1]!.memories.map((x) => [...x.W.data]), mods[0]!.memories.map((x) => [...x.W.data]));
  assert.deepEqual(mods[1]!.memories.map((x) => x.minAct), mods[0]!.memories.map((x) => x.minAct));
  resumed.reset();
  assert.equal(resumed.exportState(), null);
});
