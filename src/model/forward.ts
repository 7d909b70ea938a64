/**
 * The shared forward pass of every decoder-only family. It switches on ModelConfig fields only,
 * never on the family name:
 *
 *   x = W_E[tokens] · embedScale (+ W_pos[positions])                 hook_embed, hook_pos_embed
 *   per block l (resid = hook_resid_pre):
 *     sequential (GPT-2, Llama, Gemma-2):
 *       a = attn(ln1(resid)) [→ ln1_post]                                hook_attn_out
 *       mid = resid + a                                                   hook_resid_mid
 *       m = mlp(ln2(mid)) [→ ln2_post]                                    hook_mlp_in = mid, hook_mlp_out
 *       resid = mid + m                                                   hook_resid_post
 *     parallel (GPT-NeoX use_parallel_residual, GPT-J):
 *       resid = resid + attn(ln1(resid)) + mlp(ln2(resid))                hook_mlp_in = resid_pre
 *       (GPT-J: ln2 is ln1's weights, config.sharedBlockNorm)
 *   logits = ln_final(resid) · W_U + b_U [→ tanh soft-cap]
 *
 * Parameters are borrowed (`.ref` on every use), never consumed, so the same function serves
 * Model.forward (the model's own arrays) and Model.apply (caller's arrays, possibly grad tracers).
 */
import { jit, numpy as np, tree } from "@jax-js/jax";
import { activation } from "./activations.js";
import { attention, type FusedQKV } from "./attention.js";
import { paramGetter, validateForward } from "./forward-checks.js";
import { HookRunner } from "./hooks.js";
import { attentionBias, planMask, type MaskPlan } from "./mask.js";
import { mlp } from "./mlp.js";
import { applyNorm } from "./norms.js";
import { rotaryTables } from "./rotary.js";
import type { Arr, ForwardOptions, ForwardResult, KVCache, ModelConfig, Params } from "./types.js";
import { borrowUnembed, prepareUnembed, unembed, type Unembed } from "./unembed.js";
import { embedFromBlocks, splitNames, splitVocabError, vocabBlockRows } from "./vocab-split.js";

/**
 * Weights derived once from a model's own parameters (Model caches them; see model.ts), borrowed
 * by every pass whose parameters they were derived from. Absent pieces are computed on the fly
 * (the unembedding) or skipped (the fused QKV projection: three matmuls instead).
 */
export interface Prepared {
  /** The padded unembedding (unembed.ts), in column blocks where the vocabulary is split (vocab-split.ts). */
  unembed?: Unembed;
  /** W_E's row blocks, only where the vocabulary is split (vocab-split.ts). */
  embed?: Arr[];
  /** Per layer, W_Q | W_K | W_V side by side ([d_model, (n_heads + 2·n_kv_heads)·d_head]), biases likewise. */
  qkv?: (FusedQKV | undefined)[];
}

export interface ForwardInternals {
  /** Derived weights of these same params (borrowed). */
  prepared?: Prepared;
  /** Run unhooked, uncached, cache-less passes through this compiled core (see jitCore). */
  jitted?: JittedCore;
  /**
   * How many leading blocks (with the embeddings) use only the model's own parameters, and the
   * compiled prefix for k such blocks (see jitPrefix); eager passes start with it when they can.
   */
  ownLayers?: number;
  prefix?: (k: number) => JittedPrefix;
}

/** The array inputs of one pass, all computed in JS from tokens, mask and cache length. */
export interface CoreInputs {
  ids: Arr;
  pos?: Arr;
  fullBias?: Arr;
  windowBias?: Arr;
  cos?: Arr;
  sin?: Arr;
  /** [1, 1, capacity, len]: one-hot placement of this call's keys/values in a cache with room. */
  place?: Arr;
  /** [batch, P, len]: one-hot choice of the positions that get logits (logitsPositions as lists). */
  pick?: Arr;
}

type KVLayers = { k: Arr; v: Arr }[];

/** The options a compiled core is specialised for (each combination is its own jit program). */
export interface CoreShape {
  paddedLogits: boolean;
  lastOnly: boolean;
}

export type JittedCore = ((params: Params, inputs: CoreInputs, prepared: Prepared, kv?: KVLayers) => { logits: Arr; kv?: KVLayers }) & {
  dispose(): void;
};

