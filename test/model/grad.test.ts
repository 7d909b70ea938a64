import assert from "node:assert/strict";
import { test } from "node:test";
import { grad, nn, numpy as np } from "@jax-js/jax";
import { readF32Sync } from "../../src/tensor/own.js";
import type { Arr } from "../../src/model/types.js";
import { tinyModel, tokenRows, type Variant } from "./helpers.js";

/**
 * d loss / d v for a vector v added at blocks.{l}.hook_resid_post, against central finite
 * differences. float32 forward: with h = 1e-2 the truncation error (∝ h²) and the rounding error
 * (∝ ε·|loss|/h ≈ 1e-5) stay below the tolerance of 0.3 % of the gradient's norm (observed
 * errors ~6e-5 on components ~1e-2, norm ~0.2).
 */
for (const variant of ["gpt2", "llama"] as Variant[]) {
  test(`${variant}: gradient through a hook matches central finite differences`, () => {
    const model = tinyModel(variant);
    const c = model.config;
    const tokens = tokenRows(2, 5, c.vocabSize);
    const targets = tokenRows(2, 5, c.vocabSize, 99);
    const onehot = new Float32Array(2 * 5 * c.vocabSize);
    targets.forEach((r, b) => r.forEach((t, p) => (onehot[(b * 5 + p) * c.vocabSize + t] = 1)));
    const target = np.array(onehot).reshape([2, 5, c.vocabSize]);
    const name = "blocks.0.hook_resid_post";
    // Mean next-token cross-entropy of the steered model.
    const loss = (v: Arr): Arr => {
      const { logits } = model.forward(tokens, { hooks: { [name]: (x) => x.add(v) } });
      return nn.logSoftmax(logits!, -1).mul(target.ref).sum().mul(-1 / 10);
    };
    const v0 = Float32Array.from({ length: c.dModel }, (_, i) => 0.1 * Math.cos(i));
    const g = readF32Sync(grad(loss)(np.array(v0)));
    const at = (v: Float32Array) => readF32Sync(loss(np.array(v)))[0]!;
    const h = 1e-2;
    let gNorm = 0;
    for (const x of g) gNorm += x * x;
    gNorm = Math.sqrt(gNorm);
    assert.ok(gNorm > 1e-3, "gradient is not trivially zero");
    for (const i of [0, 3, 7, c.dModel - 1]) {
      const plus = v0.slice();
      plus[i]! += h;
      const minus = v0.slice();
      minus[i]! -= h;
      const fd = (at(plus) - at(minus)) / (2 * h);
      assert.ok(Math.abs(fd - g[i]!) < 0.003 * gNorm, `component ${i}: grad ${g[i]} vs finite difference ${fd}`);
    }
    target.dispose();
    model.dispose();
  });
}

test("gradient w.r.t. a weight through apply() matches finite differences", () => {
  const model = tinyModel("gpt2");
  const tokens = tokenRows(1, 4, model.config.vocabSize);
  const name = "blocks.1.mlp.W_out";
  const others = () => Object.fromEntries(Object.entries(model.params).filter(([k]) => k !== name).map(([k, v]) => [k, v.ref]));
  const loss = (W: Arr): Arr => {
    const { logits } = model.apply({ ...others(), [name]: W }, tokens);
    return np.square(logits!).mean();
  };
  const W0 = model.params[name]!;
  const g = readF32Sync(grad(loss)(W0.ref));
  const base = readF32Sync(W0.ref);
  const h = 1e-2;
  let gMax = 0;
  for (const x of g) gMax = Math.max(gMax, Math.abs(x));
  for (const i of [0, 17, base.length - 1]) {
    const p = base.slice();
    p[i]! += h;
    const m = base.slice();
    m[i]! -= h;
    const f = (d: Float32Array) => readF32Sync(loss(np.array(d).reshape(W0.shape)))[0]!;
    const fd = (f(p) - f(m)) / (2 * h);
    assert.ok(Math.abs(fd - g[i]!) < 0.01 * gMax + 1e-6, `entry ${i}: grad ${g[i]} vs ${fd}`);
  }
  model.dispose();
});

/**
 * apply() reuses the model's derived weights (padded unembedding, fused Q/K/V) only for its own
 * arrays: a traced W_K or W_E must get its gradient through the ordinary path, not a frozen copy.
 * Loss: the mean token log-prob on padded logits (paddedLogits + tokenLogprobs, as bench and
 * scoring use it), checked against finite differences and against the unpadded logits' gradient.
 */
test("gradients w.r.t. W_K and the tied W_E through apply() with padded logits match finite differences", async () => {
  const { tokenLogprobs } = await import("../../src/eval/logprobs.js");
  const model = tinyModel("gpt2");
  const V = model.config.vocabSize;
  const tokens = tokenRows(1, 5, V);
  const targets = tokenRows(1, 5, V, 99);
  model.forward(tokens).logits!.dispose(); // builds the derived weights first
  for (const name of ["blocks.1.attn.W_K", "embed.W_E"]) {
    const others = () => Object.fromEntries(Object.entries(model.params).filter(([k]) => k !== name).map(([k, v]) => [k, v.ref]));
    const lossWith = (paddedLogits: boolean) => (W: Arr): Arr => {
      const { logits } = model.apply({ ...others(), [name]: W }, tokens, { paddedLogits });
      const { logprobs, greedy } = tokenLogprobs(logits!, np.array(targets, { dtype: np.int32 }));
      greedy.dispose();
      return logprobs.mean().neg();
    };
    const W0 = model.params[name]!;
    const g = readF32Sync(grad(lossWith(true))(W0.ref));
    const gPlain = readF32Sync(grad(lossWith(false))(W0.ref));
    let gMax = 0;
    for (const x of g) gMax = Math.max(gMax, Math.abs(x));
    assert.ok(gMax > 1e-4, `${name}: gradient is not trivially zero`);
    for (let i = 0; i < g.length; i++) assert.ok(Math.abs(g[i]! - gPlain[i]!) < 1e-5 * Math.max(1, gMax), `${name} entry ${i}: padded ${g[i]} vs unpadded ${gPlain[i]}`);
    const base = readF32Sync(W0.ref);
    const f = (d: Float32Array) => readF32Sync(lossWith(true)(np.array(d).reshape(W0.shape)))[0]!;
    const h = 1e-2;
    // The largest gradient entry and two fixed ones (for W_E, rows of tokens that occur).
    const big = g.reduce((best, x, i) => (Math.abs(x) > Math.abs(g[best]!) ? i : best), 0);
    for (const i of [big, 5, g.length - 3]) {
      const p = base.slice();
      p[i]! += h;
      const m = base.slice();
      m[i]! -= h;
      const fd = (f(p) - f(m)) / (2 * h);
      assert.ok(Math.abs(fd - g[i]!) < 0.01 * gMax + 1e-6, `${name} entry ${i}: grad ${g[i]} vs ${fd}`);
    }
  }
  model.dispose();
});
