import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { SlurmExecutor } from "../../src/lab/executors/slurm.js";
import { expandIndices, mapSlurmState, parseSacct, parseSbatchParsable, parseScontrol, parseSqueue, shellQuote } from "../../src/lab/executors/slurm-parse.js";
import { useSlurmCluster } from "./slurm-cluster.js";

test("SLURM output parsers", () => {
  assert.equal(parseSbatchParsable("42\n"), "42");
  assert.equal(parseSbatchParsable("42;cluster\n"), "42");
  assert.throws(() => parseSbatchParsable("sbatch: error: invalid partition"), /job id/);
  assert.deepEqual(expandIndices("0-3%2"), [0, 1, 2, 3]);
  assert.deepEqual(expandIndices("[1,3-5]"), [1, 3, 4, 5]);
  assert.deepEqual(expandIndices("0-6:3"), [0, 3, 6]);
  assert.deepEqual(parseSqueue("17_0|RUNNING\n17_[1-2]|PENDING\n18_0|RUNNING\n", "17"), [
    { index: 0, state: "RUNNING" }, { index: 1, state: "PENDING" }, { index: 2, state: "PENDING" },
  ]);
  const sc = [
    "JobId=21 ArrayJobId=20 ArrayTaskId=0 JobName=scalpel UserId=root(0) JobState=COMPLETED Reason=None Dependency=(null) ExitCode=0:0 DerivedExitCode=0:0",
    "JobId=22 ArrayJobId=20 ArrayTaskId=1 JobName=scalpel UserId=root(0) JobState=FAILED Reason=NonZeroExitCode ExitCode=2:0",
    "JobId=23 ArrayJobId=20 ArrayTaskId=2 JobName=scalpel JobState=CANCELLED Reason=None ExitCode=0:15",
    "JobId=20 ArrayJobId=20 ArrayTaskId=3-4 JobName=scalpel JobState=PENDING Reason=None ExitCode=0:0",
  ].join("\n");
  assert.deepEqual(parseScontrol(sc), [
    { index: 0, state: "COMPLETED", exitCode: 0 },
    { index: 1, state: "FAILED", exitCode: 2 },
    { index: 2, state: "CANCELLED", exitCode: 143 },
    { index: 3, state: "PENDING", exitCode: undefined },
    { index: 4, state: "PENDING", exitCode: undefined },
  ]);
  assert.deepEqual(parseSacct("30_0|COMPLETED|0:0\n30_0.batch|COMPLETED|0:0\n30_1|FAILED|1:0\n", "30"), [
    { index: 0, state: "COMPLETED", exitCode: 0 }, { index: 1, state: "FAILED", exitCode: 1 },
  ]);
  assert.equal(mapSlurmState("CANCELLED by 0"), "cancelled");
  assert.equal(mapSlurmState("TIMEOUT"), "failed");
  assert.equal(mapSlurmState("COMPLETING"), "running");
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});