/** `capacity`: the key length of a cache with room (KVCache.padTo), else past + len. */
function coreInputs(config: ModelConfig, tokens: number[][], plan: MaskPlan, capacity?: number): CoreInputs {
  const { batch, len } = plan;
  const inputs: CoreInputs = { ids: np.array(Int32Array.from(tokens.flat()), { dtype: np.int32 }).reshape([batch, len]) };
  if (config.positional === "learned") {
    inputs.pos = np.array(Int32Array.from(plan.positionIds.flat()), { dtype: np.int32 }).reshape([batch, len]);
  } else {
    const { cos, sin } = rotaryTables(config, plan.positionIds);
    inputs.cos = cos;
    inputs.sin = sin;
  }
  if (config.slidingWindow === undefined || !allSliding(config)) inputs.fullBias = attentionBias(plan, undefined, capacity);
  if (config.slidingWindow !== undefined) inputs.windowBias = attentionBias(plan, config.slidingWindow, capacity);
  if (capacity !== undefined) {
    const place = new Float32Array(capacity * len);
    for (let t = 0; t < len; t++) place[(plan.past + t) * len + t] = 1;
    inputs.place = np.array(place).reshape([1, 1, capacity, len]);
  }
  return inputs;
}

/** [batch, P, len] one-hot rows selecting each row's listed positions (a matmul, so gradients flow as through any other). */
function pickMatrix(positions: number[][], len: number): Arr {
  const P = positions[0]!.length;
  const pick = new Float32Array(positions.length * P * len);
  positions.forEach((row, b) => row.forEach((t, p) => (pick[(b * P + p) * len + t] = 1)));
  return np.array(pick).reshape([positions.length, P, len]);
}

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** Zero-pad the position axis of cached keys/values to `capacity` (consumes `layers`). */
function padKV(layers: KVLayers, capacity: number): KVLayers {
  return layers.map(({ k, v }) => {
    const [b, h, n, d] = k.shape as [number, number, number, number];
    if (n >= capacity) return { k, v };
    return { k: np.concatenate([k, np.zeros([b, h, capacity - n, d])], 2), v: np.concatenate([v, np.zeros([b, h, capacity - n, d])], 2) };
  });
}

/** Each row's last real token: the last 1 of its attention-mask row (len − 1 with no mask). */
function lastRealPositions(batch: number, len: number, mask?: number[][]): number[] {
  return Array.from({ length: batch }, (_, b) => {
    const row = mask?.[b];
    if (!row) return len - 1;
    const last = row.lastIndexOf(1);
    return last < 0 ? len - 1 : last;
  });
}

export function forward(
  config: ModelConfig,
  params: Params,
  tokens: number[][],
  options: ForwardOptions = {},
  internals: ForwardInternals = {},
): ForwardResult {
  validateForward(config, tokens, options);
  const batch = tokens.length;
  const len = tokens[0]!.length;
  let kvIn = options.kv;
  const past = kvIn?.length ?? 0;
  const padTo = options.kvPadTo ?? kvIn?.padTo;
  // A cache with room: make sure this call's positions fit (grow by padTo), then write into it.
  let capacity: number | undefined;
  if (kvIn && padTo !== undefined) {
    capacity = Math.max(kvIn.layers[0]!.k.shape[2]!, roundUp(past + len, padTo));
    kvIn = { ...kvIn, layers: padKV(kvIn.layers, capacity) };
  }
  const plan: MaskPlan = planMask(batch, len, past, kvIn?.mask, options.attentionMask);
  const inputs = coreInputs(config, tokens, plan, capacity);
  if (Array.isArray(options.logitsPositions)) inputs.pick = pickMatrix(options.logitsPositions, len);
  const noHooks = !options.hooks || Object.keys(options.hooks).length === 0;
  const noCache = !options.cache || (Array.isArray(options.cache) && options.cache.length === 0);
  const unhooked = noHooks && noCache && options.stopAt === undefined;
  const plain = unhooked && !kvIn && !options.returnKV && !options.startFrom;
  const shape = coreShape(options);
  const keyMask = () => plan.keyMask.map((r) => r.slice());
  // A split vocabulary matrix stays out of compiled calls: the blocks stand in for it, and it may live on the host.
  const split = splitNames(config);
  if (internals.jitted && internals.prepared?.unembed && (plain || (unhooked && capacity !== undefined))) {
    const out = internals.jitted(borrowParams(params, split), inputs, borrowPrepared(internals.prepared), kvIn?.layers);
    const result: ForwardResult = { logits: out.logits, cache: {} };
    if (out.kv) result.kv = { layers: out.kv, length: past + len, mask: keyMask(), padTo: padTo! };
    return result;
  }
  const positions = Array.from({ length: len }, (_, t) => past + t);
  const hooks = new HookRunner(options.hooks, options.cache, options.stopAt, positions, options.promptLength, options.queryPositions ?? lastRealPositions(batch, len, options.attentionMask));
  const range: CoreRange = options.startFrom ? { from: options.startFrom } : {};
  // A pass resumed at a later block reads a cache of blocks from there on, and returns none.
  const wantKV = options.returnKV === true || (kvIn !== undefined && !range.from);
  const k = Math.min(internals.ownLayers ?? 0, firstHookedLayer(config, options), config.nLayers - 1);
  if (!range.from && k > 0 && internals.prefix && internals.prepared && !kvIn && !wantKV) {
    // Only the prefix's own parameters go in: a grad tracer passed to a compiled function would
    // make jax-js differentiate through it (measured ~4× slower than eager).
    const own: Params = {};
    for (const [name, a] of Object.entries(params)) {
      const m = /^blocks\.(\d+)\./.exec(name);
      if (split.has(name)) continue;
      if (m ? Number(m[1]) < k : name.startsWith("embed.") || name.startsWith("pos_embed.")) own[name] = a.ref;
    }
    const { qkv, embed } = internals.prepared;
    const prefixPrep: Prepared = qkv ? { qkv: qkv.slice(0, k).map((f) => f && { W: f.W.ref, ...(f.b ? { b: f.b.ref } : {}) }) } : {};
    if (embed) prefixPrep.embed = embed.map((b) => b.ref);
    range.from = { layer: k, resid: internals.prefix(k)(own, coreInputs(config, tokens, plan), prefixPrep) };
  }
  const out = core(config, params, inputs, hooks, kvIn, wantKV, internals.prepared ?? {}, shape, range);
  const result: ForwardResult = { cache: hooks.cache };
  if (out.logits) result.logits = out.logits;
  if (wantKV && out.kv) {
    result.kv = { layers: out.kv, length: past + len, mask: keyMask() };
    if (padTo !== undefined) {
      // A new cache gets its room here; one that had room was written in place by core.
      if (capacity === undefined) result.kv.layers = padKV(out.kv, roundUp(past + len, padTo));
      result.kv.padTo = padTo;
    }
  }
  return result;
}

