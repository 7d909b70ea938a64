import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np } from "@jax-js/jax";
import { applyRotary, inverseFrequencies, rotaryTables } from "../../src/model/rotary.js";
import { readF32Sync } from "../../src/tensor/own.js";
import type { ModelConfig } from "../../src/model/types.js";
import { maxAbsDiff, tinyConfig } from "./helpers.js";

const base = (over: Partial<ModelConfig> = {}): ModelConfig => ({ ...tinyConfig("llama"), ...over }); // d_head 8, n_ctx 64

function rotate(config: ModelConfig, x: Float32Array, positions: number[]): Float32Array {
  const d = config.dHead;
  const { cos, sin } = rotaryTables(config, [positions]);
  const arr = np.array(x).reshape([1, positions.length, 1, d]);
  return readF32Sync(applyRotary(config, arr, cos, sin));
}

const vec = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 1.3));
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);

for (const interleaved of [false, true]) {
  test(`rotary (${interleaved ? "interleaved" : "half"}): q·k depends only on the position difference; norms are kept`, () => {
    const c = base({ rotaryInterleaved: interleaved, rotaryBase: 100 });
    const q = vec(8, 1);
    const k = vec(8, 2);
    const at = (m: number, n: number) => dot(rotate(c, q, [m]), rotate(c, k, [n]));
    assert.ok(Math.abs(at(5, 2) - at(13, 10)) < 1e-5);
    assert.ok(Math.abs(at(5, 2) - at(6, 2)) > 1e-3, "and does depend on it");
    const r = rotate(c, q, [9]);
    assert.ok(Math.abs(dot(r, r) - dot(q, q)) < 1e-5);
    assert.ok(maxAbsDiff(rotate(c, q, [0]), q) < 1e-7, "position 0 is the identity");
  });
}

test("interleaved rotation = half rotation of the de-interleaved vector (GPT-J vs NeoX layouts)", () => {
  const half = base();
  const inter = base({ rotaryInterleaved: true });
  const x = vec(8, 3);
  const perm = [0, 2, 4, 6, 1, 3, 5, 7]; // x[2i] pairs with x[2i+1] ↔ x[i] pairs with x[i+4]
  const xp = Float32Array.from(perm, (p) => x[p]!);
  const a = rotate(inter, x, [7]);
  const b = rotate(half, xp, [7]);
  assert.ok(maxAbsDiff(Float32Array.from(perm, (p) => a[p]!), b) < 1e-6);
});

test("partial rotary: dims beyond rotaryDim pass through unchanged", () => {
  const c = base({ rotaryDim: 4 });
  const x = vec(8, 4);
  const y = rotate(c, x, [5]);
  assert.deepEqual(Array.from(y.slice(4)), Array.from(x.slice(4)));
  assert.ok(maxAbsDiff(y.slice(0, 4), x.slice(0, 4)) > 1e-3);
});

test("linear scaling: position f·p with factor f rotates like position p without scaling", () => {
  const lin = base({ ropeScaling: { rope_type: "linear", factor: 4 } });
  const x = vec(8, 5);
  assert.ok(maxAbsDiff(rotate(lin, x, [12]), rotate(base(), x, [3])) < 1e-6);
});

test("dynamic NTK scaling: unchanged within max_position_embeddings, rescaled base beyond", () => {
  const c = base({ nCtx: 16, ropeScaling: { type: "dynamic", factor: 2 } });
  assert.deepEqual(inverseFrequencies(c, 16), inverseFrequencies(base({ nCtx: 16 }), 16));
  const inv = inverseFrequencies(c, 32);
  const dim = c.rotaryDim;
  const newBase = c.rotaryBase * ((2 * 32) / 16 - 1) ** (dim / (dim - 2));
  for (let i = 0; i < dim / 2; i++) assert.ok(Math.abs(inv[i]! - 1 / newBase ** ((2 * i) / dim)) < 1e-7 * (1 + inv[i]!));
});

test("llama3 scaling: short wavelengths kept, long ones divided by factor, the middle interpolated", () => {
  const scaling = { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 };
  const c = base({ dHead: 32, rotaryDim: 32, rotaryBase: 10000, ropeScaling: scaling });
  const plain = inverseFrequencies(base({ dHead: 32, rotaryDim: 32, rotaryBase: 10000 }), 1);
  const scaled = inverseFrequencies(c, 1);
  let seen = { high: 0, low: 0, mid: 0 };
  plain.forEach((f, i) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < 64 / 4) {
      assert.equal(scaled[i], f);
      seen.high++;
    } else if (wavelen > 64) {
      assert.ok(Math.abs(scaled[i]! - f / 8) < 1e-7 * f);
      seen.low++;
    } else {
      assert.ok(scaled[i]! < f && scaled[i]! > f / 8);
      seen.mid++;
    }
  });
  assert.ok(seen.high > 0 && seen.low > 0 && seen.mid > 0, JSON.stringify(seen));
});
