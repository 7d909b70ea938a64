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
import { attention } from "./attention.js";
import { paramGetter, validateForward } from "./forward-checks.js";
import { HookRunner } from "./hooks.js";
import { attentionBias, planMask, type MaskPlan } from "./mask.js";
import { mlp } from "./mlp.js";
import { applyNorm } from "./norms.js";
import { rotaryTables } from "./rotary.js";
import type { Arr, ForwardOptions, ForwardResult, KVCache, ModelConfig, Params } from "./types.js";
import { prepareUnembed, unembed, type Unembed } from "./unembed.js";

export interface ForwardInternals {
  /** A padded unembedding prepared from these same params (Model.forward); else padded on the fly. */
  unembed?: Unembed;
  /** Run unhooked, uncached, cache-less passes through this compiled core (see jitCore). */
  jitted?: JittedCore;
}

/** The array inputs of one pass, all computed in JS from tokens, mask and cache length. */
export interface CoreInputs {
  ids: Arr;
  pos?: Arr;
  fullBias?: Arr;
  windowBias?: Arr;
  cos?: Arr;
  sin?: Arr;
}

export type JittedCore = ((params: Params, inputs: CoreInputs, unembed: Unembed) => Arr) & { dispose(): void };

function coreInputs(config: ModelConfig, tokens: number[][], plan: MaskPlan): CoreInputs {
  const { batch, len } = plan;
  const inputs: CoreInputs = { ids: np.array(Int32Array.from(tokens.flat()), { dtype: np.int32 }).reshape([batch, len]) };
  if (config.positional === "learned") {
    inputs.pos = np.array(Int32Array.from(plan.positionIds.flat()), { dtype: np.int32 }).reshape([batch, len]);
  } else {
    const { cos, sin } = rotaryTables(config, plan.positionIds);
    inputs.cos = cos;
    inputs.sin = sin;
  }
  if (config.slidingWindow === undefined || !allSliding(config)) inputs.fullBias = attentionBias(plan);
  if (config.slidingWindow !== undefined) inputs.windowBias = attentionBias(plan, config.slidingWindow);
  return inputs;
}

export function forward(
  config: ModelConfig,
  params: Params,
  tokens: number[][],
  options: ForwardOptions = {},
  internals: ForwardInternals = {},
): ForwardResult {
  try {
    validateForward(config, tokens, options);
  } catch (e) {
    if (internals.unembed) tree.dispose(internals.unembed); // handed over by Model.forward: ours to release
    throw e;
  }
  const batch = tokens.length;
  const len = tokens[0]!.length;
  const kvIn = options.kv;
  const past = kvIn?.length ?? 0;
  const plan: MaskPlan = planMask(batch, len, past, kvIn?.mask, options.attentionMask);
  const inputs = coreInputs(config, tokens, plan);
  const noHooks = !options.hooks || Object.keys(options.hooks).length === 0;
  const noCache = !options.cache || (Array.isArray(options.cache) && options.cache.length === 0);
  const plain = noHooks && noCache && options.stopAt === undefined && !kvIn && !options.returnKV;
  if (plain && internals.jitted && internals.unembed) {
    return { logits: internals.jitted(borrowParams(params), inputs, internals.unembed), cache: {} };
  }
  const positions = Array.from({ length: len }, (_, t) => past + t);
  const hooks = new HookRunner(options.hooks, options.cache, options.stopAt, positions);
  const wantKV = options.returnKV === true || kvIn !== undefined;
  const out = core(config, params, inputs, hooks, kvIn, wantKV, internals.unembed);
  const result: ForwardResult = { cache: hooks.cache };
  if (out.logits) result.logits = out.logits;
  if (wantKV && out.kv) result.kv = { layers: out.kv, length: past + len, mask: plan.keyMask.map((r) => r.slice()) };
  return result;
}

function borrowParams(params: Params): Params {
  const p: Params = {};
  for (const [k, v] of Object.entries(params)) p[k] = v.ref;
  return p;
}

