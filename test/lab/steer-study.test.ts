/**
 * The GSM8K-steering study (examples/steer-gsm8k.yaml, reduced) on the built-in model: SIGKILLed
 * while a trial is running and resumed, it ends with every trial exactly once, intermediate values
 * recorded for pruning, and the best configuration's single test-split evaluation beside α = 0 in
 * the report. Also: the α = 0 check fails loudly when the baseline does not match.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { BUILTIN_MODEL_DIR } from "../../src/data/builtin-node.js";
import { parseExperiment } from "../../src/lab/config.js";
import { startRun } from "../../src/lab/experiment.js";
import { openStore } from "../../src/lab/store/store.js";
import { checkAlphaZero } from "../../src/steer/experiment.js";
import { runScalpel } from "../cli/run-cli.js";

const BIN = join(import.meta.dirname, "../../bin/scalpel.mjs");
const EXAMPLE = join(import.meta.dirname, "../../examples/steer-gsm8k.yaml");
const hasModel = existsSync(join(BUILTIN_MODEL_DIR, "model.safetensors"));
let dir = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "scalpel-steer-study-"));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The example with fewer, smaller trials; everything else as shipped. */
function reduced(text: string): string {
  return text
    .replace(/^name: .*$/m, "name: steer-test")
    .replace(/n_val: \d+/, "n_val: 16")
    .replace(/n_test: \d+/, "n_test: 16")
    .replace(/val_chunks: \d+/, "val_chunks: 2")
    .replace(/max_new_tokens: \d+/, "max_new_tokens: 12")
    .replace(/n_trials: \d+/, "n_trials: 6")
    .replace(/n_startup_trials: 5/, "n_startup_trials: 2")
    .replace(/pruner: \{[^}]*\}/, "pruner: { type: median, n_startup_trials: 1, n_warmup_steps: 0 }")
    .replace(/cache_dir: .*$/m, "")
    .replace(/^config:\n/m, `config:\n  cache_dir: ${JSON.stringify(join(dir, "activations"))}\n`);
}

/** Whether the store shows a running trial that has reported an intermediate value. */
function trialInFlight(store: string): boolean {
  if (!existsSync(join(store, "scalpel.db"))) return false;
  const s = openStore(store);
  try {
    const row = s.db.prepare("SELECT COUNT(*) AS n FROM trials t JOIN trial_intermediate_values v ON v.study_id = t.study_id AND v.number = t.number WHERE t.state = 'running'").get() as { n: number };
    return row.n > 0;
  } catch {
    return false;
  } finally {
    s.close();
  }
}

