/**
 * The web lab's live edit and steering logic (web/ui/live-edit.ts, live-steer.ts) in Node, on the
 * built-in model: a ROME edit of the first CounterFact case through a LabSession flips the greedy
 * answer of the edited prompt, and reverting restores the original logits exactly; a CAA vector
 * fitted from a few A/B pairs of the served behaviour steers generation.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { BUILTIN_MODEL_DIR } from "../../src/cli/default-model.js";
import { EditCaches } from "../../src/edit/caches.js";
import { loadModel } from "../../src/model/load.js";
import { initEngine } from "../../src/tensor/engine.js";
import { readF32 } from "../../src/tensor/own.js";
import { editAndMeasure, formFromCounterFact } from "../../src/web/ui/live-edit.js";
import { caaBehaviours, fitCAAVectors, generateSideBySide, layerSteering, vectorsFromFile } from "../../src/web/ui/live-steer.js";
import { patchToBytes } from "../../src/model/patch-bytes.js";
import { bytesOf, npy } from "../io/npz-fixture.js";
import { LabSession } from "../../src/web/ui/session.js";

const COUNTERFACT = path.join(BUILTIN_MODEL_DIR, "data", "counterfact.json");
const ready = existsSync(path.join(BUILTIN_MODEL_DIR, "model.safetensors")) && existsSync(COUNTERFACT);

// No enableNodeThreads(): no test does, and with it the Wasm kernels fail to link under the test runner (LinkError).
await initEngine();

/**
 * Fewer covariance texts and v* steps than the defaults (2,000 and 150: 27 s on 2 cores, 21 s of
 * it the covariance): the first case still flips (P(new) 0.99), in about 7 s.
 */
const FAST = { mom2NSamples: 50, vNumGradSteps: 20 };

const logits = async (session: LabSession, text: string) => readF32(session.model.forward([session.model.tokenizer.encode(text).ids]).logits!);

test("ROME through the lab session flips the first CounterFact answer; revert restores the logits exactly", { skip: !ready && "the built-in model is not trained" }, async () => {
  const model = await loadModel(BUILTIN_MODEL_DIR);
  const session = new LabSession({ model: { name: "factworld", files: [] }, store: false, stats: false, version: "test" }, model, "wasm");
  const form = formFromCounterFact(JSON.parse(readFileSync(COUNTERFACT, "utf8")), "data/counterfact.json");
  const prompt = form.prompt.replace("{}", form.subject);
  const original = await logits(session, prompt);
  const out = await editAndMeasure(session, form, { method: "rome", caches: new EditCaches(), hparams: FAST });
  console.log(`ROME edit "${prompt}" → ${form.targetNew}: ${out.editSeconds.toFixed(2)} s`);
  const [edited, paraphrase, neighbour] = out.rows;
  assert.deepEqual(out.rows.map((r) => r.kind), ["prompt", "paraphrase", "neighbour"]);
  assert.ok(edited!.before.answer.startsWith(form.targetTrue), `before: "${edited!.before.answer}"`);
  assert.ok(edited!.after.answer.startsWith(form.targetNew), `after: "${edited!.after.answer}"`);
  assert.ok(edited!.after.pNew > edited!.after.pTrue && edited!.before.pNew < edited!.before.pTrue);
  assert.ok(paraphrase!.before.answer.length > 0 && neighbour!.after.answer.length > 0);
  assert.equal(session.applied.length, 1);
  assert.equal(session.applied[0]!.label, `ROME: ${form.subject} → ${form.targetNew}`);
  session.revert();
  assert.equal(session.model, model);
  assert.deepEqual(await logits(session, prompt), original);
  model.dispose();
});

test("the CAA files of a served model are found by behaviour", () => {
  const files = ["config.json", "data/caa/generate/agreeable/generate_dataset.json", "data/caa/test/agreeable/test_dataset_open_ended.json", "data/caa/generate/blunt/generate_dataset.json"];
  assert.deepEqual(caaBehaviours(files), [
    { behaviour: "agreeable", generate: files[1], openEnded: files[2] },
    { behaviour: "blunt", generate: files[3] },
  ]);
});

const CAA = path.join(BUILTIN_MODEL_DIR, "data", "caa");

test("CAA vectors fitted from a few A/B pairs steer generation; α = 0 changes nothing; a saved steering patch reads back", { skip: !(ready && existsSync(CAA)) && "the built-in model is not trained" }, async () => {
  const model = await loadModel(BUILTIN_MODEL_DIR);
  const pairs = JSON.parse(readFileSync(path.join(CAA, "generate", "agreeable", "generate_dataset.json"), "utf8")).slice(0, 8);
  const [question] = JSON.parse(readFileSync(path.join(CAA, "test", "agreeable", "test_dataset_open_ended.json"), "utf8")) as { question: string }[];
  const fitted = await fitCAAVectors(model, pairs, { format: "plain" });
  const layer = Math.floor(model.config.nLayers / 2);
  assert.deepEqual(Object.keys(fitted.vectors).map(Number), Array.from({ length: model.config.nLayers }, (_, l) => l));
  const streamed: string[] = [];
  const zero = await generateSideBySide(model, question!.question, layerSteering(fitted, layer, 0), { maxNewTokens: 10, onText: (which, t) => which === "steered" && streamed.push(t) });
  assert.equal(zero.steered, zero.plain);
  assert.ok(streamed.length > 1 && zero.steered.startsWith(streamed[0]!.trim()), "the steered text streamed step by step");
  const pushed = await generateSideBySide(model, question!.question, layerSteering(fitted, layer, 8), { maxNewTokens: 10 });
  assert.notEqual(pushed.steered, pushed.plain, `α 8 at layer ${layer} changes "${pushed.plain}"`);
  console.log(`unsteered: ${pushed.plain} | α 8: ${pushed.steered}`);
  const saved = await vectorsFromFile(patchToBytes(layerSteering(fitted, layer, -2.5)), "v.safetensors", model);
  assert.deepEqual(saved.vectors, { [layer]: fitted.vectors[layer] });
  assert.equal(saved.alpha, -2.5);
  assert.equal(saved.layer, layer);
  const v = fitted.vectors[layer]!;
  const one = await vectorsFromFile(npy("<f4", [v.length], bytesOf(v)), "v.npy", model);
  assert.deepEqual(one.vectors[0], v, "a [d_model] array steers any layer");
  await assert.rejects(vectorsFromFile(npy("<f4", [3], bytesOf(new Float32Array(3))), "v.npy", model), /has 3 entries, the model.s residual stream/);
  model.dispose();
});
