import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseExperiment } from "../../src/lab/config.js";
import { testFunctions } from "../../src/lab/kinds/test-functions.js";
import { deriveSeed } from "../../src/util/rng.js";
import { putConfig } from "../../src/lab/store/runs.js";
import {
  createOrOpenStudy, finishTrial, getStudy, insertTrial, listTrials, loadFrozenTrials, restartTrial, trialParams, writeIntermediate,
} from "../../src/lab/store/studies.js";
import { openStore, type Store } from "../../src/lab/store/store.js";
import { driveStudy, runStudy } from "../../src/lab/study/driver.js";
import { collectManifest } from "../../src/lab/manifest.js";

const tmpStore = () => openStore(mkdtempSync(path.join(os.tmpdir(), "scalpel-study-")));
const space = { x0: { type: "float", low: -5, high: 10 }, x1: { type: "float", low: 0, high: 15 } };
const studyExp = (study: Record<string, unknown>, config: Record<string, unknown> = {}, seed = 11) =>
  parseExperiment({ kind: "optimize-function", name: "s", seed, config: { function: "branin", steps: 5, ...config }, study: { space, ...study } });
const trialsOf = (store: Store, name: string) => {
  const st = getStudy(store.db, name)!;
  return listTrials(store.db, st.id).map((t) => ({ ...t, params: trialParams(store.db, st.id, t.number) }));
};
const branin = (p: Record<string, unknown>) => testFunctions.branin.f(p.x0 as number, p.x1 as number);

test("a failing trial is recorded with its error and the study goes on", async () => {
  const store = tmpStore();
  const exp = studyExp({ n_trials: 10, sampler: "random" }, { fail_on: { x0: [-5, 2.5] } });
  const result = await runStudy(store, exp);
  const trials = trialsOf(store, "s");
  assert.equal(trials.length, 10);
  const failed = trials.filter((t) => t.state === "fail");
  assert.ok(failed.length > 0 && failed.length < 10, `expected some but not all trials to fail, got ${failed.length}`);
  for (const t of failed) {
    assert.ok((t.params.x0 as number) <= 2.5);
    assert.match(t.error!, /inside fail_on/);
    assert.equal(t.value, null);
  }
  for (const t of trials.filter((t) => t.state === "complete")) assert.equal(t.value, branin(t.params));
  assert.deepEqual(result.counts, { complete: 10 - failed.length, pruned: 0, fail: failed.length, running: 0 });
  assert.equal(getStudy(store.db, "s")!.status, "done");
  store.close();
});

test("a grid sweep runs every combination exactly once", async () => {
  const store = tmpStore();
  const exp = parseExperiment({ kind: "optimize-function", name: "g", config: { steps: 2 }, sweep: { type: "grid", values: { x0: [0, 1, 2], function: ["branin", "quadratic"] } } });
  const result = await runStudy(store, exp);
  const combos = trialsOf(store, "g").map((t) => `${t.params.function}/${t.params.x0}`).sort();
  assert.deepEqual(combos, ["branin/0", "branin/1", "branin/2", "quadratic/0", "quadratic/1", "quadratic/2"]);
  assert.equal(result.counts.complete, 6);
  for (const t of trialsOf(store, "g")) assert.equal(t.value, testFunctions[t.params.function as "branin" | "quadratic"].f(t.params.x0 as number, 0));
  store.close();
});

test("studies are reproducible: same seed, same params, values and per-trial seeds", async () => {
  const runOnce = async () => {
    const store = tmpStore();
    await runStudy(store, studyExp({ n_trials: 14, sampler: { type: "tpe", n_startup_trials: 4 } }));
    const t = trialsOf(store, "s").map((r) => ({ n: r.number, p: r.params, v: r.value, seed: r.seed }));
    store.close();
    return t;
  };
  const a = await runOnce();
  const b = await runOnce();
  assert.deepEqual(a, b);
  for (const t of a) assert.equal(t.seed, deriveSeed(11, "trial", t.n));
  assert.equal(new Set(a.map((t) => t.seed)).size, a.length);
});

test("an interrupted study resumes to the same result as an uninterrupted one", async () => {
  const whole = tmpStore();
  await runStudy(whole, studyExp({ n_trials: 12, sampler: { type: "tpe", n_startup_trials: 4 } }));
  const parts = tmpStore();
  const first = await runStudy(parts, studyExp({ n_trials: 12, sampler: { type: "tpe", n_startup_trials: 4 } }), { maxDispatch: 5 });
  assert.equal(first.counts.complete, 5);
  assert.equal(getStudy(parts.db, "s")!.status, "running");
  // Re-launching the same config continues the stored study instead of starting another.
  await runStudy(parts, studyExp({ n_trials: 12, sampler: { type: "tpe", n_startup_trials: 4 } }));
  const strip = (s: Store) => trialsOf(s, "s").map((t) => [t.number, t.state, t.params, t.value]);
  assert.deepEqual(strip(parts), strip(whole));
  await assert.rejects(runStudy(parts, studyExp({ n_trials: 13, sampler: "random" })), /already exists in this store with a different config/);
  whole.close();
  parts.close();
});

