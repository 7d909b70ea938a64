/**
 * GRACE (edit/grace.ts, model/modules/grace.ts): the codebook's decisions on hand-made examples,
 * the key rules' ε values worked by hand from GRACE.py's rules, a real edit on the tiny fixture
 * model, and the patch's life cycle (apply, revert, save/load, compose, resume).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGraceEditor, graceDefaults, graceEditor, updateCodebook, type GraceHparams } from "../../src/edit/grace.js";
import { targetRequest } from "../../src/eval/editing/score.js";
import { emptyCodebook, type GraceCodebook } from "../../src/model/modules/grace.js";
import { applyPatch, composePatches, unpatch, type ModulePatch, type Patch } from "../../src/model/patch.js";
import { loadPatch, savePatch } from "../../src/model/patch-file.js";
import { patchHash } from "../../src/model/patch-hash.js";
import type { Model } from "../../src/model/types.js";
import { readF32 } from "../../src/tensor/own.js";
import { initEngine } from "../../src/tensor/engine.js";
import { deriveSeed, makeRng } from "../../src/util/rng.js";
import { trackLiveBuffers } from "../model/live-buffers.js";
import { constantEditor, tinyWordModel } from "./edit-fixtures.js";

await initEngine();

const LAYER = 1;
const POST = `blocks.${LAYER}.mlp.hook_post`;
const OUT = `blocks.${LAYER}.hook_mlp_out`;
const model = tinyWordModel();
const { dMlp, dModel } = model.config;
const ids = (text: string) => targetRequest(model.tokenizer, text, "x").context;

/** hook_post, hook_mlp_out and logits of one unpadded row. */
async function run(m: Model, tokens: number[]): Promise<{ post: Float32Array; out: Float32Array; logits: Float32Array }> {
  const { cache, logits } = m.forward([tokens], { cache: [POST, OUT] });
  return { post: await readF32(cache[POST]!), out: await readF32(cache[OUT]!), logits: await readF32(logits!) };
}

const codebook = (keys: Float32Array[], values: Float32Array[], eps: number[], labels: string[], replacement: GraceCodebook["replacement"] = "replace_last"): GraceCodebook => ({
  kind: "grace",
  layer: LAYER,
  replacement,
  keys: { shape: [keys.length, dMlp], data: Float32Array.from(keys.flatMap((k) => [...k])) },
  values: { shape: [values.length, dModel], data: Float32Array.from(values.flatMap((v) => [...v])) },
  epsilons: { shape: [eps.length], data: Float32Array.from(eps) },
  labels,
});
const patchOf = (c: GraceCodebook): ModulePatch => ({ type: "module", info: { method: "grace" }, module: c });
const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex");

const PROMPT = ids("Aldo Venn was born in");
const OTHER = ids("Mira Tal lives in");

test("codebook: a key within ε replaces W_out's output at the query token by its value exactly; outside ε nothing changes (bit-exact)", async () => {
  const base = await run(model, PROMPT);
  const q = PROMPT.length - 1;
  const h = base.post.slice(q * dMlp, (q + 1) * dMlp);
  // Key = h moved by 0.3 along one axis: distance 0.3 exactly (by construction).
  const key = h.slice();
  key[5]! += 0.3;
  const dist = Math.hypot(...h.map((v, i) => v - key[i]!));
  const value = Float32Array.from({ length: dModel }, (_, i) => (i % 7) * 0.25 - 0.5);
  const inside = applyPatch(model, patchOf(codebook([key], [value], [dist + 0.01], ["Kelmar"])));
  const got = await run(inside, PROMPT);
  assert.equal(bits(got.out.slice(q * dModel, (q + 1) * dModel)), bits(value), "replaced by the value exactly");
  assert.equal(bits(got.out.slice(0, q * dModel)), bits(base.out.slice(0, q * dModel)), "earlier positions untouched");
  assert.notEqual(bits(got.logits), bits(base.logits));
  const outside = applyPatch(model, patchOf(codebook([key], [value], [dist - 0.01], ["Kelmar"])));
  assert.equal(bits((await run(outside, PROMPT)).logits), bits(base.logits), "outside ε: bit-identical logits");
  // The empty codebook adds nothing.
  const empty = applyPatch(model, patchOf(emptyCodebook(LAYER, dMlp, dModel)));
  assert.equal(bits((await run(empty, PROMPT)).logits), bits(base.logits));
});

