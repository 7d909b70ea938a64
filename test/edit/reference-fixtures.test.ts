/**
 * ROME, MEMIT and AlphaEdit against the reference implementations' own numbers. The fixture
 * (test/fixtures/reference-edits) is a tiny random GPT-2 checkpoint plus inputs.json (requests,
 * fixed context templates, covariance texts, hparams), made by scripts/reference-edits/
 * make-fixture.ts; expected.safetensors holds what kmeng01/rome, kmeng01/memit and
 * jianghoucheng/AlphaEdit computed on it in float64 (scripts/reference-edits/reference.py, commits
 * in the file's metadata). Each ΔW must match to 1e-5 relative error (‖Δ − Δ_ref‖_F / ‖Δ_ref‖_F,
 * and max |Δ − Δ_ref| / max |Δ_ref|).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { EditCaches } from "../../src/edit/caches.js";
import { alphaEditDefaults, memitDefaults, romeDefaults } from "../../src/edit/hparams.js";
import { memitEdit } from "../../src/edit/memit.js";
import { keyCovariance } from "../../src/edit/mom2.js";
import { getEditor } from "../../src/edit/registry.js";
import { romeEdit } from "../../src/edit/rome.js";
import type { EditRequest } from "../../src/edit/types.js";
import { openSafetensorsFile } from "../../src/io/safetensors-file.js";
import { loadModel } from "../../src/model/load.js";
import { applyPatch, type WeightPatch } from "../../src/model/patch.js";
import type { Model } from "../../src/model/types.js";
import { initEngine } from "../../src/tensor/engine.js";
import { readF32 } from "../../src/tensor/own.js";

await initEngine();

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/reference-edits");
const TOLERANCE = 1e-5;

/** The reference code's hparams names (rome_hparams.py, memit_hparams.py, AlphaEdit_hparams.py). */
interface ReferenceHparams {
  layers: number[];
  fact_token: string;
  v_num_grad_steps: number;
  v_lr: number;
  v_loss_layer: number;
  v_weight_decay: number;
  clamp_norm_factor: number;
  kl_factor: number;
  mom2_adjustment: boolean;
  mom2_update_weight?: number;
  nullspace_threshold?: number;
  L2?: number;
}

interface Inputs {
  requests: { prompt: string; subject: string; target_new: { str: string }; target_true: { str: string } }[];
  context_templates: string[][];
  kl_prompts: string[];
  covariance_texts: string[];
  covariance_max_length: number;
  rome: ReferenceHparams;
  memit: ReferenceHparams;
  alphaedit: ReferenceHparams;
  rome_requests: number[];
  alphaedit_batches: number[][];
}

const inputs = JSON.parse(await readFile(path.join(DIR, "inputs.json"), "utf8")) as Inputs;
const expectedFile = await openSafetensorsFile(path.join(DIR, "expected.safetensors"));
async function expected(name: string): Promise<Float64Array> {
  return (await expectedFile.read(name)).data as Float64Array;
}
const model = await loadModel(path.join(DIR, "model"));
const caches = new EditCaches().registerCorpus("fixture", inputs.covariance_texts);
const requests: EditRequest[] = inputs.requests.map((r) => ({ prompt: r.prompt, subject: r.subject, targetNew: r.target_new.str, targetTrue: r.target_true.str }));

/** The fixture's value-optimisation and covariance settings, in scalpel's names. */
function shared(h: ReferenceHparams) {
  return {
    vNumGradSteps: h.v_num_grad_steps, vLr: h.v_lr, vLossLayer: h.v_loss_layer, vWeightDecay: h.v_weight_decay,
    clampNormFactor: h.clamp_norm_factor, klFactor: h.kl_factor, klPrompts: inputs.kl_prompts, contextTemplates: inputs.context_templates,
    mom2Adjustment: h.mom2_adjustment, mom2Dataset: "fixture", mom2NSamples: inputs.covariance_texts.length, mom2MaxLength: inputs.covariance_max_length,
  };
}

