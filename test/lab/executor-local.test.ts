import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { LocalExecutor, workerLimit } from "../../src/lab/executors/local.js";
import { parseExperiment } from "../../src/lab/config.js";
import { testFunctions } from "../../src/lab/kinds/test-functions.js";
import { getStudy, listTrials, trialParams } from "../../src/lab/store/studies.js";
import { openStore } from "../../src/lab/store/store.js";
import { runStudy } from "../../src/lab/study/driver.js";

const tmp = () => mkdtempSync(path.join(os.tmpdir(), "scalpel-exec-"));

test("workerLimit caps the requested workers by cores and by free memory", () => {
  const GiB = 1024 ** 3;
  assert.equal(workerLimit(8, 512, { cpus: 4, freeBytes: 64 * GiB }), 4);
  assert.equal(workerLimit(8, 4096, { cpus: 16, freeBytes: 10 * GiB }), 2);
  assert.equal(workerLimit(3, 512, { cpus: 16, freeBytes: 64 * GiB }), 3);
  assert.equal(workerLimit(4, 1 << 20, { cpus: 16, freeBytes: GiB }), 1, "always at least one worker");
});

test("the local executor runs tasks as child processes, at most maxWorkers at once, with logs and exit codes", async () => {
  const dir = tmp();
  // A stand-in CLI entry point: records start/end times, then exits with the code it is given.
  const bin = path.join(dir, "fake-cli.mjs");
  writeFileSync(
    bin,
    `import { appendFileSync } from "node:fs";
     const [file, code] = process.argv.slice(2);
     appendFileSync(file, "start " + Date.now() + "\\n");
     await new Promise((r) => setTimeout(r, 300));
     appendFileSync(file, "end " + Date.now() + "\\n");
     console.log("hello from " + code);
     process.exit(Number(code));`,
  );
  const ex = new LocalExecutor({ maxWorkers: 2, logDir: path.join(dir, "logs"), bin });
  const events = path.join(dir, "events.txt");
  await ex.submit(["0", "0", "3", "0"].map((code, i) => ({ id: `t${i}`, argv: [events, code] })));
  const statuses = await ex.wait();
  assert.deepEqual(statuses.map((s) => [s.id, s.state, s.exitCode]), [["t0", "done", 0], ["t1", "done", 0], ["t2", "failed", 3], ["t3", "done", 0]]);
  assert.match(readFileSync(statuses[2]!.logFile!, "utf8"), /hello from 3/);
  // Replay the start/end events: never more than two tasks ran at the same time.
  const lines = readFileSync(events, "utf8").trim().split("\n").map((l) => l.split(" ")).sort((a, b) => Number(a[1]) - Number(b[1]) || (a[0] === "end" ? -1 : 1));
  let live = 0, peak = 0;
  for (const [kind] of lines) peak = Math.max(peak, (live += kind === "start" ? 1 : -1));
  assert.equal(peak, 2);
});

test("a study with parallel: 2 runs its trials in worker processes, each trial once", { timeout: 120_000 }, async () => {
  const store = openStore(tmp());
  const exp = parseExperiment({
    kind: "optimize-function",
    name: "par",
    config: { function: "quadratic", steps: 3 },
    study: { n_trials: 6, parallel: 2, executor: "local", sampler: "random", space: { x0: { type: "float", low: -5, high: 5 }, x1: { type: "float", low: -5, high: 5 } } },
  });
  const result = await runStudy(store, exp);
  assert.equal(result.executor, "local");
  assert.equal(result.workers, Math.min(2, os.availableParallelism()));
  assert.deepEqual(result.counts, { complete: 6, pruned: 0, fail: 0, running: 0 });
  const study = getStudy(store.db, "par")!;
  for (const t of listTrials(store.db, study.id)) {
    const p = trialParams(store.db, study.id, t.number);
    assert.equal(t.value, testFunctions.quadratic.f(p.x0 as number, p.x1 as number));
    // The trial's run was made by a worker (`scalpel run-trial`), not by this process.
    const manifest = JSON.parse((store.db.prepare("SELECT manifest FROM runs WHERE id = ?").get(t.run_id) as { manifest: string }).manifest);
    assert.equal(manifest.argv[0], "run-trial");
  }
  store.close();
});

test("a worker whose driver dies tidies up and exits instead of running on as an orphan", { timeout: 60_000 }, async () => {
  const dir = tmp();
  const marker = path.join(dir, "orphaned.txt");
  const local = path.resolve(import.meta.dirname, "../../src/lab/executors/local.ts");
  // The worker: watches its parent, records that it noticed, and would otherwise live for a minute.
  const worker = path.join(dir, "worker.mts");
  writeFileSync(worker, `import { writeFileSync } from "node:fs";
    const { watchParent } = await import(${JSON.stringify(local)});
    watchParent(() => writeFileSync(${JSON.stringify(marker)}, String(process.pid)));
    setTimeout(() => {}, 60_000);
    process.stdout.write("ready\\n");`);
  // The driver: starts the worker with SCALPEL_PARENT_PID (as LocalExecutor does), prints its pid, then waits to be killed.
  const driver = path.join(dir, "driver.mjs");
  writeFileSync(driver, `import { spawn } from "node:child_process";
    const w = spawn(process.execPath, ["--import", "tsx", ${JSON.stringify(worker)}], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, SCALPEL_PARENT_PID: String(process.pid) } });
    w.stdout.once("data", () => process.stdout.write(w.pid + "\\n"));
    setTimeout(() => {}, 60_000);`);
  const { spawn } = await import("node:child_process");
  const d = spawn(process.execPath, [driver], { stdio: ["ignore", "pipe", "inherit"], cwd: path.resolve(import.meta.dirname, "../..") });
  const workerPid = await new Promise<number>((resolve) => d.stdout.once("data", (b) => resolve(Number(String(b).trim()))));
  d.kill("SIGKILL");
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const t0 = Date.now();
  while (alive(workerPid) && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 50));
  assert.equal(alive(workerPid), false, "the orphaned worker exited");
  assert.equal(readFileSync(marker, "utf8"), String(workerPid), "and ran its clean-up first");
  console.log(`# orphaned worker exited ${Date.now() - t0} ms after its driver was killed`);
});
