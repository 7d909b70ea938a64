/**
 * The model's forward pass as an ONNX graph, op for op the computation of forward.ts / attention.ts
 * / mlp.ts / norms.ts / rotary.ts (read those for the formulas and their sources), for a native
 * executor (onnxruntime) to run forward-only work. Browser-safe: parameters come in as host arrays.
 *
 * Inputs  ids int64 [B, T]; pos int64 [B, T] (learned positions) or cos, sin [B, T, 1, rd/2]
 *         (rotary tables, computed on the host as forward.ts computes them); bias_full and/or
 *         bias_window [R, 1, T, T] (mask.ts's additive biases, R = B or 1); and one input
 *         `add:<hook>` per intervention, added to that hook point's activation (broadcastable
 *         to it: a steering vector α·v at every position is [d], from the prompt's end [B, T, d]);
 *         and every parameter the graph reads, by its scalpel name (float32, or float16 for a
 *         half checkpoint's matrices), fed on each call from the executor's one host copy.
 * Outputs logits [B, T or 1, V]; `hook:<name>` for every requested hook point.
 *
 * Hooks that are arbitrary functions, and anything that needs gradients, stay on jax-js.
 */
import type { ModelConfig } from "../types.js";
import { GraphBuilder } from "./graph-builder.js";
import type { OnnxGraph } from "./onnx-proto.js";

export interface ExportSpec {
  /** Hook points whose activations become outputs. */
  outputs?: readonly string[];
  /** Hook points that take an additive input. */
  additions?: readonly string[];
  /** Only the last position's logits (generation, next-token views). */
  lastOnly?: boolean;
  /** Stop after this hook point: no logits (covariance statistics, activation caching). */
  stopAt?: string;
  /**
   * KV-cached decoding: inputs past_k.L / past_v.L [B, kv_heads, past, d_head] (after rotary,
   * before the GQA repeat, as attention.ts caches them), outputs present_k.L / present_v.L with
   * this call's keys appended; the biases then cover [R, 1, len, past + len].
   */
  kv?: boolean;
}

/**
 * Host parameters by scalpel's names (model/types.ts): float32 values, or the float16 bits of a
 * half-precision checkpoint's values (`half`), which the graph takes as float16 inputs and casts to
 * float32 where they are used (memory ×0.5; the values are exactly those jax-js holds).
 */
export type HostParams = Record<string, HostParam>;
export type HostParam = { data: Float32Array; shape: number[] } | { half: Uint16Array; shape: number[] };

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

export function exportForward(config: ModelConfig, params: HostParams, spec: ExportSpec = {}): OnnxGraph {
  const g = new GraphBuilder("scalpel-forward");
  const wanted = new Set(spec.outputs ?? []);
  const adds = new Set(spec.additions ?? []);
  const declared = new Set<string>();
  /**
   * A parameter as the session receives it: a graph input named like the parameter (float32, or
   * float16 for a half checkpoint's matrices), declared on first use. Weights are inputs, not initializers, so
   * that every session of a model reads the one host copy the executor feeds (onnx-node.ts) instead
   * of holding its own, and so that ORT cannot constant-fold a half weight's cast back to float32.
   */
  const raw = (name: string) => {
    const t = params[name];
    if (!t) throw new RangeError(`the exported forward needs parameter ${name}`);
    if (!declared.has(name)) g.input(name, "half" in t ? "float16" : "float", t.shape);
    declared.add(name);
    return name;
  };
  /**
   * ORT runs every node whose inputs are ready as early as its order allows, so casts that read only
   * weights would all run first and hold every weight as float32 at once. Each cast therefore waits on
   * the latest hook point's value through a zero-cost Reshape whose shape depends on it: a weight
   * is widened just before it is used and its float32 copy is freed after.
   */
  let anchor: string | undefined;
  const zeros = new Map<string, string>();
  const afterAnchor = (w: string, dims: number[]) => {
    if (!anchor) return w;
    let zero = zeros.get(anchor);
    if (!zero) zeros.set(anchor, (zero = g.mul(g.slice(g.op("Shape", [anchor]), 0, 0, 1), g.ints([0]))));
    return g.op("Reshape", [w, g.add(g.ints(dims), zero)]);
  };
  const asFloat = new Map<string, string>();
  /**
   * A parameter as float32, cast once per graph when stored in half precision (GPT-J's ln1 and a
   * tied W_E are read twice). The cast runs per call; its float32 copy lives while its consumer runs.
   */
  const p = (name: string) => {
    if (!asFloat.has(name)) {
      const r = raw(name);
      asFloat.set(name, "half" in params[name]! ? g.toFloat(afterAnchor(r, params[name]!.shape)) : r);
    }
    return asFloat.get(name)!;
  };
  /** Rows of an embedding table: gathered from the stored table, then cast (not the whole table). */
  const rows = (name: string, ids: string) => {
    const x = g.op("Gather", [raw(name), ids], { axis: { i: 0 } });
    return "half" in params[name]! ? g.toFloat(x) : x;
  };
  const has = (name: string) => params[name] !== undefined;
  /** A hook point: the intervention input is added, then the value is an output if requested. */
  const point = (name: string, x: string): string => {
    if (adds.has(name)) x = g.add(x, g.input(`add:${name}`, "float", inputShape(config, name)));
    if (wanted.has(name)) g.output(x, `hook:${name}`, "float", activationShape(config, name));
    if (spec.stopAt === name) throw STOP;
    anchor = x;
    return x;
  };
  try {
    body(g, config, spec, p, rows, has, point);
  } catch (e) {
    if (e !== STOP) throw e;
  }
  return g.graph;
}

