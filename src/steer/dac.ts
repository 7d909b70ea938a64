/**
 * Dynamic Activation Composition (DAC; Scalena, Sarti & Nissim 2024, "Multi-property Steering of
 * Large Language Models with Dynamic Activation Composition", arXiv 2406.17563; reference code
 * github.com/DanielSc4/Dynamic-Activation-Composition, src/delta.py generate_dynamic_edited_model
 * and …_composition). For each property p with steering vector v_p and maximum strength α_max,p,
 * at every generation step t:
 *
 *   1. P_t   = next-token distribution of the unsteered model;
 *      Q_p,t = next-token distribution when every steered position so far (the last prompt token
 *              and each generated token) gets α_max,p · v_p;
 *   2. keep the tokens in the top-p (p = 0.95) nucleus of P_t or of Q_p,t (union; the reference's
 *      _top_p_filtering keeps tokens until the cumulative probability first exceeds top_p), and
 *      renormalise both distributions over that set S;
 *   3. KL_p,t = KL(P̃_t ‖ Q̃_p,t) as torch F.kl_div(log Q̃, log P̃, reduction="batchmean",
 *      log_target=True) computes it on the 1-D vector: Σ_{s∈S} P̃(s)(log P̃(s) − log Q̃(s)) / |S|;
 *   4. α_p,t = clip(KL_p,t, 0, α_max,p)  ("max(min(kl_item, 2), 0)", α_max = 2 in the paper);
 *   5. the token is chosen from the model steered with α_p,i · v_p at each steered position i ≤ t
 *      (earlier positions keep the α computed at their own step), summed over properties.
 * Steering strength is thus high while the steered and unsteered predictions diverge and falls to
 * zero when the steering would not change the next token's distribution.
 *
 * Decoding is greedy, as in the reference. With the KV cache, three kinds of caches run side by
 * side — unsteered, α_max-steered per property, and DAC-steered — each extended by one token per
 * step, which computes exactly what the reference recomputes from scratch each step (each position's
 * activations depend only on its own α and the positions before it); `useCache: false` recomputes
 * the full sequence per step, and the two agree token for token (tested).
 *
 * Extension beyond the paper: a negative α_max steers away; α = sign(α_max)·min(KL, |α_max|).
 */
import { numpy as np } from "@jax-js/jax";
import { UsageError } from "../errors.js";
import type { Arr, ForwardOptions, Hook, KVCache, Model } from "../model/types.js";
import { disposeTree, readF32 } from "../tensor/own.js";

export interface DacProperty {
  hook: string;
  vector: Float32Array;
  /** Largest strength (the reference uses 2); 0 turns the property off. */
  alphaMax: number;
}

export interface DacOptions {
  maxNewTokens?: number;
  /** Nucleus of the KL truncation (default 0.95, the reference's default). */
  topP?: number;
  useCache?: boolean;
  /** End-of-sequence id(s); default the model's; null never stops. */
  eosTokenId?: number | number[] | null;
  addSpecialTokens?: boolean;
  /** Return the DAC-steered and unsteered next-token logits of each step (for tests). */
  returnLogits?: boolean;
}

export interface DacResult {
  text: string;
  tokens: number[];
  promptTokens: number[];
  /** alphas[t][p]: the strength of property p at step t. */
  alphas: number[][];
  /** kls[t][p]: the truncated KL that gave it. */
  kls: number[][];
  steeredLogits?: Float32Array[];
  baseLogits?: Float32Array[];
}

/** Indices kept by the reference's top-p filter: sorted by probability, up to and including the first whose cumulative probability exceeds p. */
export function topPSet(logits: ArrayLike<number>, topP: number): Set<number> {
  const n = logits.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]!);
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i]!);
  let z = 0;
  for (let i = 0; i < n; i++) z += Math.exp(logits[i]! - max);
  const keep = new Set<number>();
  let cum = 0;
  for (const i of order) {
    keep.add(i);
    cum += Math.exp(logits[i]! - max) / z;
    if (cum > topP) break;
  }
  return keep;
}

