/**
 * Deterministic random parameters for tests and benchmarks: weights ~ normal(0, std) (HF's
 * _init_weights uses normal(0, initializer_range = 0.02)), norm weights 1 (0 for Gemma's (1 + w)
 * norms, which is the same function), biases 0. Options add noise to norms and biases so tests
 * exercise every parameter. Drawn in JS (mulberry32 + Box–Muller) so the same seed gives the same
 * numbers on every backend.
 */
import { numpy as np } from "@jax-js/jax";
import { paramSpecs } from "./param-shapes.js";
import type { ModelConfig, Params } from "./types.js";

export interface RandomParamsOptions {
  /** Standard deviation of weight matrices and embeddings (default 0.02). */
  std?: number;
  /** Standard deviation of biases (default 0: HF init). */
  biasStd?: number;
  /** Standard deviation of norm weights around their neutral value (default 0). */
  normStd?: number;
}

/** Fill `out` with normal(mean, sd) draws from the mulberry32 stream `state` (updated in place). */
function fillNormal(out: Float32Array, mean: number, sd: number, state: { s: number }): void {
  let s = state.s;
  const n = out.length;
  for (let i = 0; i < n; i += 2) {
    // Two uniforms from mulberry32, inlined: this loop draws ~10⁸ numbers for GPT-2 small.
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u1 = 1 - ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    s = (s + 0x6d2b79f5) | 0;
    t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u2 = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    const r = sd * Math.sqrt(-2 * Math.log(u1));
    const th = 2 * Math.PI * u2;
    out[i] = mean + r * Math.cos(th);
    if (i + 1 < n) out[i + 1] = mean + r * Math.sin(th);
  }
  state.s = s;
}

export function randomParams(config: ModelConfig, seed: number, options: RandomParamsOptions = {}): Params {
  const std = options.std ?? 0.02;
  const biasStd = options.biasStd ?? 0;
  const normStd = options.normStd ?? 0;
  const state = { s: seed | 0 || 0x9e3779b9 };
  const params: Params = {};
  for (const spec of paramSpecs(config)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const centre = spec.kind === "norm" && config.norm !== "gemma_rmsnorm" ? 1 : 0;
    const sd = spec.kind === "weight" ? std : spec.kind === "bias" ? biasStd : normStd;
    if (sd) fillNormal(data, centre, sd, state);
    else data.fill(centre);
    params[spec.name] = np.array(data).reshape(spec.shape);
  }
  return params;
}
