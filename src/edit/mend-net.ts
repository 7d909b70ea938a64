/**
 * MEND's gradient-decomposition editor network (Mitchell et al. 2022, "Fast Model Editing at
 * Scale", §3; EasyEdit easyeditor/trainer/algs/MEND.py GradientTransform + local_nn.py IDMLP /
 * LRLinear; eric-mitchell/mend algs/mend.py, nn.py).
 *
 * For a linear map W (scalpel stores it as [d_in, d_out]: y = x·W) the gradient of a loss summed
 * over token rows t is ∇W = Σ_t u_t δ_tᵀ, u_t the map's input and δ_t = ∂L/∂y_t. MEND transforms the
 * factors, not the matrix:
 *   normalise  û = (u − μ_u) / (σ_u + 1e-7),  δ̂ = (δ − μ_δ) / (σ_δ + 1e-7)      (running statistics, `norm`)
 *   combine    z₀ = [û; δ̂]  (dim = d_in + d_out)                               (`combine`: one MLP on both)
 *   IDMLP      z_{i+1} = clamp(s_m ⊙ (z_i V_iᵀ U_iᵀ + b_i) + c_m, min 0) + z_i,  i = 0 … n_hidden
 *              (LRLinear: U_i [dim, r], V_i [mid=min(r,dim), dim]; init "id": U = 0, V ~ N(0,1), b = 0,
 *               so g starts as the identity; s_m, c_m the per-mode scale/shift of the map's index m
 *               among the maps of its shape, shared = one network per shape)
 *   split      ũ, δ̃ = z_{n_hidden+1}[:d_in], z[d_in:]
 *   edit       ΔW = −α_ℓ Σ_t ũ_t δ̃_tᵀ                                            (mend.ts)
 * The paper writes W̃ = W − α_ℓ ∇̃W; the reference code adds `lr * g` with a learned lr (its sign is
 * learned too). We follow the paper's sign, so that edit_lr > 0 starts as a descent step.
 * Only the reference configuration is implemented (combine, shared, init id, IDMLP, relu); the
 * one-sided / x_only / delta_only / unshared variants are refused with a RangeError.
 *
 * Browser-safe: the network is plain data (host Float32Arrays); the forward is jax-js, so `grad`
 * reaches its parameters (mend-train.ts).
 */
import { numpy as np } from "@jax-js/jax";
import type { HostF32 } from "../model/patch.js";
import type { Arr } from "../model/types.js";
import { Rng } from "../util/rng.js";

/** The reference's network options (EasyEdit hparams/TRAINING/MEND/*.yaml names in comments). */
export interface MendNetConfig {
  /** n_hidden: hidden LRLinear layers (the IDMLP has n_hidden + 1). */
  nHidden: number;
  /** rank: the LRLinear factor rank (capped at the layer width). */
  rank: number;
  /** norm: normalise u and δ by running statistics. */
  norm: boolean;
}

/** Welford running statistics (MEND.py update_counter): mean, Σ(x − mean)² and count. */
export interface MendStats {
  uMean: Float32Array;
  vMean: Float32Array;
  uS: Float32Array;
  vS: Float32Array;
  k: number;
}

/** One shared network: for every map whose W has shape [xDim, deltaDim]. */
export interface MendShapeNet {
  xDim: number;
  deltaDim: number;
  nModes: number;
  /** "layers.{i}.u" [dim, mid], ".v" [mid, dim], ".bias" [dim], ".mode_scale"/".mode_shift" [nModes, dim]. */
  params: Record<string, HostF32>;
  stats: MendStats;
}

/** A trained (or fresh) MEND editor network for a model's inner parameters. */
export interface MendNetwork {
  config: MendNetConfig;
  /** The edited matrices (scalpel names, e.g. "blocks.3.mlp.W_out"), in order. */
  innerParams: string[];
  /** Their shapes [d_in, d_out]. */
  shapes: number[][];
  /** Learned per-matrix edit learning rates α_ℓ. */
  editLrs: Float32Array;
  /** Shape key ("{d_in}x{d_out}") → its network. */
  nets: Record<string, MendShapeNet>;
}

export function shapeKey(shape: readonly number[]): string {
  return `${shape[0]}x${shape[1]}`;
}

/** The shape key and mode index of inner parameter i (its index among same-shape maps). */
export function modeOf(net: Pick<MendNetwork, "shapes">, i: number): { key: string; mode: number } {
  const key = shapeKey(net.shapes[i]!);
  let mode = 0;
  for (let j = 0; j < i; j++) if (shapeKey(net.shapes[j]!) === key) mode++;
  return { key, mode };
}

export const MEND_LAYER_TENSORS = ["u", "v", "bias", "mode_scale", "mode_shift"] as const;

/**
 * A fresh network (LRLinear init "id": U = 0, V ~ N(0, 1), bias 0, mode scale 1, shift 0) and
 * edit lrs all `editLr`. Statistics start empty (k = 0): training fills them.
 */
