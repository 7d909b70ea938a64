/**
 * The study driver works with any Executor (the SLURM one included) through submit/poll: here an
 * executor that runs each task's `scalpel` argv in this process, so the worker command
 * (`scalpel run-trial`) and the generic polling path are tested without a cluster.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { main } from "../../src/cli/main.js";
import type { Executor, Task, TaskStatus } from "../../src/lab/executors/types.js";
import { parseExperiment } from "../../src/lab/config.js";
import { testFunctions } from "../../src/lab/kinds/test-functions.js";
import { getStudy, listTrials, trialParams } from "../../src/lab/store/studies.js";
import { openStore } from "../../src/lab/store/store.js";
import { runStudy } from "../../src/lab/study/driver.js";

class InProcessExecutor implements Executor {
  readonly name = "in-process";
  readonly statuses = new Map<string, TaskStatus>();
  readonly submitted: Task[] = [];
  async submit(tasks: Task[]): Promise<void> {
    for (const t of tasks) {
      this.submitted.push(t);
      this.statuses.set(t.id, { id: t.id, state: "running" });
      // A task whose argv asks for trial 2 "crashes" without recording anything, like an OOM-killed worker.
      const crash = t.argv.includes("--trial") && t.argv[t.argv.indexOf("--trial") + 1] === "2";
      const ran = crash ? Promise.resolve(137) : main(t.argv);
      void ran.then((code) => this.statuses.set(t.id, { id: t.id, state: code === 0 ? "done" : "failed", exitCode: code, logFile: "(in-process)" }));
    }
  }
  async poll(): Promise<TaskStatus[]> {
    return [...this.statuses.values()];
  }
  async wait(): Promise<TaskStatus[]> {
    return this.poll();
  }
  async cancel(): Promise<void> {}
}

test("a study runs through a generic executor; a worker that dies silently is recorded as a failed trial", async () => {
  const store = openStore(mkdtempSync(path.join(os.tmpdir(), "scalpel-drv-")));
  const exp = parseExperiment({
    kind: "optimize-function",
    name: "generic",
    config: { function: "rosenbrock", steps: 2 },
    study: { n_trials: 5, parallel: 2, sampler: "random", space: { x0: { type: "float", low: -2, high: 2 }, x1: { type: "float", low: -1, high: 3 } } },
  });
  const executor = new InProcessExecutor();
  const log = console.log;
  console.log = () => {}; // the in-process workers print their outcome lines
  const result = await runStudy(store, exp, { executor, pollIntervalMs: 10 }).finally(() => (console.log = log));
  assert.equal(result.executor, "in-process");
  assert.equal(executor.submitted.length, 5);
  assert.deepEqual(executor.submitted[0]!.argv.slice(0, 1), ["run-trial"]);
  assert.ok(executor.submitted[0]!.argv.includes(store.dir), "workers get the store's absolute path");
  const study = getStudy(store.db, "generic")!;
  for (const t of listTrials(store.db, study.id)) {
    if (t.number === 2) {
      assert.equal(t.state, "fail");
      assert.match(t.error!, /worker exited with code 137 without finishing/);
      continue;
    }
    const p = trialParams(store.db, study.id, t.number);
    assert.equal(t.state, "complete");
    assert.equal(t.value, testFunctions.rosenbrock.f(p.x0 as number, p.x1 as number));
  }
  assert.deepEqual(result.counts, { complete: 4, pruned: 0, fail: 1, running: 0 });
  store.close();
});
