import assert from "node:assert/strict";
import { test } from "node:test";
import { train } from "../../src/train/loop.js";
import { trackLiveBuffers } from "../model/live-buffers.js";
import { tinyDocs, tinyModel } from "./fixture.js";

const live = await trackLiveBuffers();

/**
 * The loop must release every gradient, old parameter and old optimizer moment: counted exactly as
 * live jax-js buffers (RSS is too coarse on a shared machine; bench/train-step.ts reports it). The
 * buffer count after a warm-up run equals the count after a 4× longer run, so nothing grows per step.
 */
test("no jax-js buffer survives a training run, whatever its length", async () => {
  const m = tinyModel();
  const run = async (steps: number) => {
    const r = await train({ model: m, documents: tinyDocs(), config: { totalSteps: steps, batchSize: 4, seqLen: 16, warmupSteps: 2, gradAccumSteps: 2, clipNorm: 0.1 } });
    r.model.dispose();
  };
  await run(3); // warm-up: compiled programs and the model's prepared weights
  const before = live();
  await run(5);
  const mid = live();
  await run(20);
  assert.equal(mid - before, 0, `${mid - before} buffers leaked by a 5-step run`);
  assert.equal(live() - before, 0, `${live() - before} buffers leaked by a 20-step run`);
  m.dispose();
});