export function initMendNetwork(innerParams: readonly string[], shapes: readonly number[][], config: MendNetConfig, editLr: number, seed: number): MendNetwork {
  if (innerParams.length === 0) throw new RangeError("MEND needs at least one inner parameter (inner_params is empty): name matrices such as blocks.3.mlp.W_out");
  if (innerParams.length !== shapes.length) throw new RangeError("MEND: inner_params and shapes differ in length");
  if (!Number.isInteger(config.nHidden) || config.nHidden < 0) throw new RangeError(`MEND n_hidden must be an integer ≥ 0, got ${config.nHidden}`);
  if (!Number.isInteger(config.rank) || config.rank < 1) throw new RangeError(`MEND rank must be an integer ≥ 1, got ${config.rank}`);
  const rng = new Rng(seed);
  const nets: Record<string, MendShapeNet> = {};
  const counts = new Map<string, number>();
  for (const s of shapes) counts.set(shapeKey(s), (counts.get(shapeKey(s)) ?? 0) + 1);
  for (const s of shapes) {
    const key = shapeKey(s);
    if (nets[key]) continue;
    const [xDim, deltaDim] = [s[0]!, s[1]!];
    const dim = xDim + deltaDim;
    const mid = Math.min(config.rank, dim);
    const nModes = counts.get(key)!;
    const params: Record<string, HostF32> = {};
    for (let i = 0; i <= config.nHidden; i++) {
      const v = new Float32Array(mid * dim);
      for (let j = 0; j < v.length; j++) v[j] = rng.normal();
      params[`layers.${i}.u`] = { shape: [dim, mid], data: new Float32Array(dim * mid) };
      params[`layers.${i}.v`] = { shape: [mid, dim], data: v };
      params[`layers.${i}.bias`] = { shape: [dim], data: new Float32Array(dim) };
      params[`layers.${i}.mode_scale`] = { shape: [nModes, dim], data: new Float32Array(nModes * dim).fill(1) };
      params[`layers.${i}.mode_shift`] = { shape: [nModes, dim], data: new Float32Array(nModes * dim) };
    }
    const z = () => new Float32Array(0);
    nets[key] = { xDim, deltaDim, nModes, params, stats: { uMean: z(), vMean: z(), uS: z(), vS: z(), k: 0 } };
  }
  return { config: { ...config }, innerParams: [...innerParams], shapes: shapes.map((s) => [...s]), editLrs: new Float32Array(innerParams.length).fill(editLr), nets };
}

/**
 * MEND.py's training-mode statistics update, row by row: the first row sets the mean (s = 0, k = 1),
 * then update_counter: m' = m + (x − m)/k, s' = s + (x − m)(x − m'). Rows are [n, dim] row-major.
 */
export function updateStats(stats: MendStats, u: Float32Array, v: Float32Array, n: number): void {
  const du = u.length / Math.max(n, 1);
  const dv = v.length / Math.max(n, 1);
  for (let r = 0; r < n; r++) {
    if (stats.k === 0) {
      stats.uMean = u.slice(r * du, (r + 1) * du);
      stats.vMean = v.slice(r * dv, (r + 1) * dv);
      stats.uS = new Float32Array(du);
      stats.vS = new Float32Array(dv);
      stats.k = 1;
      continue;
    }
    stats.k += 1;
    const k = stats.k;
    for (const [x, off, m, s, d] of [[u, r * du, stats.uMean, stats.uS, du], [v, r * dv, stats.vMean, stats.vS, dv]] as const) {
      for (let j = 0; j < d; j++) {
        const xm = x[off + j]! - m[j]!;
        const nm = m[j]! + xm / k;
        s[j] = s[j]! + xm * (x[off + j]! - nm);
        m[j] = nm;
      }
    }
  }
}

/** (x − mean) / (std + 1e-7), std = sqrt(s / (k − 1)) (MEND.py forward, `norm` on). */
function normaliseRows(x: Float32Array, n: number, mean: Float32Array, s: Float32Array, k: number): Float32Array {
  const d = x.length / Math.max(n, 1);
  const out = new Float32Array(x.length);
  const std = new Float32Array(d);
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(s[j]! / (k - 1));
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) out[r * d + j] = (x[r * d + j]! - mean[j]!) / (std[j]! + 1e-7);
  return out;
}

/**
 * The network's input for factor rows u [n, xDim], δ [n, deltaDim]: [û; δ̂] as [n, xDim + deltaDim]
 * (host). Rows where u or δ is all zero are dropped first (MEND.py nz_mask: positions that carry
 * no gradient, e.g. right padding). `train` updates the running statistics with the kept rows, as
 * the reference does in training mode, before normalising.
 */