function borrowParams(params: Params, skip: ReadonlySet<string>): Params {
  const p: Params = {};
  for (const [k, v] of Object.entries(params)) if (!skip.has(k)) p[k] = v.ref;
  return p;
}

export function coreShape(options: ForwardOptions): CoreShape {
  return { paddedLogits: options.paddedLogits === true, lastOnly: options.logitsPositions === "last" };
}

/** New references to every array of `p` (jit-compiled functions consume their arguments). */
function borrowPrepared(p: Prepared): Prepared {
  const out: Prepared = {};
  if (p.unembed) out.unembed = borrowUnembed(p.unembed);
  if (p.embed) out.embed = p.embed.map((b) => b.ref);
  if (p.qkv) out.qkv = p.qkv.map((f) => f && { W: f.W.ref, ...(f.b ? { b: f.b.ref } : {}) });
  return out;
}

/**
 * A compiled (jax-js `jit`) unhooked forward for one config: jit fuses elementwise chains and
 * records the kernel graph, about 2× faster than eager on the Wasm backend (ENGINE-NOTES.md), and
 * 4–5× for a single-token step, which eagerly is overhead-bound (~270 → ~60 ms for GPT-2 small). It
 * retraces once per new input shape (batch × length, × cache capacity), so it serves repeated plain
 * forwards and decoding steps on a cache with room (KVCache.padTo), whose shapes repeat. Consumes
 * its arguments, as jit-compiled functions do.
 */
export function jitCore(config: ModelConfig, shape: CoreShape): JittedCore {
  const f = jit((params: Params, inputs: CoreInputs, prepared: Prepared, kv?: KVLayers): { logits: Arr; kv?: KVLayers } => {
    const hooks = new HookRunner(undefined, undefined, undefined, []);
    const kvIn = kv && { layers: kv, length: 0, mask: [] };
    const out = core(config, params, inputs, hooks, kvIn, kv !== undefined, prepared, shape);
    tree.dispose(params);
    tree.dispose(prepared as never);
    return out.kv ? { logits: out.logits!, kv: out.kv } : { logits: out.logits! };
  });
  const run = (params: Params, inputs: CoreInputs, prepared: Prepared, kv?: KVLayers) =>
    (kv ? f(params, inputs as never, prepared as never, kv as never) : f(params, inputs as never, prepared as never)) as { logits: Arr; kv?: KVLayers };
  return Object.assign(run, { dispose: () => f.dispose() });
}