test("the job script runs each task's argv through the scalpel CLI, shell-quoted", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "scalpel-sbatch-"));
  try {
    const ex = new SlurmExecutor({ workDir: dir, partition: "p", node: "/usr/bin/node", bin: "/repo/bin/scalpel.mjs" });
    const script = ex.script([{ id: "a", argv: ["check", "my config's.yaml"] }, { id: "b", argv: ["--help"] }], "t");
    assert.match(script, /^#!\/bin\/bash\n#SBATCH --job-name=scalpel\n/);
    assert.match(script, /#SBATCH --output=.*\/logs\/t-%a\.log/);
    assert.match(script, /#SBATCH --partition=p/);
    assert.match(script, / {2}0\) set -- 'check' 'my config'\\''s\.yaml' ;;/);
    assert.match(script, / {2}1\) set -- '--help' ;;/);
    assert.match(script, /'\/usr\/bin\/node' '\/repo\/bin\/scalpel\.mjs' "\$@"/);
    // The case statement parses: run it with bash for index 0, printing the argv instead.
    const probe = script.replace(/^'\/usr\/bin\/node'.*$/m, 'printf "<%s>" "$@"; exit 0');
    const r = spawnSync("bash", ["-c", probe], { env: { ...process.env, SLURM_ARRAY_TASK_ID: "0", SLURM_ARRAY_JOB_ID: "1" }, encoding: "utf8" });
    assert.equal(r.stdout, "<check><my config's.yaml>");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const slurm = useSlurmCluster();

test("SLURM executor runs scalpel CLI tasks as an array job on a real single-node cluster", { timeout: 180000 }, async (t) => {
  const cluster = slurm.get(t);
  if (!cluster) return;
  const dir = mkdtempSync(path.join(os.tmpdir(), "scalpel-slurm-work-"));
  try {
    writeFileSync(path.join(dir, "ok.yaml"), "kind: optimize-function\nconfig:\n  function: rosenbrock\n  x0: 1.5\n");
    writeFileSync(path.join(dir, "ok.json"), JSON.stringify({ kind: "optimize-function", seed: 4, config: { steps: 3 } }));
    writeFileSync(path.join(dir, "bad.yaml"), "kind: optimize-function\nconfig:\n  function: branin\n  stepz: 3\n");
    const ex = new SlurmExecutor({ workDir: dir, partition: cluster.partition, env: cluster.env, jobName: "scalpel-test" });
    await ex.submit([
      { id: "check-yaml", argv: ["check", path.join(dir, "ok.yaml")] },
      { id: "check-json", argv: ["check", path.join(dir, "ok.json")] },
      { id: "help", argv: ["--help"] },
      { id: "check-bad", argv: ["check", path.join(dir, "bad.yaml")] },
    ]);
    assert.equal(ex.jobIds.length, 1);
    const seen = new Set<string>();
    const final = await ex.wait({ pollIntervalMs: 500, onProgress: (s) => s.forEach((x) => seen.add(x.state)) });
    const by = new Map(final.map((s) => [s.id, s]));
    for (const id of ["check-yaml", "check-json", "help"]) {
      const s = by.get(id)!;
      assert.equal(s.state, "done", `${id}: ${JSON.stringify(s)} log: ${s.logFile && readFileSync(s.logFile, "utf8")}`);
      assert.equal(s.exitCode, 0);
    }
    assert.match(readFileSync(by.get("check-yaml")!.logFile!, "utf8"), /ok\.yaml: ok/);
    assert.match(readFileSync(by.get("check-json")!.logFile!, "utf8"), /ok\.json: ok/);
    assert.match(readFileSync(by.get("help")!.logFile!, "utf8"), /usage: scalpel <command>/);
    const bad = by.get("check-bad")!;
    assert.equal(bad.state, "failed");
    assert.equal(bad.exitCode, 1);
    assert.match(readFileSync(bad.logFile!, "utf8"), /unknown key 'stepz'/);
    // A second poll returns the same final states (cached, no flip-flop).
    assert.deepEqual(await ex.poll(), final);
    console.log(`SLURM job ${ex.jobIds[0]}: states seen ${[...seen].join(", ")}; final ${final.map((s) => `${s.id}=${s.state}(${s.exitCode})`).join(" ")}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("SLURM executor cancels a running job", { timeout: 120000 }, async (t) => {
  const cluster = slurm.get(t);
  if (!cluster) return;
  const dir = mkdtempSync(path.join(os.tmpdir(), "scalpel-slurm-cancel-"));
  try {
    // The "bin" is a script that sleeps, so the task is running when cancelled.
    const sleeper = path.join(dir, "sleep.mjs");
    writeFileSync(sleeper, "setTimeout(() => {}, 60000);\n");
    const ex = new SlurmExecutor({ workDir: dir, partition: cluster.partition, env: cluster.env, bin: sleeper });
    await ex.submit([{ id: "long", argv: [] }]);
    for (let i = 0; i < 40 && (await ex.poll())[0]!.state !== "running"; i++) await new Promise((r) => setTimeout(r, 250));
    await ex.cancel();
    const final = await ex.wait({ pollIntervalMs: 300 });
    assert.equal(final[0]!.state, "cancelled");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