test("the steering study survives SIGKILL mid-trial: no lost or duplicated trials, a final test evaluation", { skip: hasModel ? false : "the built-in model is missing (scalpel train-default)" }, async () => {
  const config = join(dir, "steer-test.yaml");
  await writeFile(config, reduced(readFileSync(EXAMPLE, "utf8")));
  const store = join(dir, "store");
  const child = spawn(process.execPath, [BIN, "study", config, "--store", store], { stdio: "ignore", detached: true });
  await new Promise<void>((resolve, reject) => {
    const watch = setInterval(() => {
      if (!trialInFlight(store)) return;
      clearInterval(watch);
      process.kill(-child.pid!, "SIGKILL");
    }, 50);
    child.on("exit", (_code, signal) => {
      clearInterval(watch);
      if (signal === "SIGKILL") resolve();
      else reject(new Error("the study ended before it could be killed mid-trial"));
    });
  });

  const resumed = await runScalpel(["resume", "steer-test", "--store", store]);
  assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
  assert.match(resumed.stdout, /final \(scored once on the test split; trial \d+'s configuration/);

  const s = openStore(store);
  try {
    const trials = s.db.prepare("SELECT number, state, attempt FROM trials ORDER BY number").all() as { number: number; state: string; attempt: number }[];
    assert.deepEqual(trials.map((t) => t.number), [0, 1, 2, 3, 4, 5], "every trial once");
    assert.ok(trials.every((t) => t.state === "complete" || t.state === "pruned"), JSON.stringify(trials));
    assert.ok(trials.some((t) => t.attempt > 1), "the killed trial was restarted");
    const steps = s.db.prepare("SELECT COUNT(*) AS n FROM trial_intermediate_values").get() as { n: number };
    assert.ok(steps.n > 0, "intermediate values were recorded");
    const final = s.db.prepare("SELECT name, value FROM metrics WHERE run_id = 'steer-test/final' AND step IS NULL").all() as { name: string; value: number }[];
    const m = Object.fromEntries(final.map((r) => [r.name, r.value]));
    assert.ok(m.score !== undefined && m.baseline !== undefined, JSON.stringify(m));
    const finalConfig = JSON.parse((s.db.prepare("SELECT c.json FROM runs r JOIN configs c ON c.hash = r.config_hash WHERE r.id = 'steer-test/final'").get() as { json: string }).json);
    assert.equal(finalConfig.split, "test");
    const cases = s.db.prepare("SELECT COUNT(*) AS n FROM case_results WHERE run_id = 'steer-test/final'").get() as { n: number };
    assert.equal(cases.n, 16, "one row per test problem");
  } finally {
    s.close();
  }

  const out = join(dir, "report");
  const report = await runScalpel(["report", "steer-test", "--store", store, "--out", out]);
  assert.equal(report.code, 0, report.stderr);
  const md = await readFile(join(out, "report.md"), "utf8");
  assert.match(md, /## Final evaluation/);
  assert.match(md, /\| score \|/);
  assert.match(md, /\| baseline \|/);
  assert.match(md, /## Best trial/);
  const html = await readFile(join(out, "report.html"), "utf8");
  assert.match(html, /Study history/);
});

test("the α = 0 check passes on equal values and fails loudly otherwise", () => {
  checkAlphaZero([1, 0, 0.25], [1, 0, 0.25]);
  assert.throws(() => checkAlphaZero([1, 0, 0.25], [1, 1]), /α = 0 does not reproduce the unsteered model: item 1/);
});

test("a steer run scored by the A/B behaviour score on test, with a probe at the layer", { skip: hasModel ? false : "the built-in model is missing (scalpel train-default)" }, async () => {
  const config = { method: "mean-diff", layer: 2, alpha: 2, objective: "ab", split: "test", n_test: 40, probes: true, cache_dir: join(dir, "activations") };
  const store = openStore(join(dir, "store-ab"));
  try {
    const run = await startRun(store, parseExperiment({ kind: "steer", name: "ab", config }));
    const m = run.metrics;
    assert.ok(m.score! >= 0 && m.score! <= 1 && m.baseline! >= 0 && m.baseline! <= 1, JSON.stringify(m));
    assert.ok(Math.abs(m.delta! - (m.score! - m.baseline!)) < 1e-12);
    assert.ok(m.score! > m.baseline!, `steering towards the behaviour raises its A/B score (${m.baseline} → ${m.score})`);
    assert.ok(m.probe_test_accuracy! > 0.5, `a probe at layer 2 separates the cues (${m.probe_test_accuracy})`);
    const cases = store.db.prepare("SELECT COUNT(*) AS n FROM case_results WHERE run_id = ? AND stage = 'evaluate'").get(run.runId) as { n: number };
    assert.equal(cases.n, 40);
    // A/B items are scored in batches of 48: 40 test items are one batch, checked at α = 0 as a whole.
    const checked = store.db.prepare("SELECT a.path FROM stages s JOIN artifacts a ON a.hash = s.artifact WHERE s.run_id = ? AND s.name = 'check-alpha-zero'").get(run.runId) as { path: string };
    assert.equal(JSON.parse(readFileSync(join(join(dir, "store-ab"), checked.path, "output.json"), "utf8")).output.checked, 40);
  } finally {
    store.close();
  }
});