/**
 * Part of the pass: `from` starts at block `layer` with its residual stream (consumed; no
 * embedding), `until` stops before block `until` and returns the residual stream instead of logits.
 */
interface CoreRange {
  from?: { layer: number; resid: Arr };
  until?: number;
}

/** hook_resid_pre of block k from the model's own parameters, compiled (see prefixLayers). */
export type JittedPrefix = ((params: Params, inputs: CoreInputs, prepared: Prepared) => Arr) & { dispose(): void };

/**
 * Blocks 0…k−1 compiled. An eager pass whose first k blocks neither are hooked nor take traced
 * parameters (apply() under `grad` w.r.t. a later block's weight; a hook on a late layer) runs
 * them through this and the rest eagerly: the compiled blocks took ~36 ms each vs ~60 ms eagerly
 * for GPT-2 small at T = 64. `params` must hold only the prefix's parameters (see forward).
 */
export function jitPrefix(config: ModelConfig, k: number): JittedPrefix {
  const f = jit((params: Params, inputs: CoreInputs, prepared: Prepared): Arr => {
    const hooks = new HookRunner(undefined, undefined, undefined, []);
    const out = core(config, params, inputs, hooks, undefined, false, prepared, { paddedLogits: false, lastOnly: false }, { until: k });
    tree.dispose(params);
    tree.dispose(prepared as never);
    return out.resid!;
  });
  const run = (params: Params, inputs: CoreInputs, prepared: Prepared) => f(params, inputs as never, prepared as never) as Arr;
  return Object.assign(run, { dispose: () => f.dispose() });
}

/** The first block a hook, cache request or stopAt of `options` touches (nLayers if none). */
function firstHookedLayer(config: ModelConfig, options: ForwardOptions): number {
  if (typeof options.cache === "function") return 0;
  const names = [...Object.keys(options.hooks ?? {}), ...((options.cache as string[] | undefined) ?? []), ...(options.stopAt ? [options.stopAt] : [])];
  let k = config.nLayers;
  for (const n of names) {
    const m = /^blocks\.(\d+)\./.exec(n);
    k = Math.min(k, m ? Number(m[1]) : n.startsWith("ln_final.") ? config.nLayers : 0);
  }
  return k;
}

/**
 * The pass itself. Borrows `params` and `prepared`; consumes `inputs` and `kvIn`. Returns logits
 * unless `stopAt` ended the pass, and this call's keys/values when `wantKV` (and the pass completed).
 */
