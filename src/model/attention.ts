/**
 * Multi-head self-attention with the hook points of TransformerLens:
 *   hook_q [batch, pos, heads, d_head], hook_k / hook_v [batch, pos, kv_heads, d_head] (before
 *   rotary), hook_rot_q / hook_rot_k (after rotary, rotary models only), hook_attn_scores
 *   [batch, heads, q, k] (scaled, soft-capped and masked, before softmax), hook_pattern
 *   [batch, heads, q, k], hook_z [batch, pos, heads, d_head].
 *
 * scores = q·kᵀ / sqrt(queryPreAttnScalar ?? d_head); Gemma-2 then soft-caps:
 * tanh(scores / cap)·cap, before the mask, as Gemma2's eager_attention_forward does. Grouped-query
 * attention shares each KV head among n_rep = n_heads / n_kv_heads query heads (transformers'
 * repeat_kv: query head h reads KV head ⌊h / n_rep⌋), computed by grouping the query heads rather
 * than repeating the keys (see `grouped`). Keys and values are cached after rotary, unrepeated,
 * [batch, kv_heads, positions, d_head], as HF's DynamicCache holds them.
 */
import { lax, numpy as np } from "@jax-js/jax";
import type { HookRunner } from "./hooks.js";
import { recip } from "./recip.js";
import { applyRotary } from "./rotary.js";
import type { Arr, ModelConfig } from "./types.js";

/**
 * W_Q | W_K | W_V concatenated along the output axis (GPT-2's own c_attn layout), and the biases
 * likewise: one [d, (n_heads + 2·n_kv)·d_head] matmul instead of three dispatches. q, k and v are
 * column slices of the one result, so the hook points see the same values. Measured on GPT-2
 * small (Wasm, 2 workers): eagerly the three projections took 7–10 ms vs 6 ms fused at T = 64
 * (1.5–2 vs 0.6 ms at T = 1), and fwd+bwd w.r.t. blocks.6.mlp.W_out went from 2.2–2.5 s to
 * 1.6–2.0 s; compiled (jit) passes showed no difference. The Model keeps the fused copy of its
 * own weights (model.ts), ~7 MB per GPT-2-small block; a traced W_Q/W_K/W_V (under `grad`) takes
 * the three-matmul path, since concatenating per call (3.5 ms) cost what fusing saved.
 */
export interface FusedQKV {
  W: Arr;
  b?: Arr;
}

/** The projections: either W_Q/W_K/W_V (and biases) or the fused W_QKV (and b_QKV). */
export interface AttnWeights {
  W_Q?: Arr;
  b_Q?: Arr;
  W_K?: Arr;
  b_K?: Arr;
  W_V?: Arr;
  b_V?: Arr;
  W_QKV?: Arr;
  b_QKV?: Arr;
  W_O: Arr;
  b_O?: Arr;
}

/** Fuse one block's projections (borrowed; the result is new). Biases: all three or none. */
export function fuseQKV(W_Q: Arr, W_K: Arr, W_V: Arr, b?: [Arr, Arr, Arr]): FusedQKV {
  const W = np.concatenate([W_Q.ref, W_K.ref, W_V.ref], 1);
  return b ? { W, b: np.concatenate(b.map((a) => a.ref), 0) } : { W };
}

export interface AttnInputs {
  /** Additive mask [batch or 1, 1, q, k] (consumed). */
  bias: Arr;
  /** Rotary tables (consumed), rotary models only. */
  rotary?: { cos: Arr; sin: Arr };
  /** Cached keys/values of this layer (consumed). */
  past?: { k: Arr; v: Arr };
  /**
   * With a cache that has room (KVCache.padTo): [1, 1, capacity, len] one-hot placement of this
   * call's keys/values (consumed). The cache holds zeros from its length on, so past + place·new
   * writes them exactly (x + 0 = x) and keeps the cache's shape, where concatenation would not.
   */
  place?: Arr;
}

/**
 * Softmax over the last axis, max-subtracted. Written out because under `grad` jax-js 0.1.25's
 * nn.softmax (like any x / sum(x)) leaks one buffer per call; see recip.ts.
 */
export function softmax(x: Arr): Arr {
  const m = lax.stopGradient(x.ref.max(-1, { keepdims: true }));
  const e = np.exp(x.sub(m));
  return e.ref.mul(recip(e.sum(-1, { keepdims: true })));
}

function project(x: Arr, W: Arr, b: Arr | undefined, heads: number, dHead: number): Arr {
  const [batch, len] = x.shape as [number, number];
  const y = np.matmul(x, W);
  return (b ? y.add(b) : y).reshape([batch, len, heads, dHead]);
}

/**
 * x: normalised input [batch, pos, d_model] (consumed). Returns the output [batch, pos, d_model]
 * before any post-attention norm, and this layer's full keys/values for the cache.
 */
