/**
 * The `edit` experiment kind end to end on a tiny saved checkpoint: a sweep over methods × seeds
 * stores one case_results row per (method, seed, case) and reports each method's mean ± std over
 * the seeds; a sequential stream killed with SIGKILL resumes after its last finished edit and ends
 * with the same numbers as an uninterrupted run.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parseExperiment } from "../../src/lab/config.js";
import { reportData } from "../../src/lab/store/report-data.js";
import { renderReport } from "../../src/lab/report/render.js";
import { openStore } from "../../src/lab/store/store.js";
import { runStudy } from "../../src/lab/study/driver.js";
import { startRun } from "../../src/lab/experiment.js";
import { saveModel } from "../../src/model/load.js";
import { initEngine } from "../../src/tensor/engine.js";
import { tinyWordModel } from "../edit/edit-fixtures.js";
import { runScalpel } from "../cli/run-cli.js";
import { enableNativeExecutor } from "../../src/model/native/enable-node.js";
import { setNativeExecutor } from "../../src/model/native/executor.js";

const BIN = join(import.meta.dirname, "../../bin/scalpel.mjs");
let dir = "";

/** A CounterFact (ROME format) file of `n` cases over the tiny vocabulary. */
async function counterfact(file: string, n: number): Promise<void> {
  const people = ["Aldo Venn", "Mira Tal", "Oren Sade"];
  const places = ["Kelmar", "Tovia", "Brisk"];
  const records = Array.from({ length: n }, (_, i) => {
    const subject = people[i % 3]!;
    return {
      case_id: i,
      requested_rewrite: { prompt: "{} was born in", relation_id: "P19", subject, target_new: { str: places[(i + 1) % 3] }, target_true: { str: places[i % 3] } },
      paraphrase_prompts: [`${subject} lives in`],
      neighborhood_prompts: [`${people[(i + 1) % 3]} was born in`],
      attribute_prompts: ["Mira Tal was born in"],
      generation_prompts: [`${subject} is`],
    };
  });
  await writeFile(file, JSON.stringify(records));
}

/** What a finished run's stage returned (its artifact's output.json). */
function stageOutput(store: ReturnType<typeof openStore>, run: Awaited<ReturnType<typeof startRun>>, name: string): Record<string, unknown> {
  const stage = run.stages.find((s) => s.name === name)!;
  const { path } = store.db.prepare("SELECT path FROM artifacts WHERE hash = ?").get(stage.artifact) as { path: string };
  return JSON.parse(readFileSync(join(store.dir, path, "output.json"), "utf8")).output;
}

