/**
 * ELDER's adapters as an attached module (Li et al., "ELDER: Enhancing Lifelong Model Editing with
 * Mixture-of-LoRA", AAAI 2025, arXiv 2408.11869; reference code github.com/JiaangL/ELDER,
 * peft_egg/src/peft/tuners/elder.py: Gate, ElderLinear, ElderGraceLinear). The editor that trains
 * it is edit/elder.ts.
 *
 * For every adapted matrix W (target t) there are E LoRA experts (A_e, B_e) and a router
 * (W_g, b_g), the reference's `Gate` (a linear layer, bias on, FastMoE's NaiveGate):
 *
 *   p_t(s)   = softmax(s·W_g + b_g)                                    router over the E experts
 *   w_t(s)_e = p_t(s)_e if e ∈ topk(p_t(s), k) else 0                  (not renormalised)
 *   out      = x·W + Σ_e w_t(s)_e · (α/r)·(x·A_e)·B_e                   ElderLinear.forward's einsum
 *
 * s is the sequence representation: the input of the "grace layer" (an earlier linear layer) at
 * the query token (ElderGraceLinear.forward: x[:, key_id], key_id = the last prompt token), which
 * the reference hands over in the module global SEQ_REPR. Here it is the activation at `queryHook`
 * (blocks.{d}.mlp.hook_post, the input of layer d's W_out) at HookContext.queryPositions, read in
 * the same forward pass and kept in that pass's closure.
 *
 * Deferral (ElderGraceLinear.get_bin_code / discriminate, the reference's IN_EDIT_SCOPE): the
 * input's allocation code is the concatenation over targets of the k-hot vector of each router's
 * top-k (a binary code of length T·E); the module keeps the code of every edit (recorded while the
 * edit was trained, BINARY_CODE). The input is in an edit's scope iff its Hamming distance to the
 * nearest stored code is < threshold; otherwise the adapters are off for that row and its output is
 * the unedited model's, bit for bit (the row is passed through untouched, not added a zero).
 */
import { numpy as np } from "@jax-js/jax";
import { HandOver, type ModuleKind } from "../attached.js";
import type { HostF32, PatchInfo } from "../patch.js";
import type { Arr, Hook, Model } from "../types.js";
import { loraScale, loraSite, type LoraAdapter, type LoraFactors } from "./lora.js";
import { readF32Sync } from "../../tensor/own.js";

/** The router of one target: logits = s·W + b. */
export interface ElderRouter {
  /** [d_query, E] */
  W: HostF32;
  /** [E] */
  b: HostF32;
}

export interface ElderModule {
  kind: "elder";
  /** Where the sequence representation s is read (blocks.{d}.mlp.hook_post). */
  queryHook: string;
  topK: number;
  /** Deferral radius in Hamming distance: in scope iff min distance < threshold (reference `discriminate`). */
  threshold: number;
  /** The adapted matrices, in code order. */
  targets: string[];
  /** E experts, each a LoRA adapter over `targets` (same rank and α). */
  experts: LoraAdapter[];
  routers: Record<string, ElderRouter>;
  /** [n_edits, T·E] 0/1: each edit's allocation code. */
  codes: HostF32;
  info?: PatchInfo;
}

/** softmax, top-k and the mixture weights w for one query and one router (float64 on the host). */
export function routeOne(q: ArrayLike<number>, router: ElderRouter, topK: number): { probs: Float64Array; top: number[]; weights: Float64Array } {
  const [d, E] = router.W.shape as [number, number];
  const logits = new Float64Array(E);
  for (let e = 0; e < E; e++) logits[e] = router.b.data[e]!;
  for (let i = 0; i < d; i++) {
    const qi = q[i]!;
    if (qi === 0) continue;
    for (let e = 0; e < E; e++) logits[e]! += qi * router.W.data[i * E + e]!;
  }
  const max = Math.max(...logits);
  const probs = logits.map((l) => Math.exp(l - max));
  const Z = probs.reduce((a, b) => a + b, 0);
  for (let e = 0; e < E; e++) probs[e]! /= Z;
  const top = topIndices(probs, topK);
  const weights = new Float64Array(E);
  for (const e of top) weights[e] = probs[e]!;
  return { probs, top, weights };
}

/** The k largest entries' indices (ties: the lower index first), ascending by index. */
export function topIndices(v: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: v.length }, (_, i) => i);
  idx.sort((a, b) => v[b]! - v[a]! || a - b);
  return idx.slice(0, Math.min(k, v.length)).sort((a, b) => a - b);
}

/** Concatenated k-hot code over targets (length T·E). */
export function allocationCode(tops: number[][], E: number): Float32Array {
  const code = new Float32Array(tops.length * E);
  tops.forEach((top, t) => top.forEach((e) => (code[t * E + e] = 1)));
  return code;
}

