/**
 * examples/monotone-robustness-slurm.yaml on a real single-node SLURM (slurm-cluster.ts; skipped
 * where SLURM, munge or root are missing): each replicate of the 8-stage pipeline runs as a
 * SLURM job, at tiny sizes, and every run ends with its final_results.json.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import YAML from "yaml";
import { parseExperiment } from "../../src/lab/config.js";
import { getStudy, listTrials } from "../../src/lab/store/studies.js";
import { openStore } from "../../src/lab/store/store.js";
import { runStudy } from "../../src/lab/study/driver.js";
import { useSlurmCluster } from "./slurm-cluster.js";

const slurm = useSlurmCluster();
const EXAMPLE = path.join(import.meta.dirname, "../../examples/monotone-robustness-slurm.yaml");

test("the monotone pipeline's replicates run as SLURM jobs, each ending with final_results.json", { timeout: 600_000 }, async (t) => {
  const cluster = slurm.get(t);
  if (!cluster) return;
  Object.assign(process.env, cluster.env);
  const raw = YAML.parse(readFileSync(EXAMPLE, "utf8"));
  // The example as written, shrunk: two replicates, tiny sizes, the test cluster's partition.
  raw.config.sizes = { baseline_steps: 2, monotone_steps: 3, baseline_warmup: 1, monotone_warmup: 1, batch_size: 4, seq_len: 32, eval_every: 3, checkpoint_every: 3, heldout_docs: 4, attack_examples: 4, hotflip_budget: 1, uat_iterations: 1, uat_candidates: 2 };
  raw.sweep.values.seed = [0, 1];
  raw.sweep.slurm.partition = cluster.partition;
  raw.sweep.memory_per_worker_mb = 1024;
  const store = openStore(mkdtempSync(path.join(os.tmpdir(), "scalpel-monotone-slurm-")));
  try {
    const result = await runStudy(store, parseExperiment(raw), { pollIntervalMs: 500 });
    assert.equal(result.executor, "slurm");
    assert.deepEqual(result.counts, { complete: 2, pruned: 0, fail: 0, running: 0 });
    const study = getStudy(store.db, "monotone-robustness-slurm")!;
    for (const tr of listTrials(store.db, study.id)) {
      const manifest = JSON.parse((store.db.prepare("SELECT manifest FROM runs WHERE id = ?").get(tr.run_id) as { manifest: string }).manifest);
      assert.equal(manifest.argv[0], "run-trial", "the trial ran in a SLURM job");
      const art = store.db.prepare("SELECT a.path FROM stages s JOIN artifacts a ON a.hash = s.artifact WHERE s.run_id = ? AND s.name = 'aggregate'").get(tr.run_id) as { path: string };
      assert.ok(existsSync(path.join(store.dir, art.path, "final_results.json")));
    }
  } finally {
    store.close();
  }
});
