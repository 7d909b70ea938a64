/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", 2019), computed exactly as
 * torch.optim.AdamW does (torch/optim/adamw.py, _single_tensor_adamw, torch 1.13):
 *
 *   p ← p · (1 − lr·λ)                               decoupled weight decay, before the moments
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   denom = √v / √(1 − β2^t) + ε
 *   p ← p − (lr / (1 − β1^t)) · m / denom            (= p − lr·m̂/(√v̂ + ε))
 *
 * Weight decay applies only to parameters with ≥ 2 dimensions (matrices and embeddings), as in
 * nanoGPT's configure_optimizers and HF Trainer's get_decay_parameter_names (norm weights and
 * biases excluded); `decay` overrides that choice. The scalars (bias corrections, step size) are
 * computed in float64 in JS, as torch computes them in Python floats.
 */
import { jit, numpy as np, type OwnedFunction } from "@jax-js/jax";
import type { HostTensor } from "../io/host-tensor.js";
import type { Arr, Params } from "../model/types.js";
import { readF32 } from "../tensor/own.js";

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  /** λ, the decoupled weight decay coefficient (torch's weight_decay). */
  weightDecay: number;
  /** Which parameters decay (default: those with ≥ 2 dims). */
  decay?: (name: string, shape: readonly number[]) => boolean;
}

/** Optimizer state: the step count t and the first/second moment of every parameter (owned). */
export interface AdamWState {
  t: number;
  m: Params;
  v: Params;
}

export function defaultDecay(_name: string, shape: readonly number[]): boolean {
  return shape.length >= 2;
}

/** Zero moments for `params` (not consumed), t = 0. */
export function initAdamW(params: Params): AdamWState {
  const m: Params = {};
  const v: Params = {};
  for (const [name, p] of Object.entries(params)) {
    m[name] = np.zeros(p.shape, { dtype: np.float32 });
    v[name] = np.zeros(p.shape, { dtype: np.float32 });
  }
  return { t: 0, m, v };
}

/**
 * One AdamW step at learning rate `lr`. Consumes `params`, `grads` and `state`; returns the new
 * parameters and state (a fresh record: nothing old stays alive).
 */
export function adamwStep(params: Params, grads: Params, state: AdamWState, lr: number, opts: AdamWOptions): { params: Params; state: AdamWState } {
  const { beta1, beta2, eps, weightDecay } = opts;
  const decay = opts.decay ?? defaultDecay;
  const t = state.t + 1;
  const bc1 = 1 - beta1 ** t;
  const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
  const stepSize = lr / bc1;
  const out: Params = {};
  const m: Params = {};
  const v: Params = {};
  for (const name of Object.keys(params)) {
    let p = params[name]!;
    const g = grads[name];
    if (!g) throw new Error(`adamwStep: no gradient for parameter ${name}`);
    if (weightDecay !== 0 && decay(name, p.shape)) p = p.mul(1 - lr * weightDecay);
    const mNew: Arr = state.m[name]!.mul(beta1).add(g.ref.mul(1 - beta1));
    const vNew: Arr = state.v[name]!.mul(beta2).add(g.ref.mul(g).mul(1 - beta2));
    const denom = np.sqrt(vNew.ref).div(bc2Sqrt).add(eps);
    out[name] = p.sub(mNew.ref.div(denom).mul(stepSize));
    m[name] = mNew;
    v[name] = vNew;
  }
  for (const name of Object.keys(grads)) if (!(name in params)) grads[name]!.dispose();
  return { params: out, state: { t, m, v } };
}

type Update = (p: Arr, g: Arr, m: Arr, v: Arr, s: Arr) => [Arr, Arr, Arr];

/**
 * The same update as adamwStep, compiled with jax-js `jit`: one fused program per parameter
 * shape instead of ~10 eager kernels each (measured in bench/train-step.ts). The per-step scalars
 * travel in one float32 array s = [1 − lr·λ (or 1), lr/(1 − β1^t), √(1 − β2^t)], so a new
 * learning rate does not recompile. Call dispose() when done.
 */
export class JitAdamW {
  private readonly update: OwnedFunction<Update>;

  constructor(private readonly opts: AdamWOptions) {
    const { beta1, beta2, eps } = opts;
    this.update = jit(((p: Arr, g: Arr, m: Arr, v: Arr, s: Arr) => {
      const pd = p.mul(s.ref.slice(0));
      const mNew = m.mul(beta1).add(g.ref.mul(1 - beta1));
      const vNew = v.mul(beta2).add(g.ref.mul(g).mul(1 - beta2));
      const denom = np.sqrt(vNew.ref).div(s.ref.slice(2)).add(eps);
      const pNew = pd.sub(mNew.ref.div(denom).mul(s.slice(1)));
      return [pNew, mNew, vNew];
    }) as Update) as unknown as OwnedFunction<Update>;
  }

  /** Same contract as adamwStep. */
  step(params: Params, grads: Params, state: AdamWState, lr: number): { params: Params; state: AdamWState } {
    const { beta1, beta2, weightDecay } = this.opts;
    const decay = this.opts.decay ?? defaultDecay;
    const t = state.t + 1;
    const stepSize = lr / (1 - beta1 ** t);
    const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
    const sDecay = np.array([1 - lr * weightDecay, stepSize, bc2Sqrt], { dtype: np.float32 });
    const sPlain = np.array([1, stepSize, bc2Sqrt], { dtype: np.float32 });
    const out: Params = {};
    const m: Params = {};
    const v: Params = {};
    try {
      for (const name of Object.keys(params)) {
        const p = params[name]!;
        const g = grads[name];
        if (!g) throw new Error(`adamwStep: no gradient for parameter ${name}`);
        const s = weightDecay !== 0 && decay(name, p.shape) ? sDecay.ref : sPlain.ref;
        [out[name], m[name], v[name]] = this.update(p, g, state.m[name]!, state.v[name]!, s);
      }
    } finally {
      sDecay.dispose();
      sPlain.dispose();
    }
    return { params: out, state: { t, m, v } };
  }

  dispose(): void {
    this.update.dispose();
  }
}

/** The state as host tensors ("m.NAME", "v.NAME") and t, for a safetensors file. Does not consume. */
export async function adamwStateToHost(state: AdamWState): Promise<{ t: number; tensors: Record<string, HostTensor> }> {
  const tensors: Record<string, HostTensor> = {};
  for (const [kind, rec] of [["m", state.m], ["v", state.v]] as const) {
    for (const [name, a] of Object.entries(rec)) tensors[`${kind}.${name}`] = { dtype: "float32", shape: a.shape.slice(), data: await readF32(a.ref) };
  }
  return { t: state.t, tensors };
}

/** Rebuild the state from host tensors written by adamwStateToHost. */
export function adamwStateFromHost(t: number, tensors: Record<string, { shape: number[]; data: Float32Array }>, names: readonly string[]): AdamWState {
  const m: Params = {};
  const v: Params = {};
  for (const name of names) {
    const mt = tensors[`m.${name}`];
    const vt = tensors[`v.${name}`];
    if (!mt || !vt) throw new Error(`optimizer state lacks the moments of ${name}`);
    m[name] = np.array(mt.data).reshape(mt.shape);
    v[name] = np.array(vt.data).reshape(vt.shape);
  }
  return { t, m, v };
}
