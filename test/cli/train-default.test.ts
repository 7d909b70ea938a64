/**
 * `scalpel train-default` end to end on the real recipe (both stages), shortened: the same seed rebuilds
 * byte-identical weights, tokenizer and datasets, and a run SIGKILLed mid-way resumes from its
 * checkpoint to the very same loss curve and weights.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, "../../bin/scalpel.mjs");
const SEED = 20261122;
const args = (out: string) => ["train-default", "--out", out, "--steps", "6", "--stage2-steps", "2", "--checkpoint-every", "2", "--no-eval"];

async function files(dir: string) {
  const read = (f: string) => readFile(path.join(dir, f));
  const training = JSON.parse(await readFile(path.join(dir, "training.json"), "utf8")) as { losses: [number, number][]; stage2Losses: [number, number][] };
  return { weights: await read("model.safetensors"), tokenizer: await read("tokenizer.json"), counterfact: await read("data/counterfact.json"), losses: training.losses, stage2Losses: training.stage2Losses };
}

test("same seed → identical checkpoint; a killed run resumes to the same losses and weights", { timeout: 900_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), "train-default-"));
  try {
    const a = path.join(root, "a");
    const b = path.join(root, "b");
    await run(process.execPath, [bin, ...args(a)], { timeout: 400_000 });
    const ref = await files(a);
    assert.equal(ref.losses.length, 6);
    assert.equal(ref.stage2Losses.length, 2, "the second stage runs after the first");
    assert.ok(ref.losses[5]![1] < ref.losses[0]![1], "the loss should fall over six steps");

    // Kill the second run once its step-4 checkpoint exists, then run the same command again.
    const ckpt = path.join(root, `.train-b-${SEED}`, "step-00000004", "state.json");
    const child = spawn(process.execPath, [bin, ...args(b)], { stdio: "ignore" });
    const exited = new Promise((r) => child.on("exit", r));
    while (!existsSync(ckpt)) {
      assert.equal(child.exitCode, null, "the run ended before its step-4 checkpoint");
      await new Promise((r) => setTimeout(r, 200));
    }
    child.kill("SIGKILL");
    await exited;
    assert.ok(!existsSync(path.join(b, "model.safetensors")), "the killed run must not have finished");
    const { stdout } = await run(process.execPath, [bin, ...args(b)], { timeout: 400_000 });
    assert.match(stdout, /resumed from .*step-0000000[46]/);

    const again = await files(b);
    assert.deepEqual(again.losses, ref.losses);
    assert.deepEqual(again.stage2Losses, ref.stage2Losses);
    assert.ok(again.weights.equals(ref.weights), "weights differ from the uninterrupted run's");
    assert.ok(again.tokenizer.equals(ref.tokenizer));
    assert.ok(again.counterfact.equals(ref.counterfact));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