export function attention(
  config: ModelConfig,
  x: Arr,
  w: AttnWeights,
  inputs: AttnInputs,
  hooks: HookRunner,
  layer: number,
): { out: Arr; k: Arr; v: Arr } {
  const { nHeads, nKVHeads, dHead } = config;
  const [batch, len] = x.shape as [number, number];
  const p = `blocks.${layer}.attn.`;
  let q0: Arr, k0: Arr, v1: Arr;
  if (w.W_QKV) {
    const nq = nHeads * dHead;
    const nk = nKVHeads * dHead;
    let y = np.matmul(x, w.W_QKV);
    if (w.b_QKV) y = y.add(w.b_QKV);
    q0 = y.ref.slice([], [], [0, nq]).reshape([batch, len, nHeads, dHead]);
    k0 = y.ref.slice([], [], [nq, nq + nk]).reshape([batch, len, nKVHeads, dHead]);
    v1 = y.slice([], [], [nq + nk, nq + 2 * nk]).reshape([batch, len, nKVHeads, dHead]);
  } else {
    q0 = project(x.ref, w.W_Q!, w.b_Q, nHeads, dHead);
    k0 = project(x.ref, w.W_K!, w.b_K, nKVHeads, dHead);
    v1 = project(x, w.W_V!, w.b_V, nKVHeads, dHead);
  }
  let q = hooks.point(p + "hook_q", q0, layer);
  let k = hooks.point(p + "hook_k", k0, layer);
  const v0 = hooks.point(p + "hook_v", v1, layer);
  if (inputs.rotary) {
    const { cos, sin } = inputs.rotary;
    q = hooks.point(p + "hook_rot_q", applyRotary(config, q, cos.ref, sin.ref), layer);
    k = hooks.point(p + "hook_rot_k", applyRotary(config, k, cos, sin), layer);
  }
  // [batch, heads, pos, d_head]
  const qh = q.transpose([0, 2, 1, 3]);
  let kh = k.transpose([0, 2, 1, 3]);
  let vh = v0.transpose([0, 2, 1, 3]);
  if (inputs.past && inputs.place) {
    const place = inputs.place;
    // One new position: a broadcast product (elementwise, fused under jit); several: a matmul.
    const put = (a: Arr) => (len === 1 ? place.ref.mul(a) : np.matmul(place.ref, a));
    kh = inputs.past.k.add(put(kh));
    vh = inputs.past.v.add(put(vh));
    place.dispose();
  } else if (inputs.past) {
    kh = np.concatenate([inputs.past.k, kh], 2);
    vh = np.concatenate([inputs.past.v, vh], 2);
  } else inputs.place?.dispose();
  const kCache = kh.ref;
  const vCache = vh.ref;
  let scores = grouped(qh, kh.transpose([0, 1, 3, 2]), nKVHeads).mul(1 / Math.sqrt(config.queryPreAttnScalar ?? dHead));
  if (config.attnLogitSoftcap) {
    const cap = config.attnLogitSoftcap;
    scores = np.tanh(scores.div(cap)).mul(cap);
  }
  scores = hooks.point(p + "hook_attn_scores", scores.add(inputs.bias), layer);
  const pattern = hooks.point(p + "hook_pattern", softmax(scores), layer);
  const z = hooks.point(p + "hook_z", grouped(pattern, vh, nKVHeads).transpose([0, 2, 1, 3]), layer);
  const out = np.matmul(z.reshape([batch, len, nHeads * dHead]), w.W_O);
  return { out: w.b_O ? out.add(w.b_O) : out, k: kCache, v: vCache };
}

/**
 * a · b per head, [batch, heads, m, k] · [batch, kv_heads, k, n] → [batch, heads, m, n], where each
 * group of heads / kv_heads consecutive heads shares one KV head (transformers' repeat_kv order).
 * Why not np.repeat: its broadcast view, read by a matmul, indexes through five dimensions and
 * falls off jax-js's SIMD path (eager scores at the factworld-m training shape: 122 ms against
 * 10 ms here, bench/gqa-attention.ts). Grouping the heads of `a` instead broadcasts `b` along a
 * batch axis of the matmul, which the kernels handle, and needs no copy, so compiled and eager
 * passes still run the same kernels.
 */
function grouped(a: Arr, b: Arr, kvHeads: number): Arr {
  const [batch, heads, m, k] = a.shape as [number, number, number, number];
  if (heads === kvHeads) return np.matmul(a, b);
  const n = b.shape[3]!;
  const g = heads / kvHeads;
  return np.matmul(a.reshape([batch, kvHeads, g, m, k]), b.reshape([batch, kvHeads, 1, k, n])).reshape([batch, heads, m, n]);
}