function relativeErrors(actual: ArrayLike<number>, want: Float64Array): { frobenius: number; max: number } {
  assert.equal(actual.length, want.length);
  let diff2 = 0, ref2 = 0, maxDiff = 0, maxRef = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(actual[i]! - want[i]!);
    diff2 += d * d;
    ref2 += want[i]! * want[i]!;
    maxDiff = Math.max(maxDiff, d);
    maxRef = Math.max(maxRef, Math.abs(want[i]!));
  }
  return { frobenius: Math.sqrt(diff2 / ref2), max: maxDiff / maxRef };
}

function assertClose(label: string, actual: ArrayLike<number>, want: Float64Array, tol = TOLERANCE): void {
  const e = relativeErrors(actual, want);
  assert.ok(e.frobenius <= tol && e.max <= tol, `${label}: relative error ‖·‖_F ${e.frobenius.toExponential(2)}, max ${e.max.toExponential(2)} > ${tol}`);
}

async function deltaOf(patch: WeightPatch, layer: number): Promise<Float32Array> {
  const d = patch.deltas[`blocks.${layer}.mlp.W_out`];
  assert.ok(d, `the patch changes blocks.${layer}.mlp.W_out`);
  return d.data;
}

async function wOut(m: Model, layer: number): Promise<Float32Array> {
  return readF32(m.params[`blocks.${layer}.mlp.W_out`]!.ref);
}

test("forward: the fixture model's logits equal the reference GPT-2's", async () => {
  const ids = model.tokenizer.encode(`${requests[0]!.prompt.replace("{}", requests[0]!.subject)} Kelmar and the`).ids;
  const { logits } = model.forward([ids]);
  assert.ok(logits, "the forward returns logits");
  assertClose("logits", await readF32(logits), await expected("logits"));
});

test("covariance: E[k kᵀ] of every layer equals layer_stats' SecondMoment", async () => {
  const hp = { ...romeDefaults(model.config), ...shared(inputs.rome) };
  for (let l = 0; l < model.config.nLayers; l++) assertClose(`cov.${l}`, await keyCovariance(model, l, hp, { caches }), await expected(`cov.${l}`));
});

test("ROME: ΔW of two sequential requests equals kmeng01/rome's apply_rome_to_model", async () => {
  const [layer] = inputs.rome.layers;
  const hp = { ...romeDefaults(model.config), ...shared(inputs.rome), layer: layer!, keyMode: "rome" as const };
  const patch = await romeEdit(model, inputs.rome_requests.map((i) => requests[i]!), hp, { caches });
  assertClose(`rome.${layer}`, await deltaOf(patch, layer!), await expected(`rome.${layer}`));
});

test("MEMIT: ΔW of a three-request batch equals kmeng01/memit's apply_memit_to_model", async () => {
  const layers = inputs.memit.layers;
  const hp = { ...memitDefaults(model.config), ...shared(inputs.memit), layers, mom2UpdateWeight: inputs.memit.mom2_update_weight! };
  const patch = await memitEdit(model, requests, hp, { caches });
  for (const l of layers) assertClose(`memit.${l}`, await deltaOf(patch, l), await expected(`memit.${l}`));
});

test("AlphaEdit: ΔW after each of two sequential batches equals AlphaEdit's, cache_c carried over", async () => {
  const a = inputs.alphaedit;
  const layers = a.layers;
  const hp = { ...alphaEditDefaults(model.config), ...shared(a), layers, mom2UpdateWeight: a.mom2_update_weight!, nullspaceThreshold: a.nullspace_threshold!, L2: a.L2! };
  const editor = getEditor("alphaedit");
  let current = model;
  const before = await Promise.all(layers.map((l) => wOut(model, l)));
  for (const [b, batch] of inputs.alphaedit_batches.entries()) {
    const patch = await editor.edit(current, batch.map((i) => requests[i]!), hp, { caches });
    current = applyPatch(current, patch);
    const name = b === inputs.alphaedit_batches.length - 1 ? "alphaedit" : `alphaedit${b + 1}`;
    for (const [i, l] of layers.entries()) {
      const after = await wOut(current, l);
      assertClose(`${name}.${l}`, after.map((w, j) => w - before[i]![j]!), await expected(`${name}.${l}`));
    }
  }
});