test("codebook: batch rows use their own query positions; replace_all / replace_prompt write the positions EasyEdit writes", async () => {
  const q = PROMPT.length - 1;
  const h = (await run(model, PROMPT)).post.slice(q * dMlp, (q + 1) * dMlp);
  const value = Float32Array.from({ length: dModel }, (_, i) => i / 10);
  // Row 0: the prompt (matches, distance 0); row 1: a shorter other prompt, right-padded (no match).
  const T = Math.max(PROMPT.length, OTHER.length);
  const pad = (r: number[]) => [...r, ...new Array(T - r.length).fill(0)];
  const mask = [PROMPT, OTHER].map((r) => r.map(() => 1).concat(new Array(T - r.length).fill(0)));
  const fwd = (m: Model) => m.forward([pad(PROMPT), pad(OTHER)], { cache: [OUT], attentionMask: mask });
  const ref = await readF32(fwd(model).cache[OUT]!);
  for (const replacement of ["replace_last", "replace_all", "replace_prompt"] as const) {
    const m = applyPatch(model, patchOf(codebook([h], [value], [1e-3], ["Kelmar"], replacement)));
    const out = await readF32(fwd(m).cache[OUT]!);
    for (let t = 0; t < T; t++) {
      const row0 = out.slice(t * dModel, (t + 1) * dModel);
      // GRACE.py: replace_last writes [:, key_id], replace_all every position, replace_prompt [:, :key_id].
      const written = replacement === "replace_last" ? t === q : replacement === "replace_all" ? true : t < q;
      assert.equal(bits(row0), bits(written ? value : ref.slice(t * dModel, (t + 1) * dModel)), `${replacement} row 0 position ${t}`);
    }
    assert.equal(bits(out.slice(T * dModel)), bits(ref.slice(T * dModel)), `${replacement}: the unmatched row is bit-identical`);
  }
});

test("key rules: add / split / expand give the ε values of GRACE.py's rules (worked by hand)", () => {
  const hp = { eps: 1, epsExpand: "coverage" as const };
  const two = (a: number, b: number) => Float32Array.of(a, b);
  let c: GraceCodebook = { ...emptyCodebook(0, 2, 1), epsilons: { shape: [0], data: new Float32Array(0) } };
  const v = Float32Array.of(0);
  let r = updateCodebook(c, two(0, 0), "A", v, hp);
  assert.equal(r.action, "add");
  c = r.codebook;
  assert.deepEqual([...c.epsilons.data], [1]);
  // ‖(3,4)‖ = 5 > ε₀ + ε₀ = 2: a new key with ε₀, whatever the label.
  r = updateCodebook(c, two(3, 4), "B", v, hp);
  assert.equal(r.action, "add");
  assert.deepEqual([...r.codebook.epsilons.data], [1, 1]);
  // d((0.75, 1), (0, 0)) = 1.25 ≤ 2 and labels differ: split, ε_near = 1.25/2 − 1e-5, ε_new = 1.25/2.
  r = updateCodebook(c, two(0.75, 1), "B", v, hp);
  assert.equal(r.action, "split");
  assert.deepEqual([...r.codebook.epsilons.data], [Math.fround(0.625 - 1e-5), 0.625]);
  assert.deepEqual(r.codebook.labels, ["A", "B"]);
  // Same label at d = 1.25 (≤ 2, > ε = 1): coverage sets ε = 1.25, the key stays.
  r = updateCodebook(c, two(0.75, 1), "A", v, hp);
  assert.equal(r.action, "expand");
  assert.deepEqual([...r.codebook.epsilons.data], [1.25]);
  assert.deepEqual([...r.codebook.keys.data], [0, 0]);
  // moving_average: the key moves halfway, (0.375, 0.5), and ε = 1.25.
  r = updateCodebook(c, two(0.75, 1), "A", v, { eps: 1, epsExpand: "moving_average" });
  assert.deepEqual([...r.codebook.keys.data], [0.375, 0.5]);
  assert.deepEqual([...r.codebook.epsilons.data], [1.25]);
  // Same label inside ε (d = 0.5): nothing changes.
  r = updateCodebook(c, two(0.3, 0.4), "A", v, hp);
  assert.equal(r.action, "covered");
  assert.equal(r.codebook, c);
});

