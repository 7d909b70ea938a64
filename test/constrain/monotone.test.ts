/**
 * Monotone constraints (constrain/monotone.ts): the "apply monotonicity" mapping, projection and
 * reparameterised training keep every constrained weight ≥ 0; softplus⁻¹ inverts softplus; a
 * pattern that names nothing is refused; a resume under another constraint is refused.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { numpy as np } from "@jax-js/jax";
import {
  applyMonotonicity, constrainedNames, monotoneConstraint, negativeFractions, paramOf, trainingConstraint, weightOf,
} from "../../src/constrain/index.js";
import { ConfigError } from "../../src/errors.js";
import { initEngine } from "../../src/tensor/engine.js";
import { readF32 } from "../../src/tensor/own.js";
import { train } from "../../src/train/loop.js";
import { tinyDocs, tinyModel } from "../train/fixture.js";

await initEngine();

const CONFIG = { lr: 2e-2, warmupSteps: 2, totalSteps: 6, seqLen: 16, batchSize: 4, seed: 3 };

test("default patterns cover every MLP matrix; a pattern naming nothing is a ConfigError", () => {
  const m = tinyModel();
  assert.deepEqual(constrainedNames(m, monotoneConstraint()), ["blocks.0.mlp.W_gate", "blocks.0.mlp.W_in", "blocks.0.mlp.W_out", "blocks.1.mlp.W_gate", "blocks.1.mlp.W_in", "blocks.1.mlp.W_out"]);
  assert.throws(() => constrainedNames(m, monotoneConstraint({ params: ["blocks.*.mlp.W_up"] })), (e: unknown) => e instanceof ConfigError && /matches no parameter/.test(e.message));
});

test("apply monotonicity: abs keeps magnitudes, clamp keeps the positive part; other weights untouched", async () => {
  const m = tinyModel();
  const w = await readF32(m.params["blocks.0.mlp.W_in"]!.ref);
  assert.ok(Object.values(await negativeFractions(m, monotoneConstraint())).every((f) => f > 0.3), "random weights are about half negative");
  const abs = applyMonotonicity(m, monotoneConstraint({ init: "abs" }));
  const clamp = applyMonotonicity(m, monotoneConstraint({ init: "clamp" }));
  assert.deepEqual(await readF32(abs.params["blocks.0.mlp.W_in"]!.ref), w.map(Math.abs));
  assert.deepEqual(await readF32(clamp.params["blocks.0.mlp.W_in"]!.ref), w.map((x) => Math.max(x, 0)));
  assert.deepEqual(await readF32(abs.params["blocks.0.attn.W_Q"]!.ref), await readF32(m.params["blocks.0.attn.W_Q"]!.ref));
  for (const f of Object.values(await negativeFractions(abs, monotoneConstraint()))) assert.equal(f, 0);
});

test("softplus and exp reparameterisations invert (W = f(f⁻¹(W)) for W > 0)", async () => {
  const w = [1e-3, 0.05, 0.7, 3, 25];
  for (const method of ["softplus", "exp"] as const) {
    const back = await readF32(weightOf(paramOf(np.array(w), method), method));
    // 5e-5: jax-js's vectorised exp/log1p kernels are accurate to about 2e-5 relative (a single
    // element gives 0.70000 where five give 0.69999 for softplus(softplus⁻¹(0.7))).
    back.forEach((x, i) => assert.ok(Math.abs(x - w[i]!) <= 5e-5 * Math.max(1, w[i]!), `${method}(${w[i]}) → ${x}`));
  }
  // softplus itself: log(1 + e^v).
  const sp = await readF32(weightOf(np.array([-30, -1, 0, 2, 40]), "softplus"));
  [-30, -1, 0, 2, 40].forEach((v, i) => assert.ok(Math.abs(sp[i]! - Math.log1p(Math.exp(v))) <= 1e-6 * Math.max(1, v)));
});

test("projected and softplus training keep every constrained weight ≥ 0 and lower the loss", async () => {
  for (const method of ["project", "softplus"] as const) {
    const c = monotoneConstraint({ method });
    const start = applyMonotonicity(tinyModel(), c);
    const r = await train({ model: start, documents: tinyDocs(), config: CONFIG, constraint: trainingConstraint(start, c) });
    for (const [n, f] of Object.entries(await negativeFractions(r.model, c))) assert.equal(f, 0, `${method}: ${n}`);
    assert.ok(r.losses.at(-1)!.loss < r.losses[0]!.loss, `${method}: loss ${r.losses[0]!.loss} → ${r.losses.at(-1)!.loss}`);
  }
  // Without the constraint the same run leaves negative weights (the projection is what keeps them out).
  const c = monotoneConstraint();
  const start = applyMonotonicity(tinyModel(), c);
  const free = await train({ model: start, documents: tinyDocs(), config: CONFIG });
  assert.ok(Object.values(await negativeFractions(free.model, c)).some((f) => f > 0));
});

test("a checkpoint trained under one constraint does not resume under another", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "scalpel-constrain-"));
  try {
    const c = monotoneConstraint({ method: "softplus" });
    const start = applyMonotonicity(tinyModel(), c);
    const cfg = { ...CONFIG, checkpointEvery: 3 };
    await train({ model: start, documents: tinyDocs(), config: cfg, checkpointDir: dir, constraint: trainingConstraint(start, c), stopAtStep: 3 });
    await assert.rejects(train({ model: start, documents: tinyDocs(), config: cfg, checkpointDir: dir, resume: true, constraint: trainingConstraint(start, monotoneConstraint()) }), /constraint/);
    const resumed = await train({ model: start, documents: tinyDocs(), config: cfg, checkpointDir: dir, resume: true, constraint: trainingConstraint(start, c) });
    const whole = await train({ model: start, documents: tinyDocs(), config: CONFIG, constraint: trainingConstraint(start, c) });
    assert.deepEqual(resumed.losses.map((l) => l.loss), whole.losses.map((l) => l.loss), "the resumed run continues exactly (checkpoints hold V)");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