/** Thrown by the stopAt hook point: the graph ends there, with no logits (forward.ts's stopAt). */
const STOP = Symbol("stop");

function body(
  g: GraphBuilder,
  config: ModelConfig,
  spec: ExportSpec,
  p: (name: string) => string,
  rows: (name: string, ids: string) => string,
  has: (name: string) => boolean,
  point: (name: string, x: string) => string,
): void {

  // Embeddings.
  const ids = g.input("ids", "int64", ["batch", "len"]);
  let x = rows("embed.W_E", ids);
  if (config.embedScale !== undefined) x = g.mul(x, g.scalar(config.embedScale));
  x = point("hook_embed", x);
  if (config.positional === "learned") {
    const pos = g.input("pos", "int64", ["batch", "len"]);
    x = g.add(x, point("hook_pos_embed", rows("pos_embed.W_pos", pos)));
  }
  const rotary = config.positional === "rotary" ? { cos: g.input("cos", "float", ["batch", "len", 1, config.rotaryDim / 2]), sin: g.input("sin", "float", ["batch", "len", 1, config.rotaryDim / 2]) } : undefined;
  const sliding = (l: number) => config.slidingWindow !== undefined && (config.slidingWindowLayers?.[l] ?? true);
  const keys = spec.kv ? "keys" : "len";
  const biasFull = Array.from({ length: config.nLayers }, (_, l) => !sliding(l)).some(Boolean) ? g.input("bias_full", "float", ["rows", 1, "len", keys]) : undefined;
  const biasWindow = config.slidingWindow !== undefined ? g.input("bias_window", "float", ["rows", 1, "len", keys]) : undefined;

  const norm = (prefix: string, h: string): string => {
    const eps = config.normEps;
    if (config.norm === "layernorm") return g.op("LayerNormalization", [h, p(prefix + ".w"), p(prefix + ".b")], { axis: { i: -1 }, epsilon: { f: eps } });
    const ms = g.op("ReduceMean", [g.mul(h, h)], { axes: { ints: [-1] }, keepdims: { i: 1 } });
    const y = g.div(h, g.op("Sqrt", [g.add(ms, g.scalar(eps))]));
    // Gemma's weight is an offset from one (rmsNorm's w.add(1), in float32 too).
    return g.mul(y, config.norm === "gemma_rmsnorm" ? g.add(p(prefix + ".w"), g.scalar(1)) : p(prefix + ".w"));
  };
  const act = activation(g, config.act);
  /** h·W (+ b when the model has that bias). */
  const linear = (h: string, W: string, b: string) => {
    const y = g.matmul(h, p(W));
    return has(b) ? g.add(y, p(b)) : y;
  };

  for (let l = 0; l < config.nLayers; l++) {
    const b = `blocks.${l}.`;
    x = point(b + "hook_resid_pre", x);
    const n1 = point(b + "ln1.hook_normalized", norm(b + "ln1", x));
    let a = attention(g, config, n1, l, linear, point, rotary, sliding(l) ? biasWindow! : biasFull!, spec.kv === true);
    if (config.postNorms) a = norm(b + "ln1_post", a);
    a = point(b + "hook_attn_out", a);
    let mlpIn: string;
    if (config.parallelResidual) {
      mlpIn = point(b + "hook_mlp_in", x);
      x = g.add(x, a);
    } else {
      x = point(b + "hook_resid_mid", g.add(x, a));
      mlpIn = point(b + "hook_mlp_in", x);
    }
    const n2 = point(b + "ln2.hook_normalized", norm(config.sharedBlockNorm ? b + "ln1" : b + "ln2", mlpIn));
    let m: string;
    if (config.gatedMlp) {
      const gate = point(b + "mlp.hook_pre", linear(n2, b + "mlp.W_gate", b + "mlp.b_gate"));
      const up = point(b + "mlp.hook_pre_linear", linear(n2, b + "mlp.W_in", b + "mlp.b_in"));
      m = g.mul(act(gate), up);
    } else {
      m = act(point(b + "mlp.hook_pre", linear(n2, b + "mlp.W_in", b + "mlp.b_in")));
    }
    m = linear(point(b + "mlp.hook_post", m), b + "mlp.W_out", b + "mlp.b_out");
    if (config.postNorms) m = norm(b + "ln2_post", m);
    m = point(b + "hook_mlp_out", m);
    x = point(b + "hook_resid_post", g.add(x, m));
  }
  x = point("ln_final.hook_normalized", norm("ln_final", x));
  if (spec.lastOnly) x = g.slice(x, 1, -1, Number.MAX_SAFE_INTEGER);
  let logits = g.matmul(x, config.tiedEmbeddings ? tiedUnembed(g, p) : p("unembed.W_U"));
  if (has("unembed.b_U")) logits = g.add(logits, p("unembed.b_U"));
  if (config.finalLogitSoftcap) logits = softcap(g, logits, config.finalLogitSoftcap);
  g.output(logits, "logits", "float", ["batch", spec.lastOnly ? 1 : "len", config.vocabSize]);
}

