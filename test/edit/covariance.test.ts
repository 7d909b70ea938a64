/**
 * Covariance statistics (edit/covariance.ts): E[k kᵀ] of blocks.{l}.mlp.hook_post equals a direct
 * per-text float64 computation; an interrupted pass (SIGKILL) resumes to the same matrix; a second
 * call is served from the cache without a forward pass.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { collectMom2, corpusSample, moment } from "../../src/edit/covariance.js";
import { nodeStatsStore } from "../../src/edit/stats-store-node.js";
import type { Model } from "../../src/model/types.js";
import { initEngine } from "../../src/tensor/engine.js";
import { readF32 } from "../../src/tensor/own.js";
import { tinyCorpus, tinyModel } from "./tiny.js";

await initEngine();
const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Σ k kᵀ / count, one text per forward pass (no padding), float64 on the host. */
async function direct(model: Model, layer: number, texts: string[]): Promise<Float64Array> {
  const hook = `blocks.${layer}.mlp.hook_post`;
  const d = model.config.dMlp;
  const sum = new Float64Array(d * d);
  let count = 0;
  for (const t of texts) {
    const ids = model.tokenizer.encode(t).ids.filter((id) => id !== model.tokenizer.eosId);
    const { cache } = model.forward([ids], { cache: [hook], stopAt: hook });
    const k = await readF32(cache[hook]!);
    for (let p = 0; p < ids.length; p++) {
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) sum[i * d + j]! += k[p * d + i]! * k[p * d + j]!;
      count++;
    }
  }
  return sum.map((v) => v / count);
}

test("mom2 equals a direct float64 computation (padding masked out)", async () => {
  const model = tinyModel();
  const texts = tinyCorpus(40);
  const want = await direct(model, 1, texts);
  const stats = await collectMom2(model, { layer: 1, texts, batchSize: 6 });
  assert.equal(stats.samples, 40);
  const got = moment(stats);
  let maxAbs = 0;
  let maxErr = 0;
  for (let i = 0; i < got.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(want[i]!));
    maxErr = Math.max(maxErr, Math.abs(got[i]! - want[i]!));
  }
  assert.ok(maxAbs > 1e-3, "statistics are not trivially zero");
  assert.ok(maxErr < 1e-5 * maxAbs, `max error ${maxErr} vs scale ${maxAbs}`);
  // The token count is the number of real tokens (BOS included, padding not).
  const tokens = texts.reduce((n, t) => n + t.split(" ").length + 1, 0);
  assert.equal(stats.count, tokens);
  model.dispose();
});

test("a pass killed with SIGKILL resumes from its checkpoint to the same matrix", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "scalpel-mom2-"));
  try {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(HERE, "mom2-child.ts"), dir], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    // Kill once at least two checkpoints are on disk, well before the end (15 batches).
    const deadline = Date.now() + 50_000;
    while (!/progress (2[4-9]|[3-9]\d)\/120/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGKILL");
    await new Promise((r) => child.on("exit", r));
    assert.ok(!out.includes("finished"), "the child was killed before it finished");
    assert.ok(readdirSync(dir).some((f) => f.endsWith(".partial.bin")), `a checkpoint exists (${readdirSync(dir)})`);

    const model = tinyModel();
    let firstDone = -1;
    const resumed = await collectMom2(model, {
      layer: 1, texts: tinyCorpus(), batchSize: 8, checkpointEvery: 1, store: nodeStatsStore(dir),
      onProgress: (_s, done) => void (firstDone < 0 && (firstDone = done)),
    });
    assert.ok(firstDone >= 16 && firstDone < 120, `resumed from text ${firstDone}`);
    const fresh = await collectMom2(model, { layer: 1, texts: tinyCorpus(), batchSize: 8 });
    assert.equal(resumed.count, fresh.count);
    assert.deepEqual(resumed.sum, fresh.sum, "bitwise the uninterrupted pass's sums");
    assert.ok(!readdirSync(dir).some((f) => f.endsWith(".partial.bin")), "the checkpoint is removed when done");
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a second call hits the cache: no forward pass, same numbers; other corpus or layer misses", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "scalpel-mom2-"));
  try {
    const model = tinyModel();
    let forwards = 0;
    const counted: Model = Object.create(model);
    counted.forward = (tokens, options) => {
      forwards++;
      return model.forward(tokens, options);
    };
    const texts = tinyCorpus(30);
    const opts = { layer: 0, texts, batchSize: 8, store: nodeStatsStore(dir) };
    const a = await collectMom2(counted, opts);
    assert.equal(forwards, 4);
    const b = await collectMom2(counted, opts);
    assert.equal(forwards, 4, "served from the cache");
    assert.deepEqual(b.sum, a.sum);
    await collectMom2(counted, { ...opts, texts: corpusSample(texts, 20) });
    assert.equal(forwards, 7, "a different sample is a different key");
    await collectMom2(counted, { ...opts, layer: 1 });
    assert.equal(forwards, 11, "a different layer is a different key");
    assert.ok(!existsSync(path.join(dir, "nothing")));
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