function core(
  config: ModelConfig,
  params: Params,
  inputs: CoreInputs,
  hooks: HookRunner,
  kvIn: KVCache | undefined,
  wantKV: boolean,
  prepared: Prepared,
  shape: CoreShape,
  range: CoreRange = {},
): { logits?: Arr; kv?: { k: Arr; v: Arr }[]; resid?: Arr } {
  const { get, opt } = paramGetter(params);
  const act = activation(config.act);

  // Embeddings (or the residual stream handed over by a compiled prefix).
  let x: Arr;
  if (range.from) {
    x = range.from.resid;
    inputs.ids.dispose();
    inputs.pos?.dispose();
  } else {
    if (prepared.embed) x = embedFromBlocks(prepared.embed, inputs.ids);
    else {
      refuseSplit(config, "embed.W_E");
      x = np.take(get("embed.W_E"), inputs.ids, 0);
    }
    if (config.embedScale !== undefined) x = x.mul(Math.fround(config.embedScale));
    x = hooks.point("hook_embed", x);
    if (inputs.pos) x = x.add(hooks.point("hook_pos_embed", np.take(get("pos_embed.W_pos"), inputs.pos, 0)));
  }
  const until = range.until ?? config.nLayers;
  const rotary = inputs.cos && inputs.sin ? { cos: inputs.cos, sin: inputs.sin } : undefined;
  const { fullBias, windowBias } = inputs;

  const kvOut: { k: Arr; v: Arr }[] = [];
  // kvIn.layers[0] is the first block this pass runs (block 0, or startFrom's with a cache).
  const first = range.from?.layer ?? 0;
  /** kvIn's blocks whose attention has run (and so consumed them). */
  let attended = 0;
  const norm = (prefix: string, h: Arr) => applyNorm(config, h, get(prefix + ".w"), opt(prefix + ".b"));

  for (let l = range.from?.layer ?? 0; l < until && !hooks.stopped; l++) {
    const b = `blocks.${l}.`;
    const sliding = config.slidingWindow !== undefined && (config.slidingWindowLayers?.[l] ?? true);
    const bias = (sliding ? windowBias : fullBias)!.ref;
    x = hooks.point(b + "hook_resid_pre", x, l);
    const n1 = hooks.point(b + "ln1.hook_normalized", norm(b + "ln1", x.ref), l);
    const attn = attention(
      config,
      n1,
      {
        ...qkvWeights(prepared.qkv?.[l], get, opt, b),
        W_O: get(b + "attn.W_O"), b_O: opt(b + "attn.b_O"),
      },
      { bias, rotary: rotary && { cos: rotary.cos.ref, sin: rotary.sin.ref }, past: kvIn?.layers[l - first], ...(inputs.place ? { place: inputs.place.ref } : {}) },
      hooks,
      l,
    );
    attended = l + 1 - first;
    if (wantKV) kvOut.push({ k: attn.k, v: attn.v });
    else {
      attn.k.dispose();
      attn.v.dispose();
    }
    let a = attn.out;
    if (config.postNorms) a = applyNorm(config, a, get(b + "ln1_post.w"), undefined);
    a = hooks.point(b + "hook_attn_out", a, l);

    let mlpIn: Arr;
    if (config.parallelResidual) {
      mlpIn = hooks.point(b + "hook_mlp_in", x.ref, l);
      x = x.add(a);
    } else {
      x = hooks.point(b + "hook_resid_mid", x.add(a), l);
      mlpIn = hooks.point(b + "hook_mlp_in", x.ref, l);
    }
    const n2 = hooks.point(b + "ln2.hook_normalized", norm(config.sharedBlockNorm ? b + "ln1" : b + "ln2", mlpIn), l);
    let m = mlp(
      n2,
      {
        W_in: get(b + "mlp.W_in"), b_in: opt(b + "mlp.b_in"),
        W_gate: config.gatedMlp ? get(b + "mlp.W_gate") : undefined, b_gate: opt(b + "mlp.b_gate"),
        W_out: get(b + "mlp.W_out"), b_out: opt(b + "mlp.b_out"),
      },
      act,
      hooks,
      l,
    );
    if (config.postNorms) m = applyNorm(config, m, get(b + "ln2_post.w"), undefined);
    m = hooks.point(b + "hook_mlp_out", m, l);
    x = hooks.point(b + "hook_resid_post", x.add(m), l);
  }
  rotary?.cos.dispose();
  rotary?.sin.dispose();
  fullBias?.dispose();
  windowBias?.dispose();
  inputs.place?.dispose();
  if (range.until !== undefined) return { resid: x };

  if (!hooks.stopped) x = hooks.point("ln_final.hook_normalized", norm("ln_final", x));
  if (hooks.stopped) {
    // Ended early: no logits, and an incomplete cache is no cache.
    x.dispose();
    inputs.pick?.dispose();
    for (const kv of kvOut) {
      kv.k.dispose();
      kv.v.dispose();
    }
    if (kvIn) for (let l = attended; l < kvIn.layers.length; l++) tree.dispose(kvIn.layers[l]);
    return {};
  }
  // The unembedding is the costly part: [batch, 1 or P, d_model] when only some positions get logits.
  if (inputs.pick) x = np.matmul(inputs.pick, x);
  else if (shape.lastOnly && x.shape[1]! > 1) x = x.slice([], [-1]);
  const pu = prepared.unembed;
  if (!pu) refuseSplit(config, config.tiedEmbeddings ? "embed.W_E" : "unembed.W_U");
  const u = pu ? borrowUnembed(pu) : prepareUnembed(config, params);
  const logits = unembed(config, x, u, shape.paddedLogits);
  return wantKV ? { logits, kv: kvOut } : { logits };
}

/** Vocabulary matrix `name` is about to be used whole: refuse where the model runs it in blocks (vocab-split.ts). */
function refuseSplit(config: ModelConfig, name: string): void {
  if (vocabBlockRows(config) !== undefined) throw splitVocabError(name);
}

/** The Q/K/V weights of one block: the fused copy when there is one, else the three matrices. */
function qkvWeights(fused: FusedQKV | undefined, get: (n: string) => Arr, opt: (n: string) => Arr | undefined, b: string) {
  if (fused) return { W_QKV: fused.W.ref, ...(fused.b ? { b_QKV: fused.b.ref } : {}) };
  return {
    W_Q: get(b + "attn.W_Q"), b_Q: opt(b + "attn.b_Q"),
    W_K: get(b + "attn.W_K"), b_K: opt(b + "attn.b_K"),
    W_V: get(b + "attn.W_V"), b_V: opt(b + "attn.b_V"),
  };
}

function allSliding(config: ModelConfig): boolean {
  return config.slidingWindowLayers?.every(Boolean) ?? true;
}