function attention(
  g: GraphBuilder,
  config: ModelConfig,
  x: string,
  l: number,
  linear: (h: string, W: string, b: string) => string,
  point: (name: string, x: string) => string,
  rotary: { cos: string; sin: string } | undefined,
  bias: string,
  kv: boolean,
): string {
  const { nHeads, nKVHeads, dHead } = config;
  const b = `blocks.${l}.attn.`;
  const heads = (h: string, n: number) => g.reshape(h, [0, 0, n, dHead]);
  let q = point(b + "hook_q", heads(linear(x, b + "W_Q", b + "b_Q"), nHeads));
  let k = point(b + "hook_k", heads(linear(x, b + "W_K", b + "b_K"), nKVHeads));
  const v = point(b + "hook_v", heads(linear(x, b + "W_V", b + "b_V"), nKVHeads));
  if (rotary) {
    q = point(b + "hook_rot_q", rotate(g, config, q, rotary));
    k = point(b + "hook_rot_k", rotate(g, config, k, rotary));
  }
  const qh = g.transpose(q, [0, 2, 1, 3]);
  let kh = g.transpose(k, [0, 2, 1, 3]);
  let vh = g.transpose(v, [0, 2, 1, 3]);
  if (kv) {
    const cached = (name: string, now: string) => {
      const all = g.concat([g.input(`past_${name}.${l}`, "float", ["batch", nKVHeads, "past", dHead]), now], 2);
      g.output(all, `present_${name}.${l}`, "float", ["batch", nKVHeads, "keys", dHead]);
      return all;
    };
    kh = cached("k", kh);
    vh = cached("v", vh);
  }
  if (nKVHeads !== nHeads) {
    // repeat_kv: query head h reads KV head ⌊h / rep⌋ → [B, KV, rep, S, dh] → [B, H, S, dh].
    const rep = nHeads / nKVHeads;
    const repeat = (t: string) => g.reshape(g.op("Tile", [g.unsqueeze(t, 2), g.ints([1, 1, rep, 1, 1])]), [0, nHeads, -1, dHead]);
    kh = repeat(kh);
    vh = repeat(vh);
  }
  let scores = g.mul(g.matmul(qh, g.transpose(kh, [0, 1, 3, 2])), g.scalar(1 / Math.sqrt(config.queryPreAttnScalar ?? dHead)));
  if (config.attnLogitSoftcap) scores = softcap(g, scores, config.attnLogitSoftcap);
  scores = point(b + "hook_attn_scores", g.add(scores, bias));
  const pattern = point(b + "hook_pattern", g.op("Softmax", [scores], { axis: { i: -1 } }));
  const z = point(b + "hook_z", g.transpose(g.matmul(pattern, vh), [0, 2, 1, 3]));
  return linear(g.reshape(z, [0, 0, nHeads * dHead]), b + "W_O", `${b}b_O`);
}