export function networkInput(net: MendShapeNet, norm: boolean, u: Float32Array, d: Float32Array, n: number, train: boolean): { x: Float32Array; rows: number } {
  const { xDim, deltaDim } = net;
  const keep: number[] = [];
  for (let r = 0; r < n; r++) {
    let nu = false;
    let nd = false;
    for (let j = 0; j < xDim && !nu; j++) nu = u[r * xDim + j] !== 0;
    for (let j = 0; j < deltaDim && !nd; j++) nd = d[r * deltaDim + j] !== 0;
    if (nu && nd) keep.push(r);
  }
  let ku: Float32Array = new Float32Array(keep.length * xDim);
  let kd: Float32Array = new Float32Array(keep.length * deltaDim);
  keep.forEach((r, i) => {
    ku.set(u.subarray(r * xDim, (r + 1) * xDim), i * xDim);
    kd.set(d.subarray(r * deltaDim, (r + 1) * deltaDim), i * deltaDim);
  });
  if (train) updateStats(net.stats, ku, kd, keep.length);
  if (norm) {
    // The reference raises here ("Can't perform normalization with only k samples"). In training,
    // the first edit of a word-level model can give a single row (the last layer's δ is non-zero
    // only at the scored positions); we centre it with std := 1 instead (input 0: no update).
    if (net.stats.k < 2 && train) {
      ku = normaliseRows(ku, keep.length, net.stats.uMean, new Float32Array(xDim).fill(1), 2);
      kd = normaliseRows(kd, keep.length, net.stats.vMean, new Float32Array(deltaDim).fill(1), 2);
    } else if (net.stats.k < 2) throw new RangeError(`MEND cannot normalise with only ${net.stats.k} sample(s) of statistics: the network is untrained (train it with mend-train, or give a trained archive)`);
    else {
      ku = normaliseRows(ku, keep.length, net.stats.uMean, net.stats.uS, net.stats.k);
      kd = normaliseRows(kd, keep.length, net.stats.vMean, net.stats.vS, net.stats.k);
    }
  }
  const x = new Float32Array(keep.length * (xDim + deltaDim));
  for (let i = 0; i < keep.length; i++) {
    x.set(ku.subarray(i * xDim, (i + 1) * xDim), i * (xDim + deltaDim));
    x.set(kd.subarray(i * deltaDim, (i + 1) * deltaDim), i * (xDim + deltaDim) + xDim);
  }
  return { x, rows: keep.length };
}

/** The names of one shape-network's tensors, in a fixed order (optimiser and file order). */
export function netTensorNames(nHidden: number): string[] {
  const out: string[] = [];
  for (let i = 0; i <= nHidden; i++) for (const t of MEND_LAYER_TENSORS) out.push(`layers.${i}.${t}`);
  return out;
}

/**
 * IDMLP forward on x [n, dim] (consumed) with the layer tensors `p` (name → array, consumed) for
 * mode `mode` of `nModes`. Differentiable in `p`. clamp(·, min 0) is written as where(pre ≥ 0, pre, 0)
 * so its derivative at 0 is 1, as torch's clamp (the reference's comment: "need clamp instead of
 * relu so gradient at 0 isn't 0" — with U = 0 at init every pre-activation is exactly 0).
 */
export function idmlpForward(p: Record<string, Arr>, x: Arr, nHidden: number, mode: number, nModes: number): Arr {
  const onehot = new Float32Array(nModes);
  onehot[mode] = 1;
  for (let i = 0; i <= nHidden; i++) {
    const L = (t: string) => p[`layers.${i}.${t}`]!;
    // LRLinear: pre = (U (V xᵀ))ᵀ + b = x Vᵀ Uᵀ + b.
    let pre = np.matmul(np.matmul(x.ref, np.transpose(L("v"))), np.transpose(L("u"))).add(L("bias"));
    const scale = np.matmul(np.array(onehot).reshape([1, nModes]), L("mode_scale"));
    const shift = np.matmul(np.array(onehot).reshape([1, nModes]), L("mode_shift"));
    pre = pre.mul(scale).add(shift);
    const acts = np.where(np.greaterEqual(pre.ref, 0), pre, 0);
    x = acts.add(x); // init "id": residual
  }
  return x;
}

/** A shape network's parameters as fresh device arrays (for a forward or for `grad`). */
export function netArrays(net: MendShapeNet): Record<string, Arr> {
  return Object.fromEntries(Object.entries(net.params).map(([k, t]) => [k, np.array(t.data).reshape(t.shape)]));
}

/** Split the network output [n, xDim + deltaDim] (consumed) into ũ [n, xDim] and δ̃ [n, deltaDim]. */
export function splitFactors(z: Arr, xDim: number, deltaDim: number): { u: Arr; d: Arr } {
  const [u, d] = np.split(z, [xDim], 1) as [Arr, Arr];
  if (d.shape[1] !== deltaDim) throw new RangeError(`MEND network output has ${d.shape[1]} δ columns, expected ${deltaDim}`);
  return { u, d };
}
