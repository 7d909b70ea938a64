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

/**
 * σ(pre): ReLU, TopK (ReLU of each row's k largest; ties at the k-th value all pass) or JumpReLU.
 * `kth` [rows, 1] gives TopK's k-th largest pre-activation per row when the caller has it (training
 * computes it on the host, topkThresholds below: jax-js's topK costs ~4× the whole SAE step).
 */
export function activate(pre: Arr, activation: DictionaryActivation, threshold?: Arr, kthGiven?: Arr): Arr {
  switch (activation.type) {
    case "relu":
      return np.maximum(pre, 0);
    case "topk": {
      if (kthGiven) return np.maximum(pre.mul(pre.ref.greaterEqual(kthGiven).astype(pre.dtype)), 0);
      const [values, indices] = lax.topK(lax.stopGradient(pre.ref), activation.k, -1);
      indices.dispose();
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

/** The k-th largest value of each row of a [rows, d] host matrix (Hoare's selection, O(d) per row). */
export function topkThresholds(pre: Float32Array, rows: number, d: number, k: number): Float32Array {
  const out = new Float32Array(rows);
  const buf = new Float32Array(d);
  const want = k - 1; // index of the k-th largest in descending order
  for (let r = 0; r < rows; r++) {
    buf.set(pre.subarray(r * d, (r + 1) * d));
    let lo = 0;
    let hi = d - 1;
    while (lo < hi) {
      const pivot = buf[(lo + hi) >> 1]!;
      let i = lo;
      let j = hi;
      while (i <= j) {
        while (buf[i]! > pivot) i++;
        while (buf[j]! < pivot) j--;
        if (i <= j) {
          const t = buf[i]!;
          buf[i++] = buf[j]!;
          buf[j--] = t;
        }
      }
      if (want <= j) hi = j;
      else if (want >= i) lo = i;
      else break;
    }
    out[r] = buf[want]!;
  }
  return out;
}
