/**
 * `scalpel eval` end to end on a tiny checkpoint: the before/after comparison with a patch (the
 * results JSON holds versions, prompt formats, few-shot seeds, metric definitions, differences with
 * CIs and tests), prompts shown for inspection, and user mistakes as one-line errors.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { saveModel } from "../../src/model/load.js";
import { savePatch } from "../../src/model/patch-file.js";
import { tinyModel, WORDS } from "./tiny-model.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const BIN = path.join(ROOT, "bin/scalpel.mjs");
const dir = mkdtempSync(path.join(tmpdir(), "scalpel-eval-cli-"));
const modelDir = path.join(dir, "model");

function scalpel(args: string[]) {
  return spawnSync(process.execPath, [BIN, "eval", ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
}

test("--patch: one command evaluates base and patched, reports differences with paired CIs and tests", { timeout: 180_000 }, async () => {
  const m = tinyModel(9, 64);
  await saveModel(m, modelDir);
  const W = m.params["blocks.1.mlp.W_out"]!;
  const delta = Float32Array.from({ length: W.shape[0]! * W.shape[1]! }, (_, i) => Math.sin(i) * 0.8);
  m.dispose();
  const patchFile = path.join(dir, "patch.safetensors");
  await savePatch(patchFile, { type: "weights", info: { method: "test-noise" }, deltas: { "blocks.1.mlp.W_out": { shape: [...W.shape], data: delta } } });
  const docs = Array.from({ length: 60 }, (_, i) => ({ q: Array.from({ length: 4 + (i % 5) }, (_, k) => WORDS[(i * 5 + k * 7) % 30]).join(" "), label: i % 3 }));
  writeFileSync(path.join(dir, "data.jsonl"), docs.map((d) => JSON.stringify(d)).join("\n"));
  writeFileSync(path.join(dir, "task.yaml"), 'name: abc\nkind: multiple_choice\ndataset: data.jsonl\nnum_fewshot: 1\ndoc_to_text: "{{q}} ?"\ndoc_to_choice: ["red", "blue", "big"]\ndoc_to_target: "{{label}}"\n');
  const out = path.join(dir, "results.json");
  const r = scalpel(["--model", modelDir, "--tasks", path.join(dir, "task.yaml"), "--patch", patchFile, "--out", out, "--no-cache", "--show-prompts", "1", "--log-samples", path.join(dir, "samples.jsonl")]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /=== abc #0 \(target "red"\)/);
  assert.match(r.stdout, /--- loglikelihood continuation " blue"/);
  assert.match(r.stdout, /task\s+metric\s+before\s+after\s+diff\s+95% CI\s+p \(t\)\s+p \(McNemar\)\s+n/);
  const doc = JSON.parse(readFileSync(out, "utf8"));
  assert.equal(doc.format, "scalpel-eval-results/1");
  assert.equal(doc.results.abc.version, "1.0");
  assert.deepEqual(doc.results.abc.fewshot, { n: 1, split: "test (excluding the document)", sampler: "random", seed: 1234 });
  assert.match(doc.results.abc.metrics.acc_norm.definition, /len_chars/);
  assert.ok(doc.patch.hash && doc.patch.hash !== "none" && doc.patch.info.method === "test-noise");
  const acc = doc.comparison.abc.find((c: { metric: string }) => c.metric === "acc");
  assert.equal(acc.before, doc.results.abc.metrics.acc.value);
  assert.equal(acc.after, doc.patched.abc.metrics.acc.value);
  assert.ok(Math.abs(acc.diff - (acc.after - acc.before)) < 1e-12);
  assert.ok(acc.ci[0] <= acc.diff + 1e-12 && acc.diff - 1e-12 <= acc.ci[1]);
  assert.ok(typeof acc.pMcNemar === "number");
  // Every document's exact prompt, requests and responses, for both runs.
  const samples = readFileSync(path.join(dir, "samples.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(samples.length, 120);
  const s0 = samples.find((x: { run: string; id: string }) => x.run === "patched" && x.id === "5");
  assert.match(s0.prompt, new RegExp(`${docs[5]!.q} \\?$`));
  assert.deepEqual(s0.requests.map((r: { continuation: string }) => r.continuation), [" red", " blue", " big"]);
  assert.equal(s0.responses.length, 3);
  assert.deepEqual(s0.details.choices, ["red", "blue", "big"]);
  const p = doc.comparison.abc.find((c: { metric: string }) => c.metric === "p_target");
  assert.ok(p.diff !== 0 && typeof p.pTTest === "number", "the patch changes the model's probabilities");
});

test("user mistakes are one-line errors naming the fix", async () => {
  const wrong = path.join(dir, "wrong.safetensors");
  await savePatch(wrong, { type: "weights", info: { method: "x" }, deltas: { "blocks.7.mlp.W_out": { shape: [2, 2], data: new Float32Array(4) } } });
  const mismatch = scalpel(["--model", modelDir, "--tasks", path.join(dir, "task.yaml"), "--patch", wrong, "--no-cache"]);
  assert.equal(mismatch.status, 2);
  assert.match(mismatch.stderr, /the patch does not fit this model: .*blocks\.7\.mlp\.W_out.*Fix: give a patch made for this --model/);
  const typo = scalpel(["--model", modelDir, "--tasks", "mmlo", "--no-cache"]);
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /unknown task 'mmlo'.*did you mean 'mmlu'/i);
  assert.doesNotMatch(typo.stderr, /at .*\.ts:\d+/);
  const flag = scalpel(["--modle", modelDir]);
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /unknown flag --modle.*--model/);
  const limit = scalpel(["--model", modelDir, "--limit", "0"]);
  assert.equal(limit.status, 2);
  assert.match(limit.stderr, /--limit must be an integer ≥ 1/);
  const list = scalpel(["--list"]);
  assert.equal(list.status, 0);
  for (const t of ["mmlu", "gsm8k", "gsm8k-cot", "lambada", "truthfulqa", "wikitext", "caa-sycophancy", "factworld-qa"]) assert.match(list.stdout, new RegExp(`^${t} `, "m"));
});
