/**
 * End-to-end: `scalpel lora train | merge` and `scalpel sae train | eval` run as child processes on
 * the built-in model with tiny settings; their outputs are read back with the library (PEFT
 * adapter, merged checkpoint, weight patch, SAELens folder).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { BUILTIN_MODEL_DIR } from "../../src/data/builtin-node.js";
import { loadModel } from "../../src/model/load.js";
import { loadPatch } from "../../src/model/patch-file.js";
import type { Model } from "../../src/model/types.js";
import { loadSaeLens } from "../../src/sae/formats-node.js";
import { initEngine } from "../../src/tensor/engine.js";
import { readF32 } from "../../src/tensor/own.js";
import { loraDelta } from "../../src/train/lora.js";
import { loadPeftAdapter } from "../../src/train/peft-files-node.js";
import { runScalpel } from "./run-cli.js";

let dir = "";
let model: Model;
const scalpel = (...args: string[]) => runScalpel(args);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "scalpel-cli-lora-sae-"));
  await initEngine();
  model = await loadModel(BUILTIN_MODEL_DIR);
});

after(async () => {
  model?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("scalpel lora train writes a PEFT adapter that loadPeftAdapter reads; lora merge writes a loadable merged model", async () => {
  const adapterDir = join(dir, "adapter");
  const r = await scalpel("lora", "train", "--data", "builtin-tools", "--examples", "16", "--targets", "blocks.*.mlp.W_in,blocks.*.attn.W_Q", "--rank", "4", "--alpha", "8", "--dropout", "0.05", "--lr", "2e-3", "--steps", "3", "--batch-size", "4", "--seed", "0", "--out", adapterDir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /step 3\/3 loss \d/);
  assert.match(r.stdout, /trained 3 steps, loss [\d.]+ → final loss [\d.]+; PEFT adapter saved/);
  const adapter = await loadPeftAdapter(adapterDir, model.config);
  assert.equal(adapter.rank, 4);
  assert.equal(adapter.alpha, 8);
  assert.equal(Object.keys(adapter.targets).length, 2 * model.config.nLayers);
  assert.ok(adapter.targets["blocks.0.mlp.W_in"]!.B.data.some((x) => x !== 0), "training moved B away from zero");

  const mergedDir = join(dir, "merged");
  const patchFile = join(dir, "lora.safetensors");
  const m = await scalpel("lora", "merge", "--adapter", adapterDir, "--out", mergedDir, "--patch", patchFile);
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, /merged 8 LoRA matrices \(r=4, α=8\)/);
  const merged = await loadModel(mergedDir);
  try {
    const name = "blocks.1.mlp.W_in";
    const base = await readF32(model.params[name]!.ref);
    const got = await readF32(merged.params[name]!.ref);
    const delta = loraDelta(adapter, name).data;
    let maxErr = 0;
    for (let i = 0; i < base.length; i++) maxErr = Math.max(maxErr, Math.abs(base[i]! + delta[i]! - got[i]!));
    assert.ok(maxErr < 1e-5, `merged = base + ΔW (max error ${maxErr})`);
    const untouched = "blocks.1.mlp.W_out";
    assert.deepEqual(await readF32(merged.params[untouched]!.ref), await readF32(model.params[untouched]!.ref));
  } finally {
    merged.dispose();
  }
  const patch = await loadPatch(patchFile);
  assert.equal(patch.type, "weights");
});

test("scalpel sae train writes a SAELens folder and prints the metrics; sae eval measures it the same", async () => {
  const out = join(dir, "sae");
  const r = await scalpel("sae", "train", "--kind", "sae", "--layer", "1", "--width", "64", "--activation", "topk", "--k", "8", "--steps", "4", "--batch-tokens", "256", "--buffer-tokens", "1024", "--lr", "1e-3", "--seed", "0", "--eval-rows", "4", "--out", out);
  assert.equal(r.code, 0, r.stderr);
  for (const label of ["MSE", "explained variance", "L0", "dead fraction", "CE loss recovered", "ΔCE"]) assert.match(r.stdout, new RegExp(`^${label} +-?[\\d.e+-]+$`, "m"), label);
  const dict = await loadSaeLens(out);
  assert.equal(dict.kind, "sae");
  assert.equal(dict.hookIn, "blocks.1.hook_resid_post");
  assert.equal(dict.dSae, 64);
  assert.deepEqual(dict.activation, { type: "topk", k: 8 });

  const e = await scalpel("sae", "eval", "--dict", out, "--eval-rows", "4", "--json");
  assert.equal(e.code, 0, e.stderr);
  const got = JSON.parse(e.stdout.trim());
  assert.equal(got.metrics.l0, 8);
  const mse = Number(/^MSE +(\S+)$/m.exec(r.stdout)![1]);
  assert.ok(Math.abs(got.metrics.mse - mse) <= 1e-3 * Math.abs(mse), `eval MSE ${got.metrics.mse} = train's held-out MSE ${mse}`);
  for (const k of ["explainedVariance", "deadFraction", "ceLossRecovered", "deltaCE"]) assert.equal(typeof got.metrics[k], "number", k);
});

test("a TopK transcoder (no SAELens architecture) is saved in scalpel's dictionary file and sae eval reads it", async () => {
  const out = join(dir, "tc");
  const r = await scalpel("sae", "train", "--kind", "transcoder", "--layer", "0", "--width", "32", "--k", "4", "--steps", "2", "--batch-tokens", "256", "--buffer-tokens", "1024", "--eval-rows", "4", "--out", out);
  assert.equal(r.code, 0, r.stderr);
  const e = await scalpel("sae", "eval", "--dict", out, "--eval-rows", "4", "--json");
  assert.equal(e.code, 0, e.stderr);
  const got = JSON.parse(e.stdout.trim());
  assert.equal(got.kind, "transcoder");
  assert.equal(got.metrics.l0 <= 4, true);
});

test("an unknown flag or subcommand gets the closest valid one", async () => {
  const r = await scalpel("lora", "train", "--data", "builtin-tools", "--rnak", "4", "--out", join(dir, "x"));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown flag --rnak\. Did you mean '--rank'\?/);
  const s = await scalpel("sae", "train", "--widht", "64", "--out", join(dir, "x"));
  assert.equal(s.code, 2);
  assert.match(s.stderr, /unknown flag --widht\. Did you mean '--width'\?/);
  const sub = await scalpel("sae", "evl");
  assert.equal(sub.code, 2);
  assert.match(sub.stderr, /unknown subcommand 'evl'\. Did you mean 'eval'\?/);
});

test("a bad --data file gets an error naming the file (and the line)", async () => {
  const bad = join(dir, "bad.jsonl");
  await writeFile(bad, '{"prompt": "User : hi Assistant :", "completion": "hello"}\n{"prompt": "no completion here"}\n');
  const r = await scalpel("lora", "train", "--data", bad, "--steps", "1", "--out", join(dir, "y"));
  assert.equal(r.code, 2);
  assert.ok(r.stderr.includes(bad), r.stderr);
  assert.match(r.stderr, /line 2 has no string field "completion"/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  const missing = join(dir, "missing.json");
  const m = await scalpel("lora", "train", "--data", missing, "--out", join(dir, "y"));
  assert.equal(m.code, 2);
  assert.ok(m.stderr.includes(missing), m.stderr);
});