test("trials left running by a crash are re-run once, with a new attempt that fences off the old one", async () => {
  const store = tmpStore();
  const exp = studyExp({ n_trials: 3, sampler: "random" });
  const { study } = createOrOpenStudy(store.db, {
    name: "s", kind: "optimize-function", mode: "study", configHash: putConfig(store.db, "optimize-function", exp.config),
    spec: exp.study!, seed: exp.seed, manifest: collectManifest(exp.seed),
  });
  // Simulate a driver killed mid-trial: trial 0 exists, is running, and has a stale intermediate value.
  insertTrial(store.db, study.id, { number: 0, params: { x0: 1, x1: 2 }, distributions: exp.study!.space, seed: 1, runId: "s/trial-0" });
  assert.ok(writeIntermediate(store.db, study.id, 0, 1, 1, 999));
  await driveStudy(store, study);
  const trials = trialsOf(store, "s");
  assert.equal(trials.length, 3);
  assert.equal(trials[0]!.attempt, 2);
  assert.equal(trials[0]!.value, branin({ x0: 1, x1: 2 }));
  const inter = loadFrozenTrials(store.db, study.id)[0]!.intermediate;
  assert.equal(inter.size, 5);
  assert.notEqual(inter.get(1), 999);
  // The killed attempt (1) can no longer write anything.
  assert.equal(writeIntermediate(store.db, study.id, 0, 1, 1, 999), false);
  assert.equal(finishTrial(store.db, study.id, 0, 1, "complete", 123), false);
  assert.equal(trialsOf(store, "s")[0]!.value, branin({ x0: 1, x1: 2 }));
  assert.equal(restartTrial(store.db, study.id, 0), 3);
  store.close();
});

test("a median-pruned study spends fewer steps than an unpruned one and finds the same best", async () => {
  const run = async (pruner: unknown) => {
    const store = tmpStore();
    const r = await runStudy(store, studyExp({ n_trials: 30, sampler: "random", pruner }, { steps: 20 }));
    store.close();
    return r;
  };
  const unpruned = await run("none");
  const pruned = await run({ type: "median", n_startup_trials: 5 });
  assert.equal(unpruned.totalSteps, 30 * 20);
  assert.ok(pruned.counts.pruned > 0);
  assert.ok(pruned.totalSteps < unpruned.totalSteps, `${pruned.totalSteps} vs ${unpruned.totalSteps}`);
  // Random params do not depend on history, so both studies saw the same points; converge curves keep
  // their ranking, so the best trial is never the one pruned.
  assert.deepEqual(pruned.best, unpruned.best);
  console.log(`# pruning: ${pruned.totalSteps} steps (${pruned.counts.pruned} pruned) vs ${unpruned.totalSteps} unpruned`);
});

test("a second driver on a live study is refused; a dead driver's claim is taken over", async () => {
  const store = tmpStore();
  const exp = studyExp({ n_trials: 2, sampler: "random" });
  await runStudy(store, exp, { maxDispatch: 1 });
  const study = getStudy(store.db, "s")!;
  // Pretend a live process on this machine (our parent) is driving it.
  store.db.prepare("UPDATE studies SET driver_host = ?, driver_pid = ? WHERE id = ?").run(os.hostname(), process.ppid, study.id);
  await assert.rejects(driveStudy(store, study), /already being run by process \d+ on this machine/);
  assert.equal(listTrials(store.db, study.id).length, 1, "the refused driver changed nothing");
  // A driver that died (SIGKILL) leaves its claim behind; it no longer blocks a resume.
  const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
  store.db.prepare("UPDATE studies SET driver_pid = ? WHERE id = ?").run(dead, study.id);
  const result = await driveStudy(store, study);
  assert.equal(result.counts.complete, 2);
  const row = store.db.prepare("SELECT driver_pid FROM studies WHERE id = ?").get(study.id) as { driver_pid: number | null };
  assert.equal(row.driver_pid, null, "the claim is released when the driver ends");
  store.close();
});

test("a study can optimise another summary metric in the other direction", async () => {
  const store = tmpStore();
  const result = await runStudy(store, studyExp({ n_trials: 6, sampler: "random", metric: "distance_to_optimum", direction: "maximize" }));
  const trials = trialsOf(store, "s");
  const values = trials.map((t) => t.value!);
  assert.equal(result.best!.value, Math.max(...values));
  for (const t of trials) {
    const runMetrics = store.db.prepare("SELECT value FROM metrics WHERE run_id = ? AND name = 'distance_to_optimum' AND step IS NULL").get(t.run_id) as { value: number };
    assert.equal(t.value, runMetrics.value);
    assert.notEqual(t.value, branin(t.params), "the trial value is the chosen metric, not the default objective");
  }
  store.close();
});