/** Step 2–3 above: KL(P̃ ‖ Q̃) over the union of both nuclei, divided by the set's size (torch batchmean on a 1-D input). */
export function truncatedKL(baseLogits: ArrayLike<number>, steerLogits: ArrayLike<number>, topP = 0.95): number {
  const set = [...new Set([...topPSet(baseLogits, topP), ...topPSet(steerLogits, topP)])];
  const logSoftmax = (l: ArrayLike<number>) => {
    let m = -Infinity;
    for (const i of set) m = Math.max(m, l[i]!);
    let z = 0;
    for (const i of set) z += Math.exp(l[i]! - m);
    const lz = m + Math.log(z);
    return set.map((i) => l[i]! - lz);
  };
  const lp = logSoftmax(baseLogits);
  const lq = logSoftmax(steerLogits);
  let kl = 0;
  for (let k = 0; k < set.length; k++) kl += Math.exp(lp[k]!) * (lp[k]! - lq[k]!);
  return kl / set.length;
}

/** α from a KL: sign(α_max) · clip(KL, 0, |α_max|). */
export function dacAlpha(kl: number, alphaMax: number): number {
  return Math.sign(alphaMax) * Math.min(Math.max(kl, 0), Math.abs(alphaMax));
}

/**
 * A hook adding Σ_p α_p(position) · v_p at one hook point, for the positions of this call
 * (ctx.positions are absolute, so it works on a full sequence and on one cached step alike).
 * Positions with no α (before the prompt's last token) are untouched.
 */
function positionalHook(props: readonly DacProperty[], alphaAt: (p: number, pos: number) => number): Hook {
  return (x: Arr, ctx) => {
    const [, T, d] = x.shape as [number, number, number];
    const add = new Float32Array(T * d);
    let any = false;
    ctx.positions.forEach((pos, t) => {
      props.forEach((prop, p) => {
        const a = alphaAt(p, pos);
        if (a === 0) return;
        any = true;
        for (let k = 0; k < d; k++) add[t * d + k]! += a * prop.vector[k]!;
      });
    });
    return any ? x.add(np.array(add).reshape([1, T, d])) : x;
  };
}

/** Hooks for a set of properties with per-position α; undefined when every α is 0 (no hook: the unsteered code path). */
function hooksFor(props: readonly DacProperty[], alphaAt: (p: number, pos: number) => number, positions: number[]): Record<string, Hook> | undefined {
  const active = positions.some((pos) => props.some((_, p) => alphaAt(p, pos) !== 0));
  if (!active) return undefined;
  const byHook = new Map<string, number[]>();
  props.forEach((prop, p) => byHook.set(prop.hook, [...(byHook.get(prop.hook) ?? []), p]));
  const hooks: Record<string, Hook> = {};
  for (const [hook, idx] of byHook) hooks[hook] = positionalHook(idx.map((i) => props[i]!), (k, pos) => alphaAt(idx[k]!, pos));
  return hooks;
}

async function lastLogits(model: Model, logits: Arr | undefined, cache: Record<string, Arr>): Promise<Float32Array> {
  disposeTree(cache);
  if (!logits) throw new Error("dac: forward returned no logits");
  const W = logits.shape[2]!;
  const T = logits.shape[1]!;
  const flat = await readF32(T === 1 ? logits : logits.slice([], T - 1));
  return flat.slice(0, Math.min(W, model.config.vocabSize));
}

function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/** A decoding stream: a token sequence with its own hooks, extended one token at a time (with or without a KV cache). */
class Stream {
  private kv: KVCache | undefined;
  private seq: number[];
  constructor(
    private readonly model: Model,
    prompt: number[],
    private readonly useCache: boolean,
  ) {
    this.seq = [...prompt];
  }
  /** Logits after the sequence so far, plus `next` when given; hooks see absolute positions. */
  async step(next: number | undefined, hooks: Record<string, Hook> | undefined): Promise<Float32Array> {
    const opts: ForwardOptions = { logitsPositions: "last", paddedLogits: true, ...(hooks ? { hooks } : {}) };
    if (next !== undefined) this.seq.push(next);
    if (!this.useCache) {
      const r = this.model.forward([this.seq], opts);
      return lastLogits(this.model, r.logits, r.cache);
    }
    const input = this.kv ? [next!] : this.seq;
    const r = this.model.forward([input], { ...opts, returnKV: true, ...(this.kv ? { kv: this.kv } : { kvPadTo: 64 }) });
    this.kv = r.kv;
    return lastLogits(this.model, r.logits, r.cache);
  }
  dispose(): void {
    if (this.kv) disposeTree(this.kv.layers);
    this.kv = undefined;
  }
}

