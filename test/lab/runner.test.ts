import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { artifactDir } from "../../src/lab/artifacts.js";
import { parseExperiment } from "../../src/lab/config.js";
import { resumeRun, startRun } from "../../src/lab/experiment.js";
import { registerKind } from "../../src/lab/kinds/registry.js";
import type { ExperimentKind } from "../../src/lab/kinds/types.js";
import { testFunctions } from "../../src/lab/kinds/test-functions.js";
import { s } from "../../src/lab/schema/schema.js";
import { getRun, listStages, summaryMetrics } from "../../src/lab/store/runs.js";
import { openStore } from "../../src/lab/store/store.js";

const tmpStore = () => openStore(mkdtempSync(path.join(os.tmpdir(), "scalpel-runner-")));
const exp = (config: Record<string, unknown>) => parseExperiment({ kind: "optimize-function", name: "t", seed: 5, config });
const reused = (o: { stages: { name: string; cached: boolean }[] }) => Object.fromEntries(o.stages.map((st) => [st.name, st.cached]));

test("a re-run reuses every finished stage and gives the same metrics", async () => {
  const store = tmpStore();
  const e = exp({ function: "branin", x0: 2, x1: 3, steps: 4 });
  const first = await startRun(store, e);
  assert.deepEqual(reused(first), { prepare: false, optimize: false, evaluate: false });
  assert.equal(first.metrics.value, testFunctions.branin.f(2, 3));
  const second = await startRun(store, e);
  assert.deepEqual(reused(second), { prepare: true, optimize: true, evaluate: true });
  assert.deepEqual(second.metrics, first.metrics);
  // The second run has its own rows (metrics copied from the artifacts), not shared or duplicated ones.
  const seriesCount = store.db.prepare("SELECT COUNT(*) AS n FROM metrics WHERE run_id = ? AND step IS NOT NULL").get(second.runId) as { n: number };
  assert.equal(seriesCount.n, 4);
  store.close();
});

test("changing one parameter recomputes only the stages that depend on it", async () => {
  const store = tmpStore();
  await startRun(store, exp({ x0: 1, x1: 1, steps: 4 }));
  const moreSteps = await startRun(store, exp({ x0: 1, x1: 1, steps: 6 }));
  assert.deepEqual(reused(moreSteps), { prepare: true, optimize: false, evaluate: false });
  const otherPoint = await startRun(store, exp({ x0: 2, x1: 1, steps: 6 }));
  assert.deepEqual(reused(otherPoint), { prepare: false, optimize: false, evaluate: false });
  // A field no stage's result depends on (a per-step delay) changes nothing.
  const slower = await startRun(store, exp({ x0: 2, x1: 1, steps: 6, step_delay_ms: 1 }));
  assert.deepEqual(reused(slower), { prepare: true, optimize: true, evaluate: true });
  store.close();
});

test("artifacts are sealed in content-addressed folders and indexed in the store", async () => {
  const store = tmpStore();
  const out = await startRun(store, exp({ steps: 2 }));
  for (const st of out.stages) assert.ok(existsSync(path.join(artifactDir(store.artifactsDir, st.artifact), "output.json")));
  const rows = store.db.prepare("SELECT hash, code, path, bytes FROM artifacts").all() as { hash: string; code: string; path: string; bytes: number }[];
  assert.equal(rows.length, 3);
  for (const r of rows) {
    assert.ok(r.bytes > 0 && existsSync(path.join(store.dir, r.path)));
    assert.equal(r.code, "optimize-function@1", "each artifact records the code version that made it");
  }
  assert.deepEqual(readdirSync(path.join(store.artifactsDir, "tmp")), [], "no scratch folders left behind");
  store.close();
});

test("the run manifest records seed, git, versions, machine and times", async () => {
  const store = tmpStore();
  const out = await startRun(store, exp({ steps: 1 }));
  const row = getRun(store.db, out.runId)!;
  const m = JSON.parse(row.manifest);
  assert.equal(m.seed, 5);
  assert.ok("commit" in m.git && "dirty" in m.git);
  assert.equal(m.versions.node, process.version);
  assert.ok(m.versions["better-sqlite3"]);
  assert.ok(m.machine.cpus >= 1 && m.machine.memoryBytes > 0 && m.machine.hostname);
  assert.ok(Date.parse(m.startedAt) <= Date.parse(m.endedAt));
  assert.equal(row.status, "done");
  store.close();
});

// A kind whose middle stage fails the first time it runs, to test resuming a broken run.
let flaky = 0;
const flakyKind: ExperimentKind<{ n: number }> = {
  name: "test-flaky",
  version: "1",
  description: "second stage fails once",
  schema: s.object({ n: s.int().default(3) }),
  objective: { metric: "total", direction: "maximize" },
  stages: [
    { name: "a", after: [], uses: (c) => c.n, run: (ctx) => ctx.config.n * 2 },
    {
      name: "b",
      after: ["a"],
      uses: () => null,
      run: (ctx) => {
        if (flaky++ === 0) throw new Error("transient failure");
        ctx.metric("total", (ctx.inputs.a as number) + 1);
        return (ctx.inputs.a as number) + 1;
      },
    },
  ],
};
registerKind(flakyKind);

test("resume finishes a failed run under the same id, reusing its finished stages", async () => {
  const store = tmpStore();
  const e = parseExperiment({ kind: "test-flaky", config: { n: 4 } });
  await assert.rejects(startRun(store, e, {}, "flaky-1"), /transient failure/);
  assert.equal(getRun(store.db, "flaky-1")!.status, "failed");
  assert.deepEqual(listStages(store.db, "flaky-1").map((st) => [st.name, st.status]), [["a", "done"], ["b", "failed"]]);
  const out = await resumeRun(store, "flaky-1");
  assert.deepEqual(reused(out), { a: true, b: false });
  assert.equal(getRun(store.db, "flaky-1")!.status, "done");
  assert.deepEqual(summaryMetrics(store.db, "flaky-1"), { total: 9 });
  assert.equal((store.db.prepare("SELECT COUNT(*) AS n FROM runs").get() as { n: number }).n, 1);
  await assert.rejects(resumeRun(store, "flaky-2"), /no run or study named 'flaky-2'.*did you mean 'flaky-1'/);
  store.close();
});
