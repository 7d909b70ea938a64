/**
 * Rotary position embeddings, computed as transformers computes them.
 *
 * Frequencies (transformers/modeling_rope_utils.py, `_compute_*_parameters`):
 *   default  inv_freq[i] = 1 / base^(2i/dim), dim = rotaryDim, in float32 as torch does
 *   linear   inv_freq / factor
 *   dynamic  (NTK) base' = base·((factor·L/max_pos) − (factor − 1))^(dim/(dim−2)) when the sequence
 *            length L = max(position)+1 exceeds max_position_embeddings, else base. HF keeps the
 *            largest L seen in a module buffer (`dynamic_rope_update`); a pure forward recomputes it
 *            from this call's positions, which is identical during KV-cached decoding (positions
 *            only grow) and for any single full forward.
 *   llama3   per-frequency smoothing between inv_freq/factor (long wavelengths) and inv_freq
 *            (short wavelengths) with low_freq_factor / high_freq_factor / original_max_position_embeddings.
 * attention_factor is 1 for all four, so cos/sin are not rescaled.
 *
 * Rotation (per head, first rotaryDim dims; the rest pass through, GPT-NeoX partial rotary):
 *   half (Llama/NeoX rotate_half): pairs (x[i], x[i + rd/2])
 *   interleaved (GPT-J rotate_every_two): pairs (x[2i], x[2i+1])
 *   out_a = a·cos − b·sin, out_b = b·cos + a·sin
 */
import { numpy as np } from "@jax-js/jax";
import { ConfigError } from "../errors.js";
import type { Arr, ModelConfig } from "./types.js";

const f32 = Math.fround;

export const supportedRopeTypes = ["default", "linear", "dynamic", "llama3"] as const;

function ropeType(scaling: Record<string, unknown> | undefined): string {
  if (!scaling) return "default";
  return String(scaling["rope_type"] ?? scaling["type"] ?? "default");
}

function num(scaling: Record<string, unknown>, key: string, file: string): number {
  const v = scaling[key];
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new ConfigError("BAD_ROPE_SCALING", `rope_scaling.${key} must be a number, got ${JSON.stringify(v)}`, {
      file,
      field: `rope_scaling.${key}`,
      fix: `set rope_scaling.${key} as transformers' modeling_rope_utils.py expects`,
    });
  }
  return v;
}

/** Check rope_scaling at config-parse time so a bad checkpoint fails on load, not mid-forward. */
export function validateRopeScaling(scaling: Record<string, unknown> | undefined, file: string): void {
  const type = ropeType(scaling);
  if (!(supportedRopeTypes as readonly string[]).includes(type)) {
    throw new ConfigError("UNSUPPORTED_ROPE_SCALING", `rope_scaling type '${type}' is not supported (supported: ${supportedRopeTypes.join(", ")})`, {
      file,
      field: "rope_scaling",
      fix: "use a checkpoint with default, linear, dynamic or llama3 rope scaling",
    });
  }
  if (!scaling || type === "default") return;
  num(scaling, "factor", file);
  if (type === "llama3") {
    for (const k of ["low_freq_factor", "high_freq_factor", "original_max_position_embeddings"]) num(scaling, k, file);
  }
}

/** inv_freq (length rotaryDim/2) for this config, given the call's sequence length max(position)+1. */
export function inverseFrequencies(config: ModelConfig, seqLen: number): Float64Array {
  const dim = config.rotaryDim;
  const scaling = config.ropeScaling;
  const type = ropeType(scaling);
  let base = config.rotaryBase;
  if (type === "dynamic" && seqLen > config.nCtx) {
    const factor = num(scaling!, "factor", "config.json");
    base = base * ((factor * seqLen) / config.nCtx - (factor - 1)) ** (dim / (dim - 2));
  }
  const inv = new Float64Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) inv[i] = f32(1 / f32(Math.pow(base, f32((2 * i) / dim))));
  if (type === "linear") {
    const factor = num(scaling!, "factor", "config.json");
    for (let i = 0; i < inv.length; i++) inv[i] = f32(inv[i]! / factor);
  } else if (type === "llama3") {
    const s = scaling!;
    const factor = num(s, "factor", "config.json");
    const low = num(s, "low_freq_factor", "config.json");
    const high = num(s, "high_freq_factor", "config.json");
    const oldCtx = num(s, "original_max_position_embeddings", "config.json");
    const lowWavelen = oldCtx / low;
    const highWavelen = oldCtx / high;
    for (let i = 0; i < inv.length; i++) {
      const f = inv[i]!;
      const wavelen = (2 * Math.PI) / f;
      let g = wavelen > lowWavelen ? f / factor : f;
      if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) {
        const smooth = (oldCtx / wavelen - low) / (high - low);
        g = (1 - smooth) * (g / factor) + smooth * g;
      }
      inv[i] = f32(g);
    }
  }
  return inv;
}

/** cos/sin tables [batch, pos, 1, rotaryDim/2] for position ids [batch][pos]. */
export function rotaryTables(config: ModelConfig, positions: number[][]): { cos: Arr; sin: Arr } {
  const { cos, sin, shape } = rotaryTableData(config, positions);
  return { cos: np.array(cos).reshape(shape), sin: np.array(sin).reshape(shape) };
}

/** rotaryTables on the host: cos and sin values and their shape [batch, pos, 1, rotaryDim/2]. */
export function rotaryTableData(config: ModelConfig, positions: number[][]): { cos: Float32Array; sin: Float32Array; shape: number[] } {
  const batch = positions.length;
  const len = positions[0]?.length ?? 0;
  let maxPos = 0;
  for (const row of positions) for (const p of row) maxPos = Math.max(maxPos, p);
  const inv = inverseFrequencies(config, maxPos + 1);
  const half = inv.length;
  const cos = new Float32Array(batch * len * half);
  const sin = new Float32Array(batch * len * half);
  let o = 0;
  for (const row of positions) {
    for (const p of row) {
      for (let i = 0; i < half; i++, o++) {
        const angle = f32(p * inv[i]!);
        cos[o] = Math.cos(angle);
        sin[o] = Math.sin(angle);
      }
    }
  }
  return { cos, sin, shape: [batch, len, 1, half] };
}

/** Rotate x [batch, pos, heads, d_head] (consumed) with tables from rotaryTables (consumed). */
export function applyRotary(config: ModelConfig, x: Arr, cos: Arr, sin: Arr): Arr {
  const rd = config.rotaryDim;
  const dHead = x.shape[3]!;
  const lead = x.shape.slice(0, 3);
  const rot = rd === dHead ? x.ref : x.ref.slice([], [], [], [0, rd]);
  const pass = rd === dHead ? undefined : x.ref.slice([], [], [], [rd, dHead]);
  x.dispose();
  let a: Arr, b: Arr;
  if (config.rotaryInterleaved) {
    const pairs = rot.reshape([...lead, rd / 2, 2]);
    a = pairs.ref.slice([], [], [], [], 0);
    b = pairs.slice([], [], [], [], 1);
  } else {
    a = rot.ref.slice([], [], [], [0, rd / 2]);
    b = rot.slice([], [], [], [rd / 2, rd]);
  }
  const outA = a.ref.mul(cos.ref).sub(b.ref.mul(sin.ref));
  const outB = b.mul(cos).add(a.mul(sin));
  const rotated = config.rotaryInterleaved
    ? np.stack([outA, outB], -1).reshape([...lead, rd])
    : np.concatenate([outA, outB], -1);
  return pass ? np.concatenate([rotated, pass], -1) : rotated;
}