before(async () => {
  await initEngine();
  dir = await mkdtemp(join(tmpdir(), "scalpel-edit-kind-"));
  const m = tinyWordModel();
  await saveModel(m, join(dir, "ckpt"));
  m.dispose();
  await counterfact(join(dir, "cf2.json"), 2);
  await counterfact(join(dir, "cf100.json"), 100);
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("a sweep over methods × seeds: case_results rows = methods × seeds × cases; the report gives per-method mean ± std", async () => {
  const exp = parseExperiment({
    kind: "edit",
    name: "cf-sweep",
    config: { model: join(dir, "ckpt"), data: join(dir, "cf2.json"), method: "ft", hparams: { num_steps: 2 }, stats_dir: join(dir, "stats") },
    sweep: { type: "grid", values: { method: ["ft", "ft-m"], seed: [0, 1, 2] } },
  });
  const store = openStore(join(dir, "store-sweep"));
  try {
    const result = await runStudy(store, exp);
    assert.equal(result.counts.complete, 6, JSON.stringify(result));
    const rows = store.db.prepare("SELECT COUNT(*) AS n FROM case_results").get() as { n: number };
    assert.equal(rows.n, 2 * 3 * 2, "one row per method × seed × case");
    const one = store.db.prepare("SELECT metrics FROM case_results LIMIT 1").get() as { metrics: string };
    const metrics = JSON.parse(one.metrics) as Record<string, number>;
    for (const k of ["efficacy_score", "neighborhood_score", "pre.efficacy_score", "edits_applied"]) assert.ok(k in metrics, `case row has ${k}`);
    // The seed is each run's seed: the three replicates of a method are three runs with seeds 0, 1, 2.
    const seeds = store.db.prepare("SELECT seed FROM trials ORDER BY seed").all() as { seed: number }[];
    assert.deepEqual(seeds.map((r) => r.seed), [0, 0, 1, 1, 2, 2]);
    const data = reportData(store, "cf-sweep");
    const configs = data.configurations!;
    assert.deepEqual(configs.map((c) => [c.params.method, c.n]), [["ft", 3], ["ft-m", 3]]);
    const score = configs[0]!.metrics.find((m) => m.name === "efficacy_score")!;
    assert.equal(score.n, 3);
    assert.ok(score.std !== undefined && score.ciLow !== undefined, "mean ± std with a CI over the seeds");
    const { html, markdown } = await renderReport(data);
    assert.match(markdown, /## Per configuration over replicates/);
    assert.match(markdown, /method=ft-m/);
    assert.match(html, /score vs method \(mean ± std over replicates\)/);
    assert.match(html, /efficacy_score per case/);
  } finally {
    store.close();
  }
});

test("a sequential stream killed with SIGKILL resumes after its last finished edit, with the same results", async () => {
  const config = { model: join(dir, "ckpt"), data: join(dir, "cf100.json"), method: "ft", hparams: { num_steps: 6 }, mode: "sequential", evaluate: "after-edit", stats_dir: join(dir, "stats") };
  const file = join(dir, "seq.json");
  await writeFile(file, JSON.stringify({ kind: "edit", name: "seq", config }));
  const storeDir = join(dir, "store-seq");

  // Kill the run once its stream has checkpointed 20 edits (the whole process group, as a crash would).
  const child = spawn(process.execPath, [BIN, "run", file, "--store", storeDir], { stdio: "ignore", detached: true });
  const partial = join(storeDir, "artifacts", "partial");
  const appliedNow = () => {
    if (!existsSync(partial)) return 0;
    for (const d of readdirSync(partial)) {
      try {
        return (JSON.parse(readFileSync(join(partial, d, "state.json"), "utf8")) as { applied: number }).applied;
      } catch {
        /* not written yet */
      }
    }
    return 0;
  };
  const killedAt = await new Promise<number>((resolve, reject) => {
    const watch = setInterval(() => {
      const n = appliedNow();
      if (n < 20) return;
      clearInterval(watch);
      process.kill(-child.pid!, "SIGKILL");
      resolve(n);
    }, 20);
    child.on("exit", (_code, signal) => {
      if (signal !== "SIGKILL") {
        clearInterval(watch);
        reject(new Error("the run ended before it could be killed"));
      }
    });
  });
  assert.ok(killedAt >= 20 && killedAt < 100, `killed after ${killedAt} edits`);

  const store = openStore(storeDir);
  const runId = (store.db.prepare("SELECT id FROM runs").get() as { id: string }).id;
  store.close();
  const resumed = await runScalpel(["resume", runId, "--store", storeDir, "--json"], dir);
  assert.equal(resumed.code, 0, resumed.stderr);

  const reopened = openStore(storeDir);
  const uninterrupted = openStore(join(dir, "store-seq-whole"));
  try {
    const editsOutput = JSON.parse(readFileSync(join(storeDir, (reopened.db.prepare("SELECT a.path FROM stages s JOIN artifacts a ON a.hash = s.artifact WHERE s.name = 'edits'").get() as { path: string }).path, "output.json"), "utf8"));
    assert.ok(editsOutput.output.resumed_edits >= killedAt, `resumed after ${editsOutput.output.resumed_edits} edits (killed after ${killedAt})`);
    assert.ok(!existsSync(partial) || readdirSync(partial).length === 0, "the checkpoint is removed once the stage is sealed");
    // The same executors as the `scalpel` command that ran the killed run (bin/scalpel.mjs routes
    // forward-only work to onnxruntime), so the two runs compute the same numbers.
    enableNativeExecutor();
    try {
      await startRun(uninterrupted, parseExperiment({ kind: "edit", name: "seq", config }));
    } finally {
      setNativeExecutor(undefined);
    }
    // Every metric but the wall-clock times.
    const rows = (s: typeof reopened) =>
      (s.db.prepare("SELECT case_id, metrics FROM case_results ORDER BY case_id").all() as { case_id: string; metrics: string }[]).map((r) => ({
        id: r.case_id,
        metrics: Object.fromEntries(Object.entries(JSON.parse(r.metrics) as Record<string, number>).filter(([k]) => !k.endsWith("_seconds"))),
      }));
    const a = rows(reopened);
    assert.equal(a.length, 100);
    assert.deepEqual(a, rows(uninterrupted), "per-case results equal an uninterrupted run's");
  } finally {
    reopened.close();
    uninterrupted.close();
  }
});

test("stream_at: the sequential stream measured after 1 and 2 edits, as series metrics and a report section", async () => {
  const exp = parseExperiment({
    kind: "edit",
    name: "stream",
    config: { model: join(dir, "ckpt"), data: join(dir, "cf2.json"), method: "ft", hparams: { num_steps: 2 }, mode: "sequential", stream_at: [1, 2], stats_dir: join(dir, "stats") },
  });
  const store = openStore(join(dir, "store-stream"));
  try {
    const run = await startRun(store, exp);
    const points = store.db.prepare("SELECT name, step, value FROM metrics WHERE run_id = ? AND step IS NOT NULL ORDER BY name, step").all(run.runId) as { name: string; step: number; value: number }[];
    const steps = (name: string) => points.filter((p) => p.name === name).map((p) => p.step);
    assert.deepEqual(steps("stream.efficacy_score"), [1, 2]);
    const norms = [...new Set(points.filter((p) => p.name.startsWith("norm.")).map((p) => p.name))];
    assert.equal(norms.length, 1, "FT edits one matrix");
    assert.deepEqual(steps(norms[0]!), [1, 2]);
    const { html } = await renderReport(reportData(store, run.runId));
    assert.match(html, /ft: the stream after T edits/);
    assert.match(html, /ft: metrics vs edits/);
  } finally {
    store.close();
  }
});

test("a memory editor (GRACE) through the kind: the stream's memory patch, stream points and the saved patch", async () => {
  const exp = parseExperiment({
    kind: "edit",
    name: "grace-stream",
    config: { model: join(dir, "ckpt"), data: join(dir, "cf2.json"), method: "grace", hparams: { n_iter: 5 }, mode: "sequential", stream_at: [1, 2], stats_dir: join(dir, "stats") },
  });
  const store = openStore(join(dir, "store-grace"));
  try {
    const run = await startRun(store, exp);
    const names = (store.db.prepare("SELECT DISTINCT name FROM metrics WHERE run_id = ? AND step IS NOT NULL").all(run.runId) as { name: string }[]).map((r) => r.name);
    assert.ok(names.includes("stream.efficacy_score") && names.some((n) => n.startsWith("norm.grace.")), names.join(", "));
    const edits = run.stages.find((s) => s.name === "edits")!;
    const folder = join(store.dir, (store.db.prepare("SELECT path FROM artifacts WHERE hash = ?").get(edits.artifact) as { path: string }).path);
    const { loadPatch } = await import("../../src/model/patch-file.js");
    const saved = await loadPatch(join(folder, "patch.safetensors"));
    assert.equal(saved.type, "module");
    assert.equal((saved as { module: { kind: string } }).module.kind, "grace");
  } finally {
    store.close();
  }
});

test("MEND without an archive: the editor network is trained in a cached stage first, then used to edit", async () => {
  const people = ["Aldo Venn", "Mira Tal", "Oren Sade"];
  const places = ["Kelmar", "Tovia", "Brisk"];
  const zsre = Array.from({ length: 8 }, (_, i) => ({
    subject: people[i % 3],
    src: `${people[i % 3]} was born in`,
    rephrase: `${people[i % 3]} lives in`,
    alt: places[(i + 1) % 3],
    answers: [places[i % 3]],
    loc: `${people[(i + 1) % 3]} was born in`,
    loc_ans: places[(i + 1) % 3],
  }));
  const data = join(dir, "zsre8.json");
  await writeFile(data, JSON.stringify(zsre));
  const config = { model: join(dir, "ckpt"), data, format: "zsre", n: 2, method: "mend", mode: "sequential", editor_training: { data, train_from: 2, val_count: 2, steps: 3 }, stats_dir: join(dir, "stats") };
  const store = openStore(join(dir, "store-mend"));
  try {
    const run = await startRun(store, parseExperiment({ kind: "edit", name: "mend", config }));
    assert.ok(Number.isFinite(run.metrics.reliability), JSON.stringify(run.metrics));
    const training = stageOutput(store, run, "editor-training");
    assert.equal(training.archive, "mend.safetensors");
    assert.equal(training.train_records, 4);
    // A second run with another mode reuses the trained network.
    const again = await startRun(store, parseExperiment({ kind: "edit", name: "mend", config: { ...config, mode: "single" } }));
    assert.equal(again.stages.find((s) => s.name === "editor-training")!.cached, true);
  } finally {
    store.close();
  }
});

test("the edit kind refuses a misspelled key with the closest valid one", async () => {
  assert.throws(() => parseExperiment({ kind: "edit", config: { methd: "rome" } }), /methd.*did you mean 'method'/i);
  assert.throws(() => parseExperiment({ kind: "edit", config: { hparams: { v_num_grad_step: 3 } } }), /v_num_grad_step.*did you mean 'v_num_grad_steps'/i);
});

test("hparams under a method's name reach that method only; keys outside them reach every method", async () => {
  // FT has no v_num_grad_steps: given for every method it would fail FT's run (unknown key).
  const config = { model: join(dir, "ckpt"), data: join(dir, "cf2.json"), method: "ft", hparams: { batch_size: 2, ft: { num_steps: 2 }, memit: { v_num_grad_steps: 3 } }, stats_dir: join(dir, "stats") };
  const store = openStore(join(dir, "store-per-method"));
  try {
    const run = await startRun(store, parseExperiment({ kind: "edit", name: "per-method", config }));
    const hp = stageOutput(store, run, "covariance").hparams as Record<string, unknown>;
    assert.equal(hp.numSteps, 2);
    assert.equal(hp.batchSize, 2, "FT's default is 1");
    assert.equal(hp.vNumGradSteps, undefined);
  } finally {
    store.close();
  }
  assert.throws(() => parseExperiment({ kind: "edit", config: { hparams: { memit: { mom2_update_wieght: 3 } } } }), /mom2_update_wieght.*did you mean 'mom2_update_weight'/i);
});
