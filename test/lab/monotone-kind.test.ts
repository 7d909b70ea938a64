/**
 * The `monotone` experiment kind (8 stages), examples/monotone-robustness.yaml on the built-in model
 * at tiny sizes: a run killed with
 * SIGKILL during recovery training resumes from its last training checkpoint, reusing the stages
 * that had finished; every constrained weight of the trained monotone model is ≥ 0; the aggregate
 * writes final_results.json; a misspelled key anywhere in the config is refused before compute.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import YAML from "yaml";
import { parseExperiment } from "../../src/lab/config.js";
import { openStore } from "../../src/lab/store/store.js";
import { runScalpel } from "../cli/run-cli.js";

const BIN = join(import.meta.dirname, "../../bin/scalpel.mjs");
let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "scalpel-monotone-"));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const SIZES = {
  baseline_steps: 2, monotone_steps: 14, baseline_warmup: 1, monotone_warmup: 4, batch_size: 4, seq_len: 32, eval_every: 7, checkpoint_every: 2,
  heldout_docs: 6, attack_examples: 4, hotflip_budget: 1, uat_iterations: 1, uat_candidates: 2,
};

/** The newest training checkpoint step of seed 0 under the store's partial folders, or 0. */
function checkpointStep(storeDir: string): number {
  const partial = join(storeDir, "artifacts", "partial");
  if (!existsSync(partial)) return 0;
  let best = 0;
  for (const d of readdirSync(partial)) {
    const seedDir = join(partial, d, "seed-0");
    if (!existsSync(seedDir)) continue;
    for (const s of readdirSync(seedDir)) {
      const m = /^step-(\d{8})$/.exec(s);
      if (m) best = Math.max(best, Number(m[1]));
    }
  }
  return best;
}

test("killed with SIGKILL during recovery training, the run resumes from its checkpoint and reuses finished stages", { timeout: 600_000 }, async () => {
  // examples/monotone-robustness.yaml as written, shrunk to one seed and tiny sizes.
  const raw = YAML.parse(readFileSync(join(import.meta.dirname, "../../examples/monotone-robustness.yaml"), "utf8"));
  raw.config = { ...raw.config, seeds: [0], sizes: SIZES };
  const file = join(dir, "mono.json");
  await writeFile(file, JSON.stringify(raw));
  const storeDir = join(dir, "store");
  const child = spawn(process.execPath, [BIN, "run", file, "--store", storeDir], { stdio: "ignore", detached: true });
  // Baseline training has 2 steps; a checkpoint at step ≥ 4 is the monotone stage's.
  const killedAt = await new Promise<number>((resolve, reject) => {
    const watch = setInterval(() => {
      const n = checkpointStep(storeDir);
      if (n < 4) return;
      clearInterval(watch);
      process.kill(-child.pid!, "SIGKILL");
      resolve(n);
    }, 50);
    child.on("exit", (_code, signal) => {
      if (signal !== "SIGKILL") {
        clearInterval(watch);
        reject(new Error("the run ended before it could be killed"));
      }
    });
  });
  assert.ok(killedAt >= 4 && killedAt < 14, `killed after training step ${killedAt}`);

  let store = openStore(storeDir);
  const runId = (store.db.prepare("SELECT id FROM runs").get() as { id: string }).id;
  const doneBefore = store.db.prepare("SELECT name FROM stages WHERE run_id = ? AND status = 'done' ORDER BY name").all(runId) as { name: string }[];
  store.close();
  assert.ok(doneBefore.some((s) => s.name === "train_baseline"), `finished before the kill: ${doneBefore.map((s) => s.name)}`);

  const resumed = await runScalpel(["resume", runId, "--store", storeDir, "--json"], dir);
  assert.equal(resumed.code, 0, resumed.stderr);
  store = openStore(storeDir);
  try {
    const stages = store.db.prepare("SELECT name, status, cached FROM stages WHERE run_id = ?").all(runId) as { name: string; status: string; cached: number }[];
    assert.deepEqual(stages.map((s) => s.status), new Array(8).fill("done"), "all 8 stages done");
    for (const s of doneBefore) assert.equal(stages.find((x) => x.name === s.name)!.cached, 1, `${s.name} was reused, not run again`);
    assert.equal(stages.find((x) => x.name === "train_monotone")!.cached, 0, "the interrupted stage ran (from its checkpoint)");
    const out = (name: string) => {
      const p = (store.db.prepare("SELECT a.path FROM stages s JOIN artifacts a ON a.hash = s.artifact WHERE s.name = ? AND s.run_id = ?").get(name, runId) as { path: string }).path;
      return { dir: join(storeDir, p), output: JSON.parse(readFileSync(join(storeDir, p, "output.json"), "utf8")).output };
    };
    const mono = out("train_monotone").output["seed-0"];
    assert.ok(mono.resumed_from && Number(/\d+/.exec(mono.resumed_from)![0]) >= 4, `resumed from ${mono.resumed_from}`);
    assert.equal(mono.steps, 14);
    assert.equal(mono.max_negative_fraction, 0, "every constrained weight ≥ 0 after recovery");
    const agg = out("aggregate");
    const final = JSON.parse(readFileSync(join(agg.dir, "final_results.json"), "utf8"));
    for (const k of ["perplexity", "uat_success_rate", "hotflip_success_rate"]) {
      assert.ok(Number.isFinite(final.baseline[k].mean) && Number.isFinite(final.monotone[k].mean), k);
    }
    const cases = store.db.prepare("SELECT COUNT(*) AS n FROM case_results WHERE run_id = ?").get(runId) as { n: number };
    // HotFlip: 4 examples × 2 models; UAT: 2 held-out examples × 2 models.
    assert.equal(cases.n, 4 * 2 + 2 * 2);
  } finally {
    store.close();
  }
});

test("the monotone kind refuses a misspelled key anywhere in its config, with the closest valid one", () => {
  assert.throws(() => parseExperiment({ kind: "monotone", config: { mdoe: "quick" } }), /mdoe.*did you mean 'mode'/i);
  assert.throws(() => parseExperiment({ kind: "monotone", config: { constraint: { methd: "project" } } }), /methd.*did you mean 'method'/i);
  assert.throws(() => parseExperiment({ kind: "monotone", config: { sizes: { monotone_step: 3 } } }), /monotone_step.*did you mean 'monotone_steps'/i);
  assert.throws(() => parseExperiment({ kind: "monotone", config: { mode: "fast" } }), /mode/);
});