const HP: GraceHparams = { ...graceDefaults(model.config), layers: [LAYER], eps: 0.01, nIter: 15, editLr: 1 };
const REQ = { prompt: "{} was born in", subject: "Aldo Venn", targetNew: "Kelmar", targetTrue: "Tovia" };
let shared: Promise<Patch> | undefined;
/** One edit of REQ, shared by the tests that only read it. */
const editedOnce = () => (shared ??= createGraceEditor().edit(model, [REQ], HP, { seed: 1 }));
const argmaxAt = (logits: Float32Array, pos: number) => {
  const V = model.config.vocabSize;
  const row = logits.slice(pos * V, (pos + 1) * V);
  return row.indexOf(Math.max(...row));
};

test("edit: one GRACE edit flips the tiny model's prediction; other prompts keep their logits bit for bit", async () => {
  const target = model.tokenizer.tokenToId("Kelmar")!;
  const before = await run(model, PROMPT);
  assert.notEqual(argmaxAt(before.logits, PROMPT.length - 1), target, "fixture: not already predicted");
  const patch = (await editedOnce()) as ModulePatch;
  assert.equal(patch.info.method, "grace");
  const edited = applyPatch(model, patch);
  assert.equal(argmaxAt((await run(edited, PROMPT)).logits, PROMPT.length - 1), target);
  assert.equal(bits((await run(edited, OTHER)).logits), bits((await run(model, OTHER)).logits));
});

test("edit: one Adam step moves every entry of the cold value by ±edit_lr (Adam's first step is lr·sign(g))", async () => {
  const editor = createGraceEditor();
  const patch = (await editor.edit(model, [REQ], { ...HP, nIter: 1, editLr: 0.1 }, { seed: 4 })) as ModulePatch;
  const v1 = (patch.module as GraceCodebook).values.data;
  // Cold init: torch.rand-like uniforms [0, 1), seeded by (seed, edit index 0).
  const rng = makeRng(deriveSeed(4, "grace", 0));
  const v0 = Float32Array.from({ length: dModel }, () => rng());
  // Step = lr·|g|/(|g| + 1e-8) ≤ lr, equal to lr up to 1e-8/|g| (plain SGD would give steps ∝ |g|).
  const steps = [...v1].map((x, i) => Math.abs(x - v0[i]!));
  for (const s of steps) assert.ok(s <= 0.1 + 1e-6, `a step of ${s} > edit_lr`);
  const atLr = steps.filter((s) => Math.abs(s - 0.1) < 1e-3).length;
  assert.ok(atLr >= 0.9 * dModel, `${atLr} of ${dModel} entries moved by edit_lr`);
});

test("patch: reverts bit-identically, saves and loads with the same hash, composes with a weight patch", async () => {
  const patch = await editedOnce();
  const edited = applyPatch(model, patch);
  assert.equal(unpatch(edited), model);
  assert.equal(bits((await run(unpatch(edited), PROMPT)).logits), bits((await run(model, PROMPT)).logits));
  const file = join(mkdtempSync(join(tmpdir(), "grace-")), "p.safetensors");
  await savePatch(file, patch);
  const loaded = await loadPatch(file);
  assert.equal(await patchHash(loaded), await patchHash(patch));
  assert.equal(bits((await run(applyPatch(model, loaded), PROMPT)).logits), bits((await run(edited, PROMPT)).logits));
  // Composed with a constant delta on the last layer's W_out (after the codebook's layer).
  const weights = await constantEditor(0.01).edit(model, [REQ], { scale: 0.01 });
  const both = applyPatch(model, composePatches([weights, patch]));
  const onlyW = applyPatch(model, weights);
  const b = await run(both, PROMPT);
  const q = PROMPT.length - 1;
  const value = (patch as ModulePatch).module as GraceCodebook;
  assert.equal(bits(b.out.slice(q * dModel, (q + 1) * dModel)), bits(value.values.data), "the codebook still answers");
  assert.notEqual(bits(b.logits), bits((await run(edited, PROMPT)).logits), "the weight delta acts too");
  assert.equal(bits((await run(both, OTHER)).logits), bits((await run(onlyW, OTHER)).logits), "unmatched rows see the weight patch alone");
});

