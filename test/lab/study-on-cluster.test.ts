/**
 * A study whose trials run as SLURM jobs on a real single-node cluster (the harness in
 * slurm-cluster.ts; skipped where SLURM, munge or root are missing).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseExperiment } from "../../src/lab/config.js";
import { testFunctions } from "../../src/lab/kinds/test-functions.js";
import { getStudy, listTrials, trialParams } from "../../src/lab/store/studies.js";
import { openStore } from "../../src/lab/store/store.js";
import { runStudy } from "../../src/lab/study/driver.js";
import { useSlurmCluster } from "./slurm-cluster.js";

const slurm = useSlurmCluster();

test("a study with executor: slurm runs each trial as a SLURM job and records it once", { timeout: 240_000 }, async (t) => {
  const cluster = slurm.get(t);
  if (!cluster) return;
  // The driver's sbatch/squeue calls inherit the environment: point them at the test cluster.
  Object.assign(process.env, cluster.env);
  const store = openStore(mkdtempSync(path.join(os.tmpdir(), "scalpel-slurm-study-")));
  const exp = parseExperiment({
    kind: "optimize-function",
    name: "on-slurm",
    config: { function: "quadratic", steps: 2 },
    study: {
      n_trials: 4, parallel: 2, executor: "slurm", sampler: "random", memory_per_worker_mb: 256,
      slurm: { partition: cluster.partition },
      space: { x0: { type: "float", low: -5, high: 5 }, x1: { type: "float", low: -5, high: 5 } },
    },
  });
  const result = await runStudy(store, exp, { pollIntervalMs: 300 });
  assert.equal(result.executor, "slurm");
  assert.deepEqual(result.counts, { complete: 4, pruned: 0, fail: 0, running: 0 });
  const study = getStudy(store.db, "on-slurm")!;
  for (const tr of listTrials(store.db, study.id)) {
    const p = trialParams(store.db, study.id, tr.number);
    assert.equal(tr.value, testFunctions.quadratic.f(p.x0 as number, p.x1 as number));
    const manifest = JSON.parse((store.db.prepare("SELECT manifest FROM runs WHERE id = ?").get(tr.run_id) as { manifest: string }).manifest);
    assert.equal(manifest.argv[0], "run-trial", "the trial ran in a SLURM job, not in the driver");
  }
  store.close();
});
