/**
 * End-to-end: `scalpel forward | generate | inspect` run as child processes on a small random
 * GPT-2 checkpoint written by the test (saveModel, with the real GPT-2 tokenizer), and compared
 * with the same computations done in-process on loadModel's result.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path, { join } from "node:path";
import { after, before, test } from "node:test";
import { openSafetensorsFile } from "../../src/io/safetensors-file.js";
import { loadTokenizer } from "../../src/io/tokenizer/index.js";
import { gpt2 } from "../../src/model/families/gpt2.js";
import { generate } from "../../src/model/generate.js";
import { loadModel, saveModel } from "../../src/model/load.js";
import { createModel, paramCount } from "../../src/model/model.js";
import { randomParams } from "../../src/model/random-params.js";
import type { Model } from "../../src/model/types.js";
import { readF32 } from "../../src/tensor/own.js";
import { runScalpel } from "./run-cli.js";

let dir = "";
let model: Model;

const scalpel = (...args: string[]) => runScalpel(args);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "scalpel-cli-model-"));
  const tokenizer = await loadTokenizer(path.resolve(import.meta.dirname, "../../../shared/tokenizers/gpt2"));
  const raw = { model_type: "gpt2", vocab_size: 50257, n_embd: 32, n_layer: 2, n_head: 4, n_positions: 64 };
  const config = gpt2.parseConfig(raw, "config.json");
  const built = createModel(config, randomParams(config, 5, { std: 0.3, biasStd: 0.05 }), tokenizer);
  await saveModel(built, join(dir, "ckpt"));
  built.dispose();
  model = await loadModel(join(dir, "ckpt"));
});

after(async () => {
  model?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("scalpel forward writes tokens and logits equal to model.forward", async () => {
  const out = join(dir, "fwd.safetensors");
  const text = "The Eiffel Tower is in Paris";
  const r = await scalpel("forward", "--model", join(dir, "ckpt"), "--text", text, "--out", out, "--cache", "blocks.1.hook_resid_post");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /logits \[\d+, 50257\]/);
  const ids = model.tokenizer.encode(text).ids;
  assert.equal(ids[0], model.tokenizer.encode("The").ids[0]); // GPT-2 adds no BOS
  const file = await openSafetensorsFile(out);
  try {
    const tokens = await file.read("tokens");
    assert.equal(tokens.dtype, "int32");
    assert.deepEqual([...tokens.data], ids);
    assert.deepEqual(file.info("logits"), { dtype: "F32", shape: [ids.length, 50257] });
    const logits = (await file.readF32("logits")).data;
    const { logits: ref, cache } = model.forward([ids], { cache: ["blocks.1.hook_resid_post"] });
    const expected = await readF32(ref!);
    let maxDiff = 0;
    for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(expected[i]! - logits[i]!));
    assert.ok(maxDiff < 1e-4, `max |Δlogit| ${maxDiff}`);
    const resid = await file.readF32("blocks.1.hook_resid_post");
    assert.deepEqual(resid.shape, [ids.length, 32]);
    const refResid = await readF32(cache["blocks.1.hook_resid_post"]!);
    assert.ok(refResid.every((x, i) => Math.abs(x - resid.data[i]!) < 1e-4));
  } finally {
    await file.close();
  }
});

test("scalpel generate: greedy and seeded sampling match the library", async () => {
  const ckpt = join(dir, "ckpt");
  const prompt = "Once upon a time";
  const greedy = await scalpel("generate", "--model", ckpt, "--prompt", prompt, "--max-tokens", "6", "--json");
  assert.equal(greedy.code, 0, greedy.stderr);
  const got = JSON.parse(greedy.stdout.trim());
  const ref = await generate(model, [prompt], { maxNewTokens: 6 });
  assert.deepEqual(got.tokens, ref.tokens[0]);
  assert.equal(got.text, ref.texts[0]);
  assert.equal(got.finishReason, ref.finishReasons[0]);

  const args = ["generate", "--model", ckpt, "--prompt", prompt, "--max-tokens", "6", "--temperature", "1.0", "--top-k", "50", "--seed", "7", "--json"];
  const a = await scalpel(...args);
  const b = await scalpel(...args);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  const sampled = await generate(model, [prompt], { maxNewTokens: 6, temperature: 1, topK: 50, seed: 7 });
  assert.deepEqual(JSON.parse(a.stdout.trim()).tokens, sampled.tokens[0]);
  assert.notDeepEqual(sampled.tokens[0], ref.tokens[0]);

  // Plain output is the continuation text.
  const plain = await scalpel("generate", "--model", ckpt, "--prompt", prompt, "--max-tokens", "6");
  assert.equal(plain.stdout, `${ref.texts[0]}\n`);
});

test("scalpel inspect prints the config, parameter count and hook points", async () => {
  const r = await scalpel("inspect", "--model", join(dir, "ckpt"));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /gpt2: 2 layers, d_model 32, 4 heads/);
  assert.ok(r.stdout.includes(paramCount(model).toLocaleString("en-US")), r.stdout);
  assert.match(r.stdout, /blocks\.\{0\.\.1\}\.hook_resid_post/);
  assert.match(r.stdout, /ln_final\.hook_normalized/);
  const all = await scalpel("inspect", "--model", join(dir, "ckpt"), "--all-hooks");
  assert.match(all.stdout, /blocks\.1\.mlp\.hook_post/);
  const json = JSON.parse((await scalpel("inspect", "--model", join(dir, "ckpt"), "--json")).stdout);
  assert.equal(json.parameters, paramCount(model));
  assert.deepEqual(json.hookPoints, model.hookNames());
});

test("without --model, commands use the built-in fact-world model", async () => {
  const r = await scalpel("generate", "--prompt", "The capital of", "--max-tokens", "1");
  assert.equal(r.code, 0, r.stderr);
  const info = await scalpel("inspect", "--json");
  assert.equal(info.code, 0, info.stderr);
  const d = JSON.parse(info.stdout) as { modelType: string; model: string };
  assert.equal(d.modelType, "llama");
  assert.match(d.model, /models\/factworld$/);
});

test("user mistakes: one line, exit code 2", async () => {
  const noModel = await scalpel("generate", "--model", join(dir, "missing"), "--prompt", "hi");
  assert.equal(noModel.code, 1); // a data error (exit 1), not a usage error (exit 2)
  assert.match(noModel.stderr, /checkpoint directory not found/);
  assert.doesNotMatch(noModel.stderr, /\n\s+at /); // no stack trace
  const typo = await scalpel("generate", "--model", "x", "--promt", "hi");
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /did you mean '--prompt'/i);
  const bad = await scalpel("generate", "--model", join(dir, "ckpt"), "--prompt", "hi", "--top-p", "1.5");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--top-p must be a number ≥ 0 and ≤ 1/);
  const noOut = await scalpel("forward", "--model", join(dir, "ckpt"), "--text", "hi");
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /--out/);
  const help = await scalpel("forward", "--help");
  assert.match(help.stdout, /examples:/);
});