/** Hamming distance of `code` to the nearest stored code ([n, L] row-major); Infinity when none. */
export function nearestHamming(code: Float32Array, codes: HostF32): number {
  const L = code.length;
  const n = codes.shape[0]!;
  let best = Infinity;
  for (let j = 0; j < n; j++) {
    let dist = 0;
    for (let i = 0; i < L; i++) if ((codes.data[j * L + i] !== 0) !== (code[i] !== 0)) dist++;
    if (dist < best) best = dist;
  }
  return best;
}

/**
 * Σ_e w[:, e] · s·(x·A_e)·B_e for x [B, P, …] whose trailing axes flatten to d_in, the experts'
 * factors stacked as A [E, d_in, r] and B [E, r, d_out], and w [B, E] (all consumed; traced while
 * training): one batched matmul pair for all experts, ElderLinear.forward's
 * einsum('belh, be -> blh'). Returns [B, P, d_out].
 */
export function mixtureDelta(x: Arr, A: Arr, B: Arr, w: Arr, scale: number): Arr {
  const [nB, P] = x.shape as [number, number];
  const [E, dIn] = A.shape as [number, number];
  const flat = x.reshape([nB, 1, P, dIn]);
  // Equal ranks spelled out: jax-js's matmul aligns batch axes from the left, not numpy's right.
  const d = np.matmul(np.matmul(flat, A.reshape([1, ...A.shape])), B.reshape([1, ...B.shape])); // [B, E, P, d_out]
  return d.mul(w.mul(scale).reshape([nB, E, 1, 1])).sum(1);
}

/** The experts' factors of one target stacked on the host: A [E, d_in, r], B [E, r, d_out]. */
export function stackFactors(experts: readonly LoraAdapter[], target: string): { A: HostF32; B: HostF32 } {
  const fs = experts.map((ex) => ex.targets[target] as LoraFactors);
  const stack = (xs: HostF32[]): HostF32 => {
    const n = xs[0]!.data.length;
    const data = new Float32Array(xs.length * n);
    xs.forEach((x, i) => data.set(x.data, i * n));
    return { shape: [xs.length, ...xs[0]!.shape], data };
  };
  return { A: stack(fs.map((f) => f.A)), B: stack(fs.map((f) => f.B)) };
}

interface PassRouting {
  /** Per target: [B·E] mixture weights. */
  weights: Float32Array[];
  inScope: boolean[];
}

/** Route every row of a pass: mixture weights per target and the deferral decision. */
export function routePass(m: ElderModule, queries: Float32Array, B: number): PassRouting {
  const E = m.experts.length;
  const d = queries.length / B;
  const weights = m.targets.map(() => new Float32Array(B * E));
  const inScope: boolean[] = [];
  for (let b = 0; b < B; b++) {
    const q = queries.subarray(b * d, (b + 1) * d);
    const tops = m.targets.map((t, ti) => {
      const r = routeOne(q, m.routers[t]!, m.topK);
      for (let e = 0; e < E; e++) weights[ti]![b * E + e] = r.weights[e]!;
      return r.top;
    });
    inScope.push(nearestHamming(allocationCode(tops, E), m.codes) < m.threshold);
  }
  return { weights, inScope };
}

/** The query rows [B, d] of activation x [B, P, d] at each row's query position. */
export function queryRows(x: Arr, queryPositions: readonly number[]): Arr {
  const rows = queryPositions.map((p, b) => x.ref.slice(b, p));
  x.dispose();
  return np.stack(rows, 0);
}

function check(model: Model, m: ElderModule) {
  const E = m.experts.length;
  if (E < 1) throw new RangeError("an ELDER module needs at least one expert (experts)");
  if (!(Number.isInteger(m.topK) && m.topK >= 1 && m.topK <= E)) throw new RangeError(`ELDER topK must be an integer in 1…${E} (the number of experts), got ${m.topK}`);
  const names = model.hookNames();
  const qi = names.indexOf(m.queryHook);
  if (qi < 0) throw new RangeError(`ELDER queryHook ${m.queryHook} is not a hook point of this model`);
  const sites = m.targets.map((name) => {
    const W = model.params[name];
    if (!W) throw new RangeError(`ELDER target ${name} is not a parameter of this model`);
    const site = loraSite(model, name);
    if (names.indexOf(site.input) < qi) throw new RangeError(`ELDER target ${name} reads ${site.input}, before the query hook ${m.queryHook}: the deferral layer must come at or before every adapted layer`);
    const r = m.routers[name];
    if (!r || r.W.shape[1] !== E || r.b.shape[0] !== E) throw new RangeError(`ELDER router of ${name} must have W [d_query, ${E}] and b [${E}]`);
    for (const [i, ex] of m.experts.entries()) {
      const f = ex.targets[name];
      if (!f || f.A.shape[0] !== W.shape[0] || f.B.shape[1] !== W.shape[1]) throw new RangeError(`ELDER expert ${i} lacks factors of ${name} shaped A [${W.shape[0]}, r], B [r, ${W.shape[1]}]`);
    }
    return { name, ...site, scale: loraScale(m.experts[0]!) };
  });
  if (m.codes.shape.length !== 2 || m.codes.shape[1] !== m.targets.length * E) throw new RangeError(`ELDER codes must be [n, ${m.targets.length * E}], got [${m.codes.shape}]`);
  return sites;
}

