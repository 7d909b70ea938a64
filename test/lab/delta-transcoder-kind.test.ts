/**
 * The `delta-transcoder` experiment kind: examples/delta-transcoder.yaml at tiny sizes runs all six
 * stages on the built-in model; α = 0 equals base only exactly (ΔCE and behaviour); the aggregate
 * writes results.json and a report section whose table and plots appear in `scalpel report`; a
 * second run of the same config reuses every stage; a misspelled key is refused before compute.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import YAML from "yaml";
import { parseExperiment } from "../../src/lab/config.js";
import { openStore } from "../../src/lab/store/store.js";
import { runScalpel } from "../cli/run-cli.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "scalpel-delta-"));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const SIZES = { sft_examples: 32, sft_steps: 4, activation_rows: 64, heldout_rows: 8, behaviour_prompts: 4, base_steps: 6, delta_steps: 4, batch_tokens: 128 };

test("examples/delta-transcoder.yaml at tiny sizes: six stages, α = 0 is base only, the report shows the kind's table and plots, a rerun reuses everything", { timeout: 600_000 }, async () => {
  const raw = YAML.parse(readFileSync(join(import.meta.dirname, "../../examples/delta-transcoder.yaml"), "utf8"));
  raw.config = { ...raw.config, sizes: SIZES, layers: [0], base: { width: 64, k: 8 }, delta: { widths: [8], k: 2 }, alphas: [0, 1], max_new_tokens: 12 };
  const file = join(dir, "delta.json");
  await writeFile(file, JSON.stringify(raw));
  const storeDir = join(dir, "store");
  const first = await runScalpel(["run", file, "--store", storeDir, "--json"], dir);
  assert.equal(first.code, 0, first.stderr);

  const store = openStore(storeDir);
  let runId = "";
  try {
    runId = (store.db.prepare("SELECT id FROM runs").get() as { id: string }).id;
    const stages = store.db.prepare("SELECT name, status FROM stages WHERE run_id = ?").all(runId) as { name: string; status: string }[];
    assert.deepEqual(stages.map((s) => s.status), new Array(6).fill("done"));
    const p = (store.db.prepare("SELECT a.path FROM stages s JOIN artifacts a ON a.hash = s.artifact WHERE s.name = 'aggregate' AND s.run_id = ?").get(runId) as { path: string }).path;
    const results = JSON.parse(readFileSync(join(storeDir, p, "results.json"), "utf8"));
    const rows = results.conditions as Record<string, number | string | null>[];
    const baseOnly = rows.find((r) => r.condition === "base_only")!;
    const alpha0 = rows.find((r) => r.condition === "base+delta" && r.alpha === 0)!;
    for (const k of ["delta_ce", "tool_call_rate", "valid_tool_format_rate", "math_correct_rate", "copy_rate"]) assert.equal(alpha0[k], baseOnly[k], `α = 0 vs base only: ${k}`);
    assert.equal(rows.find((r) => r.condition === "raw")!.delta_ce, 0);
    assert.equal(rows.length, 1 + 1 + 2);
    for (const r of rows) for (const k of ["tool_call_rate", "copy_rate"]) assert.ok((r[k] as number) >= 0 && (r[k] as number) <= 1);
    assert.equal(results.base_model.tool_call_rate, 0, "the base model answers word problems in text");
  } finally {
    store.close();
  }

  const report = await runScalpel(["report", runId, "--store", storeDir, "--out", join(dir, "report")], dir);
  assert.equal(report.code, 0, report.stderr);
  const md = readFileSync(join(dir, "report", "report.md"), "utf8");
  assert.match(md, /## Delta transcoder: conditions on the fine-tuned model/);
  assert.match(md, /base \+ 1·delta \(w 8\)/);
  const html = readFileSync(join(dir, "report", "report.html"), "utf8");
  assert.match(html, /ΔCE vs layer/);
  assert.match(html, /Tool-call rate vs α/);

  const again = await runScalpel(["run", file, "--store", storeDir, "--json"], dir);
  assert.equal(again.code, 0, again.stderr);
  const s2 = openStore(storeDir);
  try {
    const runs = s2.db.prepare("SELECT id FROM runs ORDER BY started_at").all() as { id: string }[];
    const cached = s2.db.prepare("SELECT cached FROM stages WHERE run_id = ?").all(runs.at(-1)!.id) as { cached: number }[];
    assert.deepEqual(cached.map((c) => c.cached), new Array(6).fill(1), "every stage reused");
  } finally {
    s2.close();
  }
});

test("the delta-transcoder kind refuses a misspelled key with the closest valid one", () => {
  assert.throws(() => parseExperiment({ kind: "delta-transcoder", config: { alpha: [1] } }), /alpha.*did you mean 'alphas'/i);
  assert.throws(() => parseExperiment({ kind: "delta-transcoder", config: { delta: { width: [8] } } }), /width.*did you mean 'widths'/i);
  assert.throws(() => parseExperiment({ kind: "delta-transcoder", config: { finetune: { rnak: 4 } } }), /rnak.*did you mean 'rank'/i);
});
