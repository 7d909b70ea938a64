/** End-to-end: `scalpel trace`, `edit-eval` and `edit` as child processes on a tiny saved checkpoint. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { saveModel } from "../../src/model/load.js";
import { initEngine } from "../../src/tensor/engine.js";
import { tinyWordModel } from "./edit-fixtures.js";
import { runScalpel } from "../cli/run-cli.js";

let dir = "";

const scalpel = (...args: string[]) => runScalpel(args, dir);

before(async () => {
  await initEngine();
  dir = await mkdtemp(join(tmpdir(), "scalpel-edit-cli-"));
  const m = tinyWordModel();
  await saveModel(m, join(dir, "ckpt"));
  m.dispose();
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("scalpel trace: restoration table, best layer and an SVG heat map", async () => {
  const svg = join(dir, "trace.svg");
  const r = await scalpel("trace", "--model", join(dir, "ckpt"), "--prompt", "Aldo Venn was born in", "--subject", "Aldo Venn", "--samples", "3", "--out", svg);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /P clean [\d.]+, corrupted [\d.]+/);
  assert.match(r.stdout, /Venn\*/);
  assert.match(r.stdout, /largest at layer \d/);
  assert.match(await readFile(svg, "utf8"), /^<svg/);
  const json = await scalpel("trace", "--model", join(dir, "ckpt"), "--prompt", "Aldo Venn was born in", "--subject", "Aldo Venn", "--samples", "2", "--kind", "mlp", "--json");
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout);
  assert.equal(parsed.flows[0].scores.length, 5);
  assert.equal(parsed.flows[0].kind, "mlp");
});

test("user mistakes are one-line typed errors", async () => {
  const kind = await scalpel("trace", "--model", join(dir, "ckpt"), "--prompt", "Aldo Venn was born in", "--subject", "Aldo Venn", "--kind", "mlps");
  assert.notEqual(kind.code, 0);
  assert.match(kind.stderr, /--kind must be hidden, mlp or attn/);
  const subj = await scalpel("trace", "--model", join(dir, "ckpt"), "--prompt", "Aldo Venn was born in", "--subject", "Mira Tal");
  assert.match(subj.stderr, /does not occur in the prompt/);
  const mode = await scalpel("edit-eval", "--model", join(dir, "ckpt"), "--method", "rome", "--mode", "sequentail");
  assert.match(mode.stderr, /--mode must be one of single, batch, sequential.*Did you mean 'sequential'/);
  const bad = join(dir, "bad.json");
  await writeFile(bad, JSON.stringify([{ foo: 1 }]));
  const data = await scalpel("edit-eval", "--model", join(dir, "ckpt"), "--method", "rome", "--data", bad);
  assert.match(data.stderr, /match no editing format/);
  assert.doesNotMatch(data.stderr, /at .*\.ts:\d+/);
  const prompt = await scalpel("edit", "--model", join(dir, "ckpt"), "--method", "rome", "--prompt", "Aldo Venn was born in", "--subject", "Aldo Venn", "--target", "Tovia");
  assert.match(prompt.stderr, /must contain "\{\}"/);
});

test("scalpel edit-eval and edit run an editor end to end", async () => {
  const data = join(dir, "cf.json");
  const rec = (id: number, subject: string, tn: string, tt: string) => ({
    case_id: id,
    requested_rewrite: { prompt: "{} was born in", relation_id: "P19", subject, target_new: { str: tn }, target_true: { str: tt } },
    paraphrase_prompts: [`${subject} lives in`],
    neighborhood_prompts: ["Oren Sade was born in"],
    attribute_prompts: ["Mira Tal was born in"],
    generation_prompts: [`${subject} is`],
  });
  await writeFile(data, JSON.stringify([rec(0, "Aldo Venn", "Tovia", "Kelmar"), rec(1, "Mira Tal", "Brisk", "Tovia")]));
  const out = join(dir, "run");
  const r = await scalpel("edit-eval", "--model", join(dir, "ckpt"), "--method", "ft", "--data", data, "--mode", "sequential", "--out", out, "--hparams", '{"num_steps": 3}');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\| efficacy_score \|/);
  const cases = JSON.parse(await readFile(join(out, "cases.json"), "utf8"));
  assert.equal(cases.length, 2);
  assert.equal(cases[0].editsApplied, 2);
  // One record per case in MEMIT's layout; a sequential stream of batch 1 makes one edit per call.
  const record = JSON.parse(await readFile(join(out, "cases", "1_edits-case_1.json"), "utf8"));
  assert.deepEqual([record.case_id, record.grouped_case_ids, record.edits_applied], [1, [1], 2]);
  assert.equal(record.post.rewrite_prompts_probs.length, 1);
  assert.ok(existsSync(join(out, "patch.safetensors")));
  const e = await scalpel("edit", "--model", join(dir, "ckpt"), "--method", "ft", "--prompt", "{} was born in", "--subject", "Aldo Venn", "--target", "Tovia", "--save-patch", join(dir, "p.safetensors"));
  assert.equal(e.code, 0, e.stderr);
  assert.match(e.stdout, /before: .*\n\s+after:/);
  assert.ok(existsSync(join(dir, "p.safetensors")));

  // A batch holding two edits of one subject is warned about; --distinct-subjects keeps the first.
  const clash = join(dir, "clash.json");
  await writeFile(clash, JSON.stringify([rec(0, "Aldo Venn", "Tovia", "Kelmar"), rec(1, "Aldo Venn", "Brisk", "Kelmar"), rec(2, "Mira Tal", "Brisk", "Tovia")]));
  const warned = await scalpel("edit-eval", "--model", join(dir, "ckpt"), "--method", "ft", "--data", clash, "--mode", "batch", "--json", "--hparams", '{"num_steps": 1}');
  assert.equal(warned.code, 0, warned.stderr);
  assert.match(warned.stderr, /warning: edits 1–3 go into one editor call, and 1 subjects \(Aldo Venn\)/);
  const distinct = await scalpel("edit-eval", "--model", join(dir, "ckpt"), "--method", "ft", "--data", clash, "--mode", "batch", "--distinct-subjects", "--json", "--hparams", '{"num_steps": 1}');
  assert.equal(distinct.code, 0, distinct.stderr);
  assert.doesNotMatch(distinct.stderr, /warning/);
  assert.equal(JSON.parse(distinct.stdout).n, 2);
});
