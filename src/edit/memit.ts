/**
 * MEMIT: Mass-Editing Memory in a Transformer (Meng et al. 2023; code memit/memit_main.py,
 * compute_z.py, compute_ks.py).
 *
 * Many edits at once, spread over a range of layers R = hparams.layers:
 *  1. z*_i for every request (compute_z, paper eq. 16): the residual stream after the last layer of
 *     R, at the subject's last token, optimised as ROME's v* (compute-value.ts; all requests in one
 *     batched optimisation whose results are the one-request ones).
 *  2. For each layer l in R, in order, on the model with the earlier layers' updates applied:
 *     K = template-averaged keys of all requests at l ([d_mlp × n], compute_ks);
 *     R = (z* − h_L(plain prompt)) / (|R| − i), the remaining residual divided over the remaining
 *     layers (memit_main: resid = targets / (len(layers) − i));
 *     Δ = R Kᵀ (λ C + K Kᵀ)⁻¹  (paper eq. 14; λ = mom2_update_weight, C = E[k kᵀ]), solved in
 *     float64 as memit_main does (adj_k = solve(λC + KKᵀ, K); upd = resid @ adj_kᵀ).
 *  In our [d_mlp, d_model] layout the delta is ΔW = (λC + KKᵀ)⁻¹ K Rᵀ = adj_k · Rᵀ.
 */
import { applyPatch, type HostF32, type WeightPatch } from "../model/patch.js";
import { modelHash } from "../model/hash.js";
import type { Model } from "../model/types.js";
import { activationsAtSubject, averagedKeys } from "./compute-key.js";
import { cachedTargetVectors } from "./value-cache.js";
import { contextTemplates } from "./context-templates.js";
import type { MemitHparams } from "./hparams.js";
import { cholesky64, choleskySolve64, mat64, solve64, type Mat64 } from "../analysis/linalg64.js";
import { keyCovariance } from "./mom2.js";
import type { EditContext, EditRequest } from "./types.js";

/**
 * ΔW = (λC + KKᵀ)⁻¹ K Rᵀ: C [d × d] row-major, K as n keys of d, R as n residuals of d_out.
 * Returns [d × d_out] float64.
 */
export function memitLayerUpdate(C: Float64Array | undefined, keys: Float64Array[], resid: Float64Array[], lambda: number): Mat64 {
  const d = keys[0]!.length;
  const n = keys.length;
  const dOut = resid[0]!.length;
  const A = new Float64Array(d * d);
  if (C) for (let i = 0; i < A.length; i++) A[i] = lambda * C[i]!;
  else for (let i = 0; i < d; i++) A[i * d + i] = lambda;
  for (const k of keys) {
    for (let i = 0; i < d; i++) {
      const ki = k[i]!;
      if (ki === 0) continue;
      const row = i * d;
      for (let j = 0; j < d; j++) A[row + j]! += ki * k[j]!;
    }
  }
  // K as [d × n].
  const K = new Float64Array(d * n);
  keys.forEach((k, c) => k.forEach((v, i) => (K[i * n + c] = v)));
  let adj: Mat64;
  try {
    adj = choleskySolve64(cholesky64(mat64(d, d, A)), mat64(d, n, K));
  } catch {
    adj = solve64(mat64(d, d, A), mat64(d, n, K));
  }
  // ΔW = adj · Rᵀ: [d × n]·[n × d_out].
  const out = new Float64Array(d * dOut);
  for (let i = 0; i < d; i++) {
    for (let c = 0; c < n; c++) {
      const a = adj.data[i * n + c]!;
      if (a === 0) continue;
      const r = resid[c]!;
      for (let j = 0; j < dOut; j++) out[i * dOut + j]! += a * r[j]!;
    }
  }
  return mat64(d, dOut, out);
}

/** Residual-stream vectors after layer `layer` at each request's subject token in its plain prompt. */
export function residualsAt(model: Model, layer: number, requests: EditRequest[]): Promise<Float32Array[]> {
  const queries = requests.map((r) => ({ template: r.prompt, subject: r.subject }));
  return activationsAtSubject(model, `blocks.${layer}.hook_resid_post`, model.config.dModel, queries);
}