/** The hooks of one forward pass (the pass's routing lives in this closure only). */
function passHooks(m: ElderModule, sites: ReturnType<typeof check>, dQuery: number, stacked: { A: HostF32; B: HostF32 }[]): Record<string, Hook> {
  const hooks: Record<string, Hook> = {};
  const hand = new HandOver();
  let routing: PassRouting | undefined;
  const add = (name: string, h: Hook) => {
    const before = hooks[name];
    hooks[name] = before ? (x, ctx) => h(before(x, ctx), ctx) : h;
  };
  add(m.queryHook, (x, ctx) => {
    const B = x.shape[0]!;
    if (x.shape[x.shape.length - 1] !== dQuery) throw new RangeError(`ELDER router expects ${dQuery}-dim queries at ${m.queryHook}, the activation has ${x.shape[x.shape.length - 1]}`);
    routing = routePass(m, readF32Sync(queryRows(x.ref, ctx.queryPositions)), B);
    return x;
  });
  const uses = new Map<string, number>();
  for (const s of sites) uses.set(s.input, (uses.get(s.input) ?? 0) + 1);
  for (const [input, n] of uses) add(input, (x) => (routing && routing.inScope.some(Boolean) ? hand.put(input, x, n) : undefined, x));
  sites.forEach((s, ti) => {
    add(s.output, (y) => {
      if (!routing || !routing.inScope.some(Boolean)) return y;
      const E = m.experts.length;
      const B = y.shape[0]!;
      const f = stacked[ti]!;
      const x = hand.take(s.input);
      const A = np.array(f.A.data).reshape(f.A.shape);
      const Bm = np.array(f.B.data).reshape(f.B.shape);
      const delta = mixtureDelta(x, A, Bm, np.array(routing.weights[ti]!).reshape([B, E]), s.scale).reshape(y.shape);
      if (routing.inScope.every(Boolean)) return y.add(delta);
      // Mixed batch: out-of-scope rows are y's own rows, untouched (bit-exact unedited outputs).
      const rows = routing.inScope.map((on, b) => (on ? y.ref.slice([b, b + 1]).add(delta.ref.slice([b, b + 1])) : y.ref.slice([b, b + 1])));
      y.dispose();
      delta.dispose();
      return np.concatenate(rows, 0);
    });
  });
  return hooks;
}

export const elderKind: ModuleKind<ElderModule> = {
  kind: "elder",
  hooks(model, m) {
    const sites = check(model, m);
    const dQuery = m.routers[m.targets[0]!]!.W.shape[0]!;
    const stacked = m.targets.map((t) => stackFactors(m.experts, t));
    return () => passHooks(m, sites, dQuery, stacked);
  },
  encode(m) {
    const tensors: Record<string, HostF32> = { codes: m.codes };
    for (const t of m.targets) {
      tensors[`router.${t}.W`] = m.routers[t]!.W;
      tensors[`router.${t}.b`] = m.routers[t]!.b;
      m.experts.forEach((ex, e) => {
        tensors[`expert.${e}.${t}.A`] = ex.targets[t]!.A;
        tensors[`expert.${e}.${t}.B`] = ex.targets[t]!.B;
      });
    }
    const { rank, alpha } = m.experts[0]!;
    return { meta: { queryHook: m.queryHook, topK: m.topK, threshold: m.threshold, targets: m.targets, experts: m.experts.length, rank, alpha }, tensors, about: m.info ?? null };
  },
  decode({ meta, tensors, about }) {
    const x = meta as { queryHook?: string; topK?: number; threshold?: number; targets?: string[]; experts?: number; rank?: number; alpha?: number };
    if (typeof x?.queryHook !== "string" || typeof x.topK !== "number" || typeof x.threshold !== "number" || !Array.isArray(x.targets) || typeof x.experts !== "number" || typeof x.rank !== "number" || typeof x.alpha !== "number") {
      throw new RangeError("an ELDER module needs queryHook, topK, threshold, targets, experts, rank and alpha");
    }
    const need = (name: string) => {
      const t = tensors[name];
      if (!t) throw new RangeError(`ELDER module lacks tensor ${name}`);
      return t;
    };
    const routers: Record<string, ElderRouter> = {};
    for (const t of x.targets) routers[t] = { W: need(`router.${t}.W`), b: need(`router.${t}.b`) };
    const experts: LoraAdapter[] = Array.from({ length: x.experts }, (_, e) => ({
      rank: x.rank!,
      alpha: x.alpha!,
      dropout: 0,
      targets: Object.fromEntries(x.targets!.map((t) => [t, { A: need(`expert.${e}.${t}.A`), B: need(`expert.${e}.${t}.B`) }])),
    }));
    const info = (about ?? undefined) as PatchInfo | undefined;
    return { kind: "elder", queryHook: x.queryHook, topK: x.topK, threshold: x.threshold, targets: x.targets, experts, routers, codes: need("codes"), ...(info ? { info } : {}) };
  },
};
