/**
 * HotFlip and universal triggers (attack/): the flip HotFlip chooses is the best first-order swap
 * found by brute force — every (position, token) pair's directional derivative measured by central
 * finite differences of the loss along e_b − e_a, no autodiff — and a trigger search never ends
 * worse than its initial trigger, step by step.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np } from "@jax-js/jax";
import { candidateVocabulary, hotflip, rowLosses, tokenEmbeddings, universalTrigger, withTrigger, attackRecord, summarizeAttack } from "../../src/attack/index.js";
import type { Model } from "../../src/model/types.js";
import { initEngine } from "../../src/tensor/engine.js";
import { readF32 } from "../../src/tensor/own.js";
import { tinyModel } from "../train/fixture.js";

await initEngine();

const BOS = 45;
const ROW = { tokens: [BOS, 3, 17, 8, 22, 5, 9], targetStart: 4 };

/** Mean target NLL of `row` with `delta` [T × d] added to the token embeddings, for many deltas at once (host log-softmax). */
async function lossesWithDeltas(model: Model, tokens: number[], targetStart: number, deltas: Float32Array[]): Promise<number[]> {
  const T = tokens.length;
  const d = model.config.dModel;
  const D = new Float32Array(deltas.length * T * d);
  deltas.forEach((x, r) => D.set(x, r * T * d));
  const { logits, cache } = model.forward(deltas.map(() => tokens), { hooks: { hook_embed: (x) => x.add(np.array(D).reshape([deltas.length, T, d])) } });
  for (const c of Object.values(cache)) c.dispose();
  const V = model.config.vocabSize;
  const L = await readF32(logits!);
  return deltas.map((_, r) => {
    let nll = 0;
    for (let j = targetStart; j < T; j++) {
      const row = L.subarray((r * T + j - 1) * V, (r * T + j) * V);
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0));
      nll -= row[tokens[j]!]! - lse;
    }
    return nll / (T - targetStart);
  });
}

test("HotFlip's flip is the brute-force best first-order swap (finite differences, no autodiff)", async () => {
  const model = tinyModel(5);
  const d = model.config.dModel;
  const E = await tokenEmbeddings(model);
  const allowed = candidateVocabulary(model);
  const eps = 1e-2;
  const pairs: { p: number; b: number }[] = [];
  for (let p = 1; p < ROW.targetStart; p++) for (let b = 0; b < allowed.length; b++) if (allowed[b] && b !== ROW.tokens[p]) pairs.push({ p, b });
  const deltas: Float32Array[] = [];
  for (const { p, b } of pairs) {
    for (const s of [eps, -eps]) {
      const x = new Float32Array(ROW.tokens.length * d);
      const a = ROW.tokens[p]!;
      for (let j = 0; j < d; j++) x[p * d + j] = s * (E[b * d + j]! - E[a * d + j]!);
      deltas.push(x);
    }
  }
  const losses = await lossesWithDeltas(model, ROW.tokens, ROW.targetStart, deltas);
  const fd = pairs.map((_, i) => (losses[2 * i]! - losses[2 * i + 1]!) / (2 * eps));
  const bestFd = Math.max(...fd);

  const r = await hotflip(model, ROW, { budget: 1 });
  assert.equal(r.flips.length, 1);
  const f = r.flips[0]!;
  const i = pairs.findIndex((q) => q.p === f.position && q.b === f.to);
  assert.ok(i >= 0, "the flip is a prompt position and an allowed token");
  // The chosen swap's finite-difference derivative is the largest (up to finite-difference error),
  // and HotFlip's estimate equals it.
  assert.ok(fd[i]! >= bestFd - 1e-3 * Math.max(1, Math.abs(bestFd)), `chosen ${fd[i]} vs best ${bestFd}`);
  assert.ok(Math.abs(f.estimate - fd[i]!) <= 1e-2 * Math.max(1, Math.abs(fd[i]!)), `estimate ${f.estimate} vs finite difference ${fd[i]}`);
  assert.equal(r.tokens[f.position], f.to);
  assert.equal(r.lossBefore, (await rowLosses(model, [ROW]))[0]);
});

test("HotFlip with a beam and a budget: distinct prompt positions, never BOS or the target; loss raised", async () => {
  const model = tinyModel(5);
  const r = await hotflip(model, ROW, { budget: 2, beam: 3, candidates: 4 });
  assert.equal(r.flips.length, 2);
  assert.notEqual(r.flips[0]!.position, r.flips[1]!.position);
  for (const f of r.flips) assert.ok(f.position >= 1 && f.position < ROW.targetStart);
  assert.deepEqual(r.tokens.slice(ROW.targetStart), ROW.tokens.slice(ROW.targetStart));
  assert.equal(r.tokens[0], BOS);
  assert.ok(r.lossAfter > r.lossBefore, `${r.lossBefore} → ${r.lossAfter}`);
  const rec = attackRecord("0", r.lossBefore, r.lossAfter);
  assert.ok(Math.abs(rec.degradation - (Math.exp(r.lossAfter - r.lossBefore) - 1)) < 1e-9);
  assert.equal(summarizeAttack([rec, attackRecord("1", 1, 1)]).successRate, rec.success ? 0.5 : 0);
});

test("a universal trigger's batch loss is never worse than the initial trigger's, at every step", async () => {
  const model = tinyModel(5);
  const rows = [ROW, { tokens: [BOS, 11, 12, 13, 30, 31], targetStart: 4 }, { tokens: [BOS, 40, 2, 7, 7, 19, 20], targetStart: 5 }];
  for (const goal of ["untargeted", "targeted"] as const) {
    const r = await universalTrigger(model, rows, { length: 2, iterations: 4, candidates: 5, goal });
    const sign = goal === "untargeted" ? 1 : -1;
    for (const [i, h] of r.history.entries()) {
      assert.ok(sign * h.loss >= sign * r.lossInitial - 1e-12, `${goal} step ${h.iteration}: ${h.loss} vs initial ${r.lossInitial}`);
      if (i > 0) assert.ok(sign * h.loss >= sign * r.history[i - 1]!.loss - 1e-12, `${goal}: monotone`);
    }
    assert.equal(r.trigger.length, 2);
    // The reported losses are the rows' losses with the trigger inserted after BOS.
    const again = await rowLosses(model, rows.map((x) => withTrigger(x, r.trigger, BOS)));
    assert.deepEqual(again, r.rowsTriggered);
    assert.equal(withTrigger(ROW, r.trigger, BOS).tokens[0], BOS);
  }
});
