/**
 * The dictionary's forward math on device arrays, shared by splicing (dictionary-splice.ts) and
 * training (sae/train.ts), so a trained dictionary computes in the model exactly what it computed
 * when it was trained. Formulas in dictionary.ts.
 */
import { lax, numpy as np } from "@jax-js/jax";
import type { Arr } from "../types.js";
import type { Dictionary, DictionaryActivation } from "./dictionary.js";

export interface DictionaryArrays {
  W_enc: Arr;
  W_dec: Arr;
  b_enc: Arr;
  b_dec: Arr;
  threshold?: Arr;
  b_in?: Arr;
}

/** Device copies of a dictionary's weights (the caller owns them). */
export function dictionaryArrays(d: Dictionary): DictionaryArrays {
  const a = (t: { shape: number[]; data: Float32Array }) => np.array(t.data).reshape(t.shape);
  return {
    W_enc: a(d.W_enc),
    W_dec: a(d.W_dec),
    b_enc: a(d.b_enc),
    b_dec: a(d.b_dec),
    ...(d.threshold ? { threshold: a(d.threshold) } : {}),
    ...(d.b_in ? { b_in: a(d.b_in) } : {}),
  };
}

/** Pre-activations (x − b_in)·W_enc + b_enc; borrows the weights, consumes x. */
export function preActivations(x: Arr, p: DictionaryArrays): Arr {
  const centred = p.b_in ? x.sub(p.b_in.ref) : x;
  return np.matmul(centred, p.W_enc.ref).add(p.b_enc.ref);
}

/** σ(pre): ReLU, TopK (ReLU of each row's k largest; ties at the k-th value all pass) or JumpReLU. */
export function activate(pre: Arr, activation: DictionaryActivation, threshold?: Arr): Arr {
  switch (activation.type) {
    case "relu":
      return np.maximum(pre, 0);
    case "topk": {
      const [values] = lax.topK(lax.stopGradient(pre.ref), activation.k, -1);
      const kth = values.slice(...pre.shape.slice(0, -1).map(() => [] as []), [activation.k - 1, activation.k]);
      const keep = pre.ref.greaterEqual(kth).astype(pre.dtype);
      return np.maximum(pre.mul(keep), 0);
    }
    case "jumprelu": {
      if (!threshold) throw new RangeError("a JumpReLU dictionary needs its thresholds");
      const keep = pre.ref.greater(threshold).astype(pre.dtype);
      return np.maximum(pre.mul(keep), 0);
    }
  }
}

/** Feature activations f = σ((x − b_in)·W_enc + b_enc); consumes x, borrows the weights. */
export function encode(x: Arr, p: DictionaryArrays, activation: DictionaryActivation): Arr {
  return activate(preActivations(x, p), activation, p.threshold?.ref);
}

/** Reconstruction f·W_dec + b_dec; consumes f, borrows the weights. */
export function decode(f: Arr, p: DictionaryArrays): Arr {
  return np.matmul(f, p.W_dec.ref).add(p.b_dec.ref);
}