/** One layer's solve: given keys and residual shares, ΔW for that layer ([d_mlp × d_model]). */
export type LayerSolver = (i: number, layer: number, keys: Float64Array[], resid: Float64Array[]) => Promise<Mat64>;

export interface SpreadResult {
  deltas: Record<string, HostF32>;
  /** The model with every layer's update applied (owned by the caller unless it is `model`). */
  edited: Model;
  templates: string[][];
  /** z* per request, and −log P(target) at the end of its optimisation. */
  zs: Float32Array[];
  nll: number[];
}

/** MEMIT's algorithm with a pluggable per-layer solve (AlphaEdit reuses it). */
export async function spreadOverLayers(
  model: Model,
  requests: EditRequest[],
  hp: MemitHparams,
  context: EditContext,
  solve: LayerSolver,
  method: string,
  /** Precomputed z* (benchmarks time the layer phase alone); computed when absent. */
  given?: Float32Array[],
): Promise<SpreadResult> {
  const templates = await contextTemplates(model, hp, context.seed ?? 0, context.caches);
  const zLayer = hp.layers[hp.layers.length - 1]!;
  // All requests' z* optimised together (compute-value.ts): each is its one-request result.
  let shown = -1;
  const use = { cached: 0, computed: 0 };
  const z = given ? undefined : await cachedTargetVectors(model, requests, hp, templates.flat(), `blocks.${zLayer}.hook_resid_post`, context, (_, s) => {
    if (s.step > shown) context.onProgress?.(`${method} z*`, (shown = s.step), hp.vNumGradSteps);
  }, use);
  if (use.cached > 0) context.onProgress?.(`${method} z* from cache`, use.cached, requests.length);
  context.onProgress?.(`${method} z*`, hp.vNumGradSteps, hp.vNumGradSteps);
  const zs = given ? [...given] : z!.map((r) => r.target);
  const nll = z ? z.map((r) => r.nll) : [];
  const deltas: Record<string, HostF32> = {};
  let current = model;
  for (const [i, layer] of hp.layers.entries()) {
    context.onProgress?.(`${method} layers`, i, hp.layers.length);
    const keys = await averagedKeys(current, layer, requests, templates, "grouped");
    const cur = await residualsAt(current, zLayer, requests);
    const share = hp.layers.length - i;
    const resid = zs.map((z, c) => Float64Array.from(z, (v, j) => (v - cur[c]![j]!) / share));
    const upd = await solve(i, layer, keys, resid);
    const name = `blocks.${layer}.mlp.W_out`;
    deltas[name] = { shape: [upd.rows, upd.cols], data: Float32Array.from(upd.data) };
    const next = applyPatch(model, { type: "weights", info: { method }, deltas });
    if (current !== model) current.dispose();
    current = next;
  }
  context.onProgress?.(`${method} layers`, hp.layers.length, hp.layers.length);
  return { deltas, edited: current, templates, zs, nll };
}

/** MEMIT's batch edit. `given`: precomputed z* per request (hyperparameter sweeps reuse one z* across λ and layer sets). */
export async function memitEdit(model: Model, requests: EditRequest[], hp: MemitHparams, context: EditContext = {}, given?: Float32Array[]): Promise<WeightPatch> {
  const solve: LayerSolver = async (_i, layer, keys, resid) => {
    const C = hp.mom2Adjustment ? await keyCovariance(model, layer, hp, context) : undefined;
    return memitLayerUpdate(C, keys, resid, hp.mom2UpdateWeight);
  };
  const { deltas, edited } = await spreadOverLayers(model, requests, hp, context, solve, "memit", given);
  if (edited !== model) edited.dispose();
  return {
    type: "weights",
    info: { method: "memit", config: hp, seed: context.seed, createdAt: new Date().toISOString(), baseModelHash: await modelHash(model), requests },
    deltas,
  };
}
