import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np } from "@jax-js/jax";
import { ConfigError } from "../../src/errors.js";
import { activation } from "../../src/model/activations.js";
import { layerNorm, rmsNorm } from "../../src/model/norms.js";
import { readF32Sync } from "../../src/tensor/own.js";

const at = (name: string, xs: number[]) => Array.from(readF32Sync(activation(name)(np.array(xs))));

test("activations match their transformers definitions at known points", () => {
  // gelu (erf): x·Φ(x); gelu_new / gelu_pytorch_tanh: the tanh approximation.
  const close = (a: number[], b: number[]) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 2e-6, `${v} vs ${b[i]}`));
  close(at("gelu", [1, -1, 3]), [0.8413447460685429, -0.15865525393145707, 2.995950070497892]);
  close(at("gelu_new", [1, -1, 3]), [0.8411919906082768, -0.15880800939172324, 2.9963626886124706]);
  close(at("gelu_pytorch_tanh", [1]), [0.8411919906082768]);
  close(at("silu", [1, -2]), [0.7310585786300049, -0.2384058440442351]);
  close(at("relu", [1, -2]), [1, 0]);
  assert.throws(() => activation("mish"), ConfigError);
});

test("LayerNorm, RMSNorm and Gemma's (1 + w) RMSNorm", () => {
  const x = [1, 2, 3, 6];
  const w = [1, 0.5, 2, -1];
  const b = [0, 1, 0, 1];
  const eps = 1e-5;
  const mean = 3;
  const sd = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / 4 + eps);
  const ln = Array.from(readF32Sync(layerNorm(np.array(x), np.array(w), np.array(b), eps)));
  ln.forEach((v, i) => assert.ok(Math.abs(v - (((x[i]! - mean) / sd) * w[i]! + b[i]!)) < 1e-6));
  const rms = Math.sqrt(x.reduce((s, v) => s + v * v, 0) / 4 + eps);
  const r = Array.from(readF32Sync(rmsNorm(np.array(x), np.array(w), eps)));
  r.forEach((v, i) => assert.ok(Math.abs(v - (x[i]! / rms) * w[i]!) < 1e-6));
  const g = Array.from(readF32Sync(rmsNorm(np.array(x), np.array(w), eps, 1)));
  g.forEach((v, i) => assert.ok(Math.abs(v - (x[i]! / rms) * (1 + w[i]!)) < 1e-6));
});