/**
 * A compiled (jax-js `jit`) unhooked forward for one config: jit fuses elementwise chains and
 * records the kernel graph, about 2× faster than eager on the Wasm backend (ENGINE-NOTES.md). It
 * retraces once per new input shape (batch × length), so it serves repeated plain forwards, not
 * token-by-token decoding. Consumes its arguments, as jit-compiled functions do.
 */
export function jitCore(config: ModelConfig): JittedCore {
  const f = jit((params: Params, inputs: CoreInputs, u: Unembed): Arr => {
    const hooks = new HookRunner(undefined, undefined, undefined, []);
    const out = core(config, params, inputs, hooks, undefined, false, u);
    tree.dispose(params);
    return out.logits!;
  });
  const run = (params: Params, inputs: CoreInputs, u: Unembed) => f(params, inputs as never, u as never) as Arr;
  return Object.assign(run, { dispose: () => f.dispose() });
}

/**
 * The pass itself. Borrows `params`; consumes `inputs`, `kvIn` and `u`. Returns logits unless
 * `stopAt` ended the pass, and this call's keys/values when `wantKV` (and the pass completed).
 */
function core(
  config: ModelConfig,
  params: Params,
  inputs: CoreInputs,
  hooks: HookRunner,
  kvIn: KVCache | undefined,
  wantKV: boolean,
  u: Unembed | undefined,
): { logits?: Arr; kv?: { k: Arr; v: Arr }[] } {
  const { get, opt } = paramGetter(params);
  const act = activation(config.act);

  // Embeddings.
  let x = np.take(get("embed.W_E"), inputs.ids, 0);
  if (config.embedScale !== undefined) x = x.mul(Math.fround(config.embedScale));
  x = hooks.point("hook_embed", x);
  if (inputs.pos) x = x.add(hooks.point("hook_pos_embed", np.take(get("pos_embed.W_pos"), inputs.pos, 0)));
  const rotary = inputs.cos && inputs.sin ? { cos: inputs.cos, sin: inputs.sin } : undefined;
  const { fullBias, windowBias } = inputs;

  const kvOut: { k: Arr; v: Arr }[] = [];
  const norm = (prefix: string, h: Arr) => applyNorm(config, h, get(prefix + ".w"), opt(prefix + ".b"));

  for (let l = 0; l < config.nLayers && !hooks.stopped; l++) {
    const b = `blocks.${l}.`;
    const sliding = config.slidingWindow !== undefined && (config.slidingWindowLayers?.(l) ?? true);
    const bias = (sliding ? windowBias : fullBias)!.ref;
    x = hooks.point(b + "hook_resid_pre", x, l);
    const n1 = hooks.point(b + "ln1.hook_normalized", norm(b + "ln1", x.ref), l);
    const attn = attention(
      config,
      n1,
      {
        W_Q: get(b + "attn.W_Q"), b_Q: opt(b + "attn.b_Q"),
        W_K: get(b + "attn.W_K"), b_K: opt(b + "attn.b_K"),
        W_V: get(b + "attn.W_V"), b_V: opt(b + "attn.b_V"),
        W_O: get(b + "attn.W_O"), b_O: opt(b + "attn.b_O"),
      },
      { bias, rotary: rotary && { cos: rotary.cos.ref, sin: rotary.sin.ref }, past: kvIn?.layers[l] },
      hooks,
      l,
    );
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

  if (!hooks.stopped) x = hooks.point("ln_final.hook_normalized", norm("ln_final", x));
  if (hooks.stopped) {
    // Ended early: no logits, and an incomplete cache is no cache.
    x.dispose();
    if (u) tree.dispose(u);
    for (const kv of kvOut) {
      kv.k.dispose();
      kv.v.dispose();
    }
    if (kvIn) for (let l = kvOut.length; l < kvIn.layers.length; l++) tree.dispose(kvIn.layers[l]);
    return {};
  }
  const logits = unembed(config, x, u ?? prepareUnembed(config, params));
  return wantKV ? { logits, kv: kvOut } : { logits };
}

function allSliding(config: ModelConfig): boolean {
  if (!config.slidingWindowLayers) return true;
  for (let l = 0; l < config.nLayers; l++) if (!config.slidingWindowLayers(l)) return false;
  return true;
}