test("resume: exportState / importState(state, memory patch) continue a stream to the same codebook", async () => {
  const reqs = [REQ, { ...REQ, subject: "Mira Tal", targetNew: "Tovia" }, { ...REQ, prompt: "{} lives in", targetNew: "Brisk" }];
  const hp = { ...HP, nIter: 3 };
  const whole = createGraceEditor();
  let last: Patch | undefined;
  for (const r of reqs) last = await whole.edit(model, [r], hp, { seed: 2 });
  const first = createGraceEditor();
  let mid: Patch | undefined;
  for (const r of reqs.slice(0, 2)) mid = await first.edit(model, [r], hp, { seed: 2 });
  const state = JSON.parse(JSON.stringify(first.exportState()));
  const resumed = createGraceEditor();
  resumed.importState(state, await loadRoundTrip(mid!));
  const end = await resumed.edit(model, [reqs[2]!], hp, { seed: 2 });
  assert.equal(await patchHash(end), await patchHash(last!));
  resumed.reset();
  assert.equal(resumed.state.codebook, undefined);
});

test("memory: patched forwards and edit calls leave no array behind", async () => {
  const live = await trackLiveBuffers();
  const patch = await editedOnce();
  const edited = applyPatch(model, patch);
  const pass = async () => {
    const { logits, cache } = edited.forward([PROMPT, OTHER.concat(new Array(PROMPT.length - OTHER.length).fill(0))]);
    await readF32(logits!);
    for (const a of Object.values(cache)) a.dispose();
  };
  await pass();
  const afterOne = live();
  await pass();
  await pass();
  assert.equal(live(), afterOne, "forward");
  const editor = createGraceEditor();
  await editor.edit(model, [REQ], { ...HP, nIter: 2 }, { seed: 0 });
  const afterEdit = live();
  await editor.edit(model, [{ ...REQ, subject: "Mira Tal" }], { ...HP, nIter: 2 }, { seed: 0 });
  assert.equal(live(), afterEdit, "edit");
});

async function loadRoundTrip(p: Patch): Promise<Patch> {
  const file = join(mkdtempSync(join(tmpdir(), "grace-")), "m.safetensors");
  await savePatch(file, p);
  return loadPatch(file);
}

test("hparams: bad values are refused naming the key; Gemma-2's post-MLP norm is refused", async () => {
  const editor = graceEditor.create();
  const bad: [Partial<GraceHparams>, RegExp][] = [
    [{ distFn: "cos" as "euc" }, /dist_fn.*only Euclidean/],
    [{ valTrain: "adv" as "sgd" }, /val_train/],
    [{ replacement: "replace_some" as "replace_last" }, /replacement/],
    [{ epsExpand: "decay" as "coverage" }, /eps_expand/],
    [{ valInit: "hot" as "cold" }, /val_init/],
    [{ layers: [9] }, /layers/],
    [{ eps: 0 }, /eps/],
  ];
  for (const [change, re] of bad) await assert.rejects(editor.edit(model, [REQ], { ...HP, ...change }), re);
  const gemmaLike = { ...model, config: { ...model.config, postNorms: true }, hookNames: () => model.hookNames() } as Model;
  assert.throws(() => applyPatch(gemmaLike, patchOf(emptyCodebook(LAYER, dMlp, dModel))), /normalises the MLP output/);
  assert.deepEqual(Object.keys(graceEditor.keys).sort(), ["dist_fn", "edit_lr", "eps", "eps_expand", "layers", "n_iter", "replacement", "val_init", "val_train"]);
});
