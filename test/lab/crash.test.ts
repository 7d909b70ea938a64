/**
 * The crash test: a study (in-process trials) and a sweep (worker processes) are SIGKILLed at 10
 * seeded-random moments and resumed each time; the final store must hold every trial exactly
 * once, complete, with the value of the known function at its params.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { testFunctions } from "../../src/lab/kinds/test-functions.js";
import { makeRng } from "../../src/util/rng.js";
import { openStore } from "../../src/lab/store/store.js";

const BIN = path.resolve(import.meta.dirname, "../../bin/scalpel.mjs");

/** Run the CLI to completion. */
function runCli(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("exit", (code) => resolve({ code, output }));
  });
}

/**
 * Run the CLI and SIGKILL it at a random moment: once `moreTrials` more trials have finished
 * (0: as soon as the study exists), plus a random extra delay. Tying the moment to progress
 * rather than wall time keeps the test meaningful on a fast or a heavily loaded machine.
 * With `midTrial`, the kill lands as soon as a trial is running and has reported a step, and it
 * takes the whole process group (driver and workers, as a machine crash would), so at least one
 * launch is certainly killed inside a trial: killing only the driver at random moments can leave
 * every interrupted trial to be finished by its orphaned worker.
 */
function runCliAndKill(args: string[], store: string, name: string, moreTrials: number, extraMs: number, midTrial = false): Promise<{ killed: boolean; code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], detached: midTrial });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const start = finishedTrials(store, name) ?? 0;
    const launchedAt = new Date().toISOString();
    let armed = false;
    const watch = setInterval(() => {
      if (midTrial) {
        if (!trialInFlight(store, name, launchedAt)) return;
        clearInterval(watch);
        process.kill(-child.pid!, "SIGKILL");
        return;
      }
      const done = finishedTrials(store, name);
      if (armed || done === undefined || done < start + moreTrials) return;
      armed = true;
      clearInterval(watch);
      setTimeout(() => child.kill("SIGKILL"), extraMs);
    }, 25);
    child.on("exit", (code, signal) => {
      clearInterval(watch);
      resolve({ killed: signal === "SIGKILL", code, output });
    });
  });
}

/**
 * Whether a trial that this launch started (or restarted: a restart clears old intermediate values)
 * is running and has reported at least one intermediate value. Trials started earlier do not count:
 * an orphaned worker of the previous launch, outside this process group, could finish them.
 */
function trialInFlight(store: string, name: string, since: string): boolean {
  if (finishedTrials(store, name) === undefined) return false;
  const s = openStore(store);
  try {
    const row = s.db
      .prepare("SELECT COUNT(*) AS n FROM trials t JOIN studies st ON st.id = t.study_id JOIN trial_intermediate_values v ON v.study_id = t.study_id AND v.number = t.number WHERE st.name = ? AND t.state = 'running' AND t.started_at >= ?")
      .get(name, since) as { n: number };
    return row.n > 0;
  } finally {
    s.close();
  }
}

/** Finished trials of the study, or undefined while the study does not exist yet. */
function finishedTrials(store: string, name: string): number | undefined {
  if (!existsSync(path.join(store, "scalpel.db"))) return undefined;
  const s = openStore(store);
  try {
    const row = s.db.prepare("SELECT id FROM studies WHERE name = ?").get(name) as { id: number } | undefined;
    if (!row) return undefined;
    return (s.db.prepare("SELECT COUNT(*) AS n FROM trials WHERE study_id = ? AND state != 'running'").get(row.id) as { n: number }).n;
  } finally {
    s.close();
  }
}

async function crashAndResume(opts: { command: string; name: string; config: string; nTrials: number; steps: number; seed: number }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "scalpel-crash-"));
  const file = path.join(dir, "config.yaml");
  writeFileSync(file, opts.config);
  const store = path.join(dir, "store");
  const rng = makeRng(opts.seed);
  const outcomes: string[] = [];
  for (let i = 0; i < 10; i++) {
    const moreTrials = Math.floor(rng() * 3);
    const extraMs = Math.round(rng() * 400);
    // Until the driver has created the study (a kill can land during start-up), re-launch the
    // original command, as a user would; afterwards use `resume`.
    const args = finishedTrials(store, opts.name) !== undefined ? ["resume", opts.name, "--store", store] : [opts.command, file, "--store", store];
    const r = await runCliAndKill(args, store, opts.name, moreTrials, extraMs, i === 4);
    const when = i === 4 ? "mid-trial with its workers" : `after +${moreTrials} trials +${extraMs}ms`;
    outcomes.push(`${r.killed ? `killed ${when}` : `exited ${r.code}`} (${finishedTrials(store, opts.name) ?? 0} done)`);
    if (!r.killed) assert.equal(r.code, 0, r.output);
  }
  await sleep(700); // orphaned workers notice their driver is gone within 500 ms
  const final = await runCli(["resume", opts.name, "--store", store, "--json"]);
  assert.equal(final.code, 0, final.output);
  const kills = outcomes.filter((o) => o.startsWith("killed")).length;
  assert.equal(kills, 10, "every launch is killed before the study completes");
  console.log(`# ${opts.command}: ${kills}/10 launches SIGKILLed mid-flight: ${outcomes.join(", ")}`);

  const s = openStore(store);
  const study = s.db.prepare("SELECT id, status FROM studies WHERE name = ?").get(opts.name) as { id: number; status: string };
  assert.equal(study.status, "done");
  const trials = s.db.prepare("SELECT number, state, value, run_id FROM trials WHERE study_id = ? ORDER BY number").all(study.id) as {
    number: number; state: string; value: number; run_id: string;
  }[];
  assert.deepEqual(trials.map((t) => t.number), Array.from({ length: opts.nTrials }, (_, i) => i), "each trial exactly once");
  for (const t of trials) {
    assert.equal(t.state, "complete", `trial ${t.number}`);
    const p = Object.fromEntries(
      (s.db.prepare("SELECT name, value FROM trial_params WHERE study_id = ? AND number = ?").all(study.id, t.number) as { name: string; value: string }[]).map((r) => [r.name, JSON.parse(r.value)]),
    );
    assert.equal(t.value, testFunctions.branin.f(p.x0, p.x1), `trial ${t.number} value`);
    const steps = s.db.prepare("SELECT COUNT(*) AS n FROM trial_intermediate_values WHERE study_id = ? AND number = ?").get(study.id, t.number) as { n: number };
    assert.equal(steps.n, opts.steps, `trial ${t.number} intermediate values`);
    const values = s.db.prepare("SELECT value FROM metrics WHERE run_id = ? AND name = 'value' AND step IS NULL").all(t.run_id) as { value: number }[];
    assert.deepEqual(values.map((v) => v.value), [t.value], `trial ${t.number}: one summary value row`);
  }
  const runs = s.db.prepare("SELECT COUNT(*) AS n FROM runs WHERE study_id = ?").get(study.id) as { n: number };
  assert.equal(runs.n, opts.nTrials, "one run per trial");
  const notDone = s.db.prepare("SELECT id, status FROM runs WHERE study_id = ? AND status != 'done'").all(study.id);
  assert.deepEqual(notDone, [], "every trial's run ends done (stale workers do not overwrite it)");
  const rerun = (s.db.prepare("SELECT COUNT(*) AS n FROM trials WHERE study_id = ? AND attempt > 1").get(study.id) as { n: number }).n;
  console.log(`# ${opts.command}: ${rerun} trials were interrupted mid-run and re-run`);
  assert.ok(rerun > 0, "some kill must have landed inside a trial");
  const scratch = existsSync(path.join(s.artifactsDir, "tmp")) ? readdirSync(path.join(s.artifactsDir, "tmp")) : [];
  assert.deepEqual(scratch, [], "half-written stage outputs of killed processes are swept on resume");
  s.close();
}

