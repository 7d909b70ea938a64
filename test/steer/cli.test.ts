/**
 * `scalpel steer` and `scalpel steer-sweep` end to end through the CLI, on a tiny random model with
 * the fact world's tokenizer and a small slice of its behaviour data: steered vs unsteered text,
 * the saved patch, the sweep's artifacts (config, seed, code version, table, plot, disjoint
 * splits), a second run answered by the activation cache, and user mistakes as one-line errors.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { behaviourAB, buildFactWorld, factWorldTokenizer, openEndedQuestions, styledPrompts } from "../../src/data/factworld/index.js";
import { writeFileAtomic } from "../../src/io/atomic.js";
import { familyFor } from "../../src/model/families/index.js";
import { saveModel } from "../../src/model/load.js";
import { createModel } from "../../src/model/model.js";
import { loadPatch } from "../../src/model/patch-file.js";
import { randomParams } from "../../src/model/random-params.js";
import { runScalpel } from "../cli/run-cli.js";

let dir = "";

const scalpel = (...args: string[]) => runScalpel(args, dir);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "scalpel-steer-cli-"));
  const world = buildFactWorld();
  const tok = factWorldTokenizer(world);
  const raw = { model_type: "llama", vocab_size: tok.vocabSize, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 128, tie_word_embeddings: true, bos_token_id: tok.bosId, eos_token_id: tok.eosId };
  const config = familyFor("llama", "config.json").parseConfig(raw, "config.json");
  const m = createModel(config, randomParams(config, 9, { std: 0.3, normStd: 0.1 }), tok);
  await saveModel(m, join(dir, "ckpt"));
  m.dispose();
  const caa = join(dir, "caa");
  await writeFileAtomic(join(caa, "generate", "agreeable", "generate_dataset.json"), JSON.stringify(behaviourAB(world, "generate", 24)));
  await writeFileAtomic(join(caa, "test", "agreeable", "test_dataset_ab.json"), JSON.stringify(behaviourAB(world, "test", 12)));
  await writeFileAtomic(join(caa, "test", "agreeable", "test_dataset_open_ended.json"), JSON.stringify(openEndedQuestions(world, 3)));
  await writeFileAtomic(join(dir, "behaviour.json"), JSON.stringify(styledPrompts(world, "train", 45)));
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("scalpel steer: steered vs unsteered, A/B score, patch saved and reloaded", async () => {
  const common = ["--model", join(dir, "ckpt"), "--data", join(dir, "caa"), "--behavior", "agreeable", "--layer", "1", "--max-tokens", "5"];
  const r = await scalpel("steer", ...common, "--alpha", "6", "--prompt", "User : please , what is the job of Aldo Venn ? Assistant :", "--save-patch", join(dir, "v.safetensors"), "--json");
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n")[0]!) as { unsteered: string; steered: string; abScore: { before: number; after: number } };
  assert.notEqual(out.steered, out.unsteered);
  assert.notEqual(out.abScore.after, out.abScore.before);
  const patch = await loadPatch(join(dir, "v.safetensors"));
  assert.equal(patch.type, "activations");
  if (patch.type === "activations") {
    assert.equal(patch.additions[0]!.alpha, 6);
    assert.equal(patch.additions[0]!.hook, "blocks.1.hook_resid_post");
    assert.ok(typeof patch.info.codeVersion === "string" && typeof patch.info.baseModelHash === "string");
  }
  // The saved patch reproduces the steered text; α = 0 reproduces the unsteered text.
  const again = await scalpel("steer", ...common, "--load-patch", join(dir, "v.safetensors"), "--prompt", "User : please , what is the job of Aldo Venn ? Assistant :", "--json");
  assert.equal(JSON.parse(again.stdout.trim()).steered, out.steered);
  const zero = await scalpel("steer", ...common, "--alpha", "0", "--prompt", "User : please , what is the job of Aldo Venn ? Assistant :", "--json");
  const z = JSON.parse(zero.stdout.trim());
  assert.equal(z.steered, z.unsteered);
  assert.equal(z.abScore.after, z.abScore.before);
  const dac = await scalpel("steer", ...common, "--method", "dac", "--alpha", "2", "--prompt", "User : quick : where was Aldo Venn born ? Assistant :");
  assert.equal(dac.code, 0, dac.stderr);
  assert.match(dac.stdout, /DAC α per step: [0-9.]+/);
  // Mistakes: one line, the fix named.
  const bad = await scalpel("steer", ...common.slice(0, 4), "--behavior", "agreable", "--prompt", "x");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no behaviour 'agreable'.*did you mean 'agreeable'/is);
  const badMethod = await scalpel("steer", "--method", "cca", "--prompt", "x");
  assert.equal(badMethod.code, 2);
  assert.match(badMethod.stderr, /--method must be one of/);
});

test("scalpel steer-sweep: table, plot, artifacts with config/seed/code, disjoint splits, cached second run", async () => {
  const args = ["steer-sweep", "--model", join(dir, "ckpt"), "--data", join(dir, "caa"), "--behavior", "agreeable", "--labelled", join(dir, "behaviour.json"), "--alphas=-4,0,4", "--seed", "3", "--out", join(dir, "sweep"), "--open-ended", "2"];
  const r = await scalpel(...args);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\| α \\ A\/B score \| layer 0 \| layer 1 \|/);
  assert.match(r.stdout, /chosen on validation: layer \d, α -?\d/);
  assert.match(r.stdout, /test A\/B score: unsteered [0-9.]+ → steered [0-9.]+/);
  assert.match(r.stdout, /\| layer \| train acc \| val acc/);
  assert.doesNotMatch(r.stdout, /\(0 forward passes/);
  const res = JSON.parse(await readFile(join(dir, "sweep", "results.json"), "utf8"));
  assert.equal(res.seed, 3);
  assert.equal(res.config.method, "caa");
  assert.ok(typeof res.code === "string" && res.code.length > 0);
  assert.equal(res.validation.length, 6);
  assert.deepEqual(res.tokenization, { format: "caa-base", addSpecialTokens: true }, "with --model the default A/B format is CAA's base format");
  assert.equal(res.normalization, null);
  const tr = new Set<number>(res.splits.train);
  assert.ok((res.splits.val as number[]).every((i) => !tr.has(i)), "train and validation overlap");
  assert.equal(tr.size + res.splits.val.length, 24);
  assert.match(await readFile(join(dir, "sweep", "sweep.svg"), "utf8"), /^<svg xmlns=/);
  const patch = await loadPatch(join(dir, "sweep", "chosen.patch.safetensors"));
  assert.ok(patch.type === "activations" && patch.additions[0]!.alpha === res.chosen.alpha);
  // Second run: every activation comes from the cache.
  const r2 = await scalpel(...args);
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stdout, /\(0 forward passes/);
  const res2 = JSON.parse(await readFile(join(dir, "sweep", "results.json"), "utf8"));
  assert.deepEqual(res2.validation, res.validation);
  // TPE search with pruning runs through the experiment engine's sampler and pruner.
  const t = await scalpel("steer-sweep", "--model", join(dir, "ckpt"), "--data", join(dir, "caa"), "--behavior", "agreeable", "--no-probes", "--search", "tpe", "--trials", "6", "--alphas=-4,4", "--out", join(dir, "tpe"));
  assert.equal(t.code, 0, t.stderr);
  const tres = JSON.parse(await readFile(join(dir, "tpe", "results.json"), "utf8"));
  assert.equal(tres.searchTrials.length, 6);
  assert.ok(tres.searchTrials.every((x: { alpha: number }) => x.alpha >= -4 && x.alpha <= 4));
});

test("scalpel steer --format / --normalize: recorded in the output, mistakes refused", async () => {
  const world = buildFactWorld();
  // A second behaviour (the same pairs, answers swapped) for CAA's cross-behaviour normalisation.
  const swapped = behaviourAB(world, "generate", 12).map((it) => ({ ...it, answer_matching_behavior: it.answer_not_matching_behavior, answer_not_matching_behavior: it.answer_matching_behavior }));
  await writeFileAtomic(join(dir, "caa", "generate", "blunt", "generate_dataset.json"), JSON.stringify(swapped));
  const common = ["--model", join(dir, "ckpt"), "--data", join(dir, "caa"), "--behavior", "agreeable", "--layer", "1", "--max-tokens", "3", "--prompt", "User : where was Aldo Venn born ? Assistant :"];
  const r = await scalpel("steer", ...common, "--format", "caa-chat", "--normalize", "--json");
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim());
  assert.equal(out.tokenization.format, "caa-chat");
  assert.deepEqual(out.normalize.behaviors, ["agreeable", "blunt"]);
  const plain = await scalpel("steer", ...common, "--format", "plain");
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /A\/B format plain\n/);
  const bad = await scalpel("steer", ...common, "--format", "llama");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--format must be one of plain, caa-base, caa-chat/);
});