/** Generate from one prompt with DAC (greedy). */
export async function dacGenerate(model: Model, prompt: string | number[], properties: readonly DacProperty[], options: DacOptions = {}): Promise<DacResult> {
  const maxNew = options.maxNewTokens ?? 32;
  const topP = options.topP ?? 0.95;
  const useCache = options.useCache ?? true;
  const names = model.hookNames();
  for (const p of properties) {
    if (!names.includes(p.hook)) throw new UsageError("UNKNOWN_HOOK", `DAC: no hook point '${p.hook}' in this model`);
    if (p.vector.length !== model.config.dModel) throw new UsageError("BAD_VECTOR", `DAC: the vector for ${p.hook} has ${p.vector.length} entries, d_model is ${model.config.dModel}`);
  }
  const ids = typeof prompt === "string" ? model.tokenizer.encode(prompt, { addSpecialTokens: options.addSpecialTokens ?? true }).ids : [...prompt];
  if (ids.length === 0) throw new UsageError("EMPTY_PROMPT", "DAC needs a non-empty prompt");
  const eosGiven = options.eosTokenId === null ? [] : options.eosTokenId ?? model.config.eosTokenId ?? model.tokenizer.eosId;
  const eos = new Set(eosGiven === undefined ? [] : Array.isArray(eosGiven) ? eosGiven : [eosGiven]);
  const first = ids.length - 1; // the first steered position: the last prompt token
  const budget = Math.min(maxNew, model.config.nCtx - ids.length);
  const res: DacResult = { text: "", tokens: [], promptTokens: ids, alphas: [], kls: [] };
  if (options.returnLogits) {
    res.steeredLogits = [];
    res.baseLogits = [];
  }
  const base = new Stream(model, ids, useCache);
  const maxStreams = properties.map(() => new Stream(model, ids, useCache));
  const dac = new Stream(model, ids, useCache);
  const alphaAt = (p: number, pos: number) => (pos < first ? 0 : res.alphas[pos - first]?.[p] ?? 0);
  try {
    let next: number | undefined;
    for (let t = 0; t < budget; t++) {
      const positions = Array.from({ length: first + t + 1 }, (_, i) => i);
      const pLogits = await base.step(next, undefined);
      const alphas: number[] = [];
      const kls: number[] = [];
      for (const [p, prop] of properties.entries()) {
        if (prop.alphaMax === 0) {
          alphas.push(0);
          kls.push(0);
          continue;
        }
        const only = [prop];
        const qLogits = await maxStreams[p]!.step(next, hooksFor(only, (_, pos) => (pos >= first ? prop.alphaMax : 0), positions));
        const kl = truncatedKL(pLogits, qLogits, topP);
        kls.push(kl);
        alphas.push(dacAlpha(kl, prop.alphaMax));
      }
      res.alphas.push(alphas);
      res.kls.push(kls);
      const sLogits = await dac.step(next, hooksFor(properties, alphaAt, positions));
      if (res.steeredLogits) {
        res.steeredLogits.push(sLogits);
        res.baseLogits!.push(pLogits);
      }
      const tok = argmax(sLogits);
      res.tokens.push(tok);
      if (eos.has(tok)) break;
      next = tok;
    }
  } finally {
    base.dispose();
    for (const s of maxStreams) s.dispose();
    dac.dispose();
  }
  const shown = res.tokens.length && eos.has(res.tokens[res.tokens.length - 1]!) ? res.tokens.slice(0, -1) : res.tokens;
  res.text = model.tokenizer.decode(shown, { skipSpecialTokens: true });
  return res;
}