/** rotary.ts's applyRotary: pairs (x[i], x[i + rd/2]) or, interleaved, (x[2i], x[2i+1]); dims past rd pass through. */
function rotate(g: GraphBuilder, config: ModelConfig, x: string, t: { cos: string; sin: string }): string {
  const rd = config.rotaryDim;
  const rot = rd === config.dHead ? x : g.slice(x, 3, 0, rd);
  let a: string, b: string;
  if (config.rotaryInterleaved) {
    const pairs = g.reshape(rot, [0, 0, 0, rd / 2, 2]);
    a = g.reshape(g.slice(pairs, 4, 0, 1), [0, 0, 0, rd / 2]);
    b = g.reshape(g.slice(pairs, 4, 1, 2), [0, 0, 0, rd / 2]);
  } else {
    a = g.slice(rot, 3, 0, rd / 2);
    b = g.slice(rot, 3, rd / 2, rd);
  }
  const outA = g.sub(g.mul(a, t.cos), g.mul(b, t.sin));
  const outB = g.add(g.mul(b, t.cos), g.mul(a, t.sin));
  const rotated = config.rotaryInterleaved ? g.reshape(g.concat([g.unsqueeze(outA, 4), g.unsqueeze(outB, 4)], 4), [0, 0, 0, rd]) : g.concat([outA, outB], 3);
  return rd === config.dHead ? rotated : g.concat([rotated, g.slice(x, 3, rd, config.dHead)], 3);
}

/** tanh(x / cap) · cap (Gemma-2's attention and final soft-caps). */
function softcap(g: GraphBuilder, x: string, cap: number): string {
  return g.mul(g.op("Tanh", [g.div(x, g.scalar(cap))]), g.scalar(cap));
}

/** activations.ts's ACT2FN functions as ONNX nodes. */
function activation(g: GraphBuilder, name: string): (x: string) => string {
  const half = (x: string, inner: string) => g.mul(g.mul(x, g.add(inner, g.scalar(1))), g.scalar(0.5));
  switch (name) {
    case "gelu_new":
    case "gelu_pytorch_tanh":
    case "gelu_fast":
      return (x) => half(x, g.op("Tanh", [g.mul(g.add(x, g.mul(g.op("Pow", [x, g.scalar(3)]), g.scalar(0.044715))), g.scalar(SQRT_2_OVER_PI))]));
    case "gelu":
      return (x) => half(x, g.op("Erf", [g.mul(x, g.scalar(Math.SQRT1_2))]));
    case "silu":
    case "swish":
      return (x) => g.mul(x, g.op("Sigmoid", [x]));
    case "relu":
      return (x) => g.op("Relu", [x]);
    default:
      throw new RangeError(`activation ${name} has no ONNX form`);
  }
}

/** Tied embeddings: the unembedding is W_Eᵀ (ORT fuses the transpose into the MatMul: no copy). */
function tiedUnembed(g: GraphBuilder, p: (name: string) => string): string {
  return g.transpose(p("embed.W_E"), [1, 0]);
}

/** The (symbolic) shape of a hook point's activation, as the forward produces it. */
export function activationShape(config: ModelConfig, hook: string): (number | string)[] {
  const { nHeads, nKVHeads, dHead, dMlp, dModel } = config;
  if (/attn\.hook_(q|rot_q|z)$/.test(hook)) return ["batch", "len", nHeads, dHead];
  if (/attn\.hook_(k|v|rot_k)$/.test(hook)) return ["batch", "len", nKVHeads, dHead];
  if (/attn\.hook_(attn_scores|pattern)$/.test(hook)) return ["batch", nHeads, "len", "len"];
  if (/mlp\.hook_(pre|pre_linear|post)$/.test(hook)) return ["batch", "len", dMlp];
  return ["batch", "len", dModel];
}

/** An intervention input broadcasts against the activation: its batch and position axes are free. */
function inputShape(config: ModelConfig, hook: string): (number | string)[] {
  return activationShape(config, hook).map((d, i) => (typeof d === "string" ? `${hook}:${i}` : d));
}
