import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { CheckpointError, ConfigError } from "../../src/errors.js";
import { readF32 } from "../../src/tensor/own.js";
import { latestCheckpoint } from "../../src/train/checkpoint.js";
import { train } from "../../src/train/loop.js";
import { KILL_CONFIG, tinyDocs, tinyModel } from "./fixture.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const tmp = () => mkdtempSync(path.join(os.tmpdir(), "scalpel-train-"));

test("training lowers the loss; gradient accumulation equals one big batch", async () => {
  const base = { lr: 1e-2, warmupSteps: 0, totalSteps: 3, minLrRatio: 0.1, seqLen: 16, seed: 3, clipNorm: 0.5 };
  const m = tinyModel();
  const big = await train({ model: m, documents: tinyDocs(), config: { ...base, batchSize: 4, gradAccumSteps: 1 } });
  const acc = await train({ model: m, documents: tinyDocs(), config: { ...base, batchSize: 2, gradAccumSteps: 2 } });
  for (let i = 0; i < 3; i++) {
    assert.ok(Math.abs(big.losses[i]!.loss - acc.losses[i]!.loss) < 1e-5, `step ${i + 1} loss ${big.losses[i]!.loss} vs ${acc.losses[i]!.loss}`);
    assert.ok(Math.abs(big.losses[i]!.gradNorm - acc.losses[i]!.gradNorm) < 1e-4, `step ${i + 1} grad norm`);
  }
  for (const name of Object.keys(big.model.params)) {
    const a = await readF32(big.model.params[name]!.ref);
    const b = await readF32(acc.model.params[name]!.ref);
    let d = 0;
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
    assert.ok(d < 1e-5, `${name}: params differ by ${d}`);
  }
  big.model.dispose();
  acc.model.dispose();

  const long = await train({ model: m, documents: tinyDocs(), config: { lr: 1e-2, warmupSteps: 5, totalSteps: 60, seqLen: 16, batchSize: 8, seed: 1 } });
  const first = long.losses[0]!.loss;
  const last = long.losses.slice(-5).reduce((s, r) => s + r.loss, 0) / 5;
  assert.ok(last < first - 0.5, `loss went from ${first} to ${last}`);
  long.model.dispose();
  m.dispose();
});

test("SIGKILLed run resumes exactly; same seed gives byte-identical params; config mismatch is a typed error", async () => {
  const killed = tmp();
  const child = spawn(process.execPath, ["--import", "tsx", path.join(HERE, "child-train.ts"), killed], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  // Kill as soon as a checkpoint at step ≥ 3 exists (the child pauses 150 ms per step, so it is mid-run).
  const deadline = Date.now() + 45_000;
  while (!(await latestCheckpoint(killed)) && Date.now() < deadline) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill("SIGKILL");
  await exited;
  const ckpt = await latestCheckpoint(killed);
  assert.ok(ckpt, `the child wrote no checkpoint: ${stderr}`);
  const ckptStep = Number(path.basename(ckpt).slice(5));
  console.log(`killed after checkpoint ${ckptStep}`);
  assert.ok(ckptStep >= 3 && ckptStep < 12, `checkpoint at step ${ckptStep}`);

  const m = tinyModel();
  const fullDir = tmp();
  const full = await train({ model: m, documents: tinyDocs(), config: KILL_CONFIG, checkpointDir: fullDir });
  const resumed = await train({ model: m, documents: tinyDocs(), config: KILL_CONFIG, checkpointDir: killed, resume: true });
  assert.equal(resumed.resumedFrom, ckpt);
  assert.equal(resumed.step, 12);
  assert.equal(resumed.losses.length, 12);
  for (let s = 0; s < 12; s++) {
    const a = full.losses[s]!;
    const b = resumed.losses[s]!;
    assert.equal(a.step, b.step);
    if (s === 11) console.log(`final loss ${a.loss} vs ${b.loss}, bitwise ${a.loss === b.loss}`);
    assert.ok(Math.abs(a.loss - b.loss) <= 1e-6, `step ${s + 1}: loss ${a.loss} (uninterrupted) vs ${b.loss} (resumed after step ${ckptStep})`);
  }
  const again = tmp();
  const full2 = await train({ model: m, documents: tinyDocs(), config: KILL_CONFIG, checkpointDir: again });
  const bytes = (d: string) => readFileSync(path.join(d, "step-00000012", "model.safetensors"));
  assert.ok(bytes(fullDir).equals(bytes(again)), "two runs with the same seed saved different params");
  assert.ok(existsSync(path.join(killed, "step-00000012", "optimizer.safetensors")));

  await assert.rejects(
    train({ model: m, documents: tinyDocs(), config: { ...KILL_CONFIG, lr: 1e-3 }, checkpointDir: fullDir, resume: true }),
    (e: unknown) => e instanceof ConfigError && e.code === "RESUME_CONFIG_MISMATCH" && e.field === "lr",
  );
  await assert.rejects(
    train({ model: m, documents: tinyDocs(30), config: KILL_CONFIG, checkpointDir: fullDir, resume: true }),
    (e: unknown) => e instanceof ConfigError && e.code === "RESUME_DATA_MISMATCH",
  );

  // A finished run's last checkpoint without its optimizer state still ends the run (a later stage
  // starts from its weights); one the run must train on from is a typed error.
  rmSync(path.join(fullDir, "step-00000012", "optimizer.safetensors"));
  const finished = await train({ model: m, documents: tinyDocs(), config: KILL_CONFIG, checkpointDir: fullDir, resume: true });
  assert.equal(finished.step, 12);
  const [name] = Object.keys(full.model.params);
  assert.deepEqual(await readF32(finished.model.params[name!]!.ref), await readF32(full.model.params[name!]!.ref));
  finished.model.dispose();
  rmSync(path.join(fullDir, "step-00000012"), { recursive: true });
  rmSync(path.join(fullDir, "step-00000009", "optimizer.safetensors"));
  await assert.rejects(
    train({ model: m, documents: tinyDocs(), config: KILL_CONFIG, checkpointDir: fullDir, resume: true }),
    (e: unknown) => e instanceof CheckpointError && e.code === "OPTIMIZER_STATE" && /step-00000009/.test(e.file ?? ""),
  );
  for (const r of [full, resumed, full2]) r.model.dispose();
  m.dispose();
  for (const d of [killed, fullDir, again]) rmSync(d, { recursive: true, force: true });
});