test("a TPE study SIGKILLed 10 times and resumed keeps each trial exactly once with correct values", { timeout: 300_000 }, async () => {
  await crashAndResume({
    command: "study",
    name: "crash-study",
    nTrials: 36,
    steps: 6,
    seed: 1234,
    config: [
      "kind: optimize-function",
      "name: crash-study",
      "seed: 3",
      "config: {function: branin, steps: 6, step_delay_ms: 40}",
      "study:",
      "  n_trials: 36",
      "  sampler: {type: tpe, n_startup_trials: 5}",
      "  space:",
      "    x0: {type: float, low: -5, high: 10}",
      "    x1: {type: float, low: 0, high: 15}",
    ].join("\n"),
  });
});

test("a sweep running in 2 worker processes, SIGKILLed 10 times and resumed, keeps each trial exactly once", { timeout: 300_000 }, async () => {
  await crashAndResume({
    command: "sweep",
    name: "crash-sweep",
    nTrials: 24,
    steps: 4,
    seed: 99,
    config: [
      "kind: optimize-function",
      "name: crash-sweep",
      "config: {function: branin, steps: 4, step_delay_ms: 40}",
      "sweep:",
      "  type: grid",
      "  parallel: 2",
      "  executor: local",
      "  values:",
      "    x0: [-3, 0, 2, 4, 6, 9]",
      "    x1: [1, 5, 9, 13]",
    ].join("\n"),
  });
});

test("a single run SIGKILLed mid-stage resumes under the same id, reusing the finished stage", { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "scalpel-crash-run-"));
  const file = path.join(dir, "run.yaml");
  writeFileSync(file, "kind: optimize-function\nname: long\nconfig: {function: branin, x0: 2, x1: 4, steps: 30, step_delay_ms: 40}\n");
  const store = path.join(dir, "store");
  const stageState = () => {
    if (!existsSync(path.join(store, "scalpel.db"))) return undefined;
    const s = openStore(store);
    try {
      return (s.db.prepare("SELECT status FROM stages WHERE run_id = 'r1' AND name = 'optimize'").get() as { status: string } | undefined)?.status;
    } finally {
      s.close();
    }
  };
  const child = spawn(process.execPath, [BIN, "run", file, "--store", store, "--id", "r1"], { stdio: "ignore" });
  const killedMidStage = await new Promise<boolean>((resolve) => {
    const watch = setInterval(() => {
      if (stageState() !== "running") return;
      clearInterval(watch);
      setTimeout(() => child.kill("SIGKILL"), 300); // well inside the 30 × 40 ms stage
    }, 25);
    child.on("exit", (_code, signal) => {
      clearInterval(watch);
      resolve(signal === "SIGKILL");
    });
  });
  assert.ok(killedMidStage);
  const r = await runCli(["resume", "r1", "--store", store, "--json"]);
  assert.equal(r.code, 0, r.output);
  const out = JSON.parse(r.output);
  assert.deepEqual(out.stages.map((st: { name: string; cached: boolean }) => [st.name, st.cached]), [["prepare", true], ["optimize", false], ["evaluate", false]]);
  assert.equal(out.metrics.value, testFunctions.branin.f(2, 4));
  const s = openStore(store);
  assert.equal((s.db.prepare("SELECT COUNT(*) AS n FROM runs").get() as { n: number }).n, 1);
  assert.equal((s.db.prepare("SELECT COUNT(*) AS n FROM metrics WHERE run_id = 'r1' AND name = 'value' AND step IS NOT NULL").get() as { n: number }).n, 30);
  assert.deepEqual(readdirSync(path.join(s.artifactsDir, "tmp")), [], "the killed stage's scratch folder was swept");
  s.close();
});
