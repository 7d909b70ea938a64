/**
 * Delta transcoders: what a fine-tune changed in one MLP, as a few new features on top of a frozen
 * transcoder of the base model. The base transcoder B (trained on the base model) stays fixed; a
 * small delta D (width d_new) is trained on the fine-tuned model's MLP input → output pairs to
 * reconstruct what B misses, y_ft − B(x_ft) (sae/train.ts with `base`). At splice time
 *
 *   out = B(x) + α · D(x)
 *
 * so α = 0 is the base transcoder alone (the zero-scale term is skipped: bit-identical), α = 1 the
 * full reconstruction of the fine-tuned MLP, α > 1 an exaggeration of the fine-tune's change.
 *
 * Source: no public reference implementation of "delta transcoders" was found (searched GitHub
 * code); this is the construction the research brief describes (base frozen, delta trained on the
 * fine-tuned model's activations, fused or α-scaled). Initialisation follows sae/train.ts (SAELens
 * defaults); no percentile-based thresholds are used.
 */
import type { Dictionary } from "../model/modules/dictionary.js";
import type { DictionarySplice } from "../model/modules/dictionary-splice.js";
import { trainDictionary, type DictionaryTrainOptions, type DictionaryTrainResult } from "./train.js";

/** Train D on the fine-tuned model's activations (`source`) with `base` frozen. */
export function trainDeltaTranscoder(base: Dictionary, options: Omit<DictionaryTrainOptions, "base" | "kind" | "hookIn" | "hookOut">): Promise<DictionaryTrainResult> {
  if (base.kind !== "transcoder") throw new RangeError("a delta transcoder extends a transcoder (the base is an SAE)");
  return trainDictionary({ ...options, kind: "transcoder", hookIn: base.hookIn, hookOut: base.hookOut, base });
}

/** Splice terms B + α·D (model/modules/dictionary-splice.ts). */
export function deltaTerms(base: Dictionary, delta: Dictionary, alpha: number): DictionarySplice["terms"] {
  return [
    { dictionary: base, scale: 1 },
    { dictionary: delta, scale: alpha },
  ];
}

/**
 * B + α·D as one transcoder of width d_base + d_new: encoders side by side, decoders stacked with
 * D's rows (and bias) scaled by α. Exact for element-wise activations (ReLU, JumpReLU), where each
 * feature fires independently; a TopK pair is not one TopK over the union, so it is refused (splice
 * the two terms instead).
 */
export function fuseDelta(base: Dictionary, delta: Dictionary, alpha = 1): Dictionary {
  if (base.activation.type === "topk" || delta.activation.type === "topk") throw new RangeError("TopK dictionaries cannot be fused into one (the union's top k differs); splice base and delta as two terms");
  if (base.activation.type !== delta.activation.type) throw new RangeError(`cannot fuse a ${base.activation.type} base with a ${delta.activation.type} delta`);
  if (base.hookIn !== delta.hookIn || base.hookOut !== delta.hookOut || base.dIn !== delta.dIn || base.dOut !== delta.dOut) throw new RangeError("base and delta must share their site and sizes");
  if (base.b_in || delta.b_in) throw new RangeError("dictionaries with an input bias cannot be fused (each centres its input differently)");
  const { dIn, dOut } = base;
  const d = base.dSae + delta.dSae;
  const W_enc = new Float32Array(dIn * d);
  for (let i = 0; i < dIn; i++) {
    W_enc.set(base.W_enc.data.subarray(i * base.dSae, (i + 1) * base.dSae), i * d);
    W_enc.set(delta.W_enc.data.subarray(i * delta.dSae, (i + 1) * delta.dSae), i * d + base.dSae);
  }
  const W_dec = new Float32Array(d * dOut);
  W_dec.set(base.W_dec.data);
  W_dec.set(delta.W_dec.data.map((v) => v * alpha), base.dSae * dOut);
  const cat = (a?: Float32Array, b?: Float32Array) => {
    const out = new Float32Array(d);
    if (a) out.set(a);
    if (b) out.set(b, base.dSae);
    return out;
  };
  const fused: Dictionary = {
    kind: "transcoder",
    hookIn: base.hookIn,
    hookOut: base.hookOut,
    dIn,
    dSae: d,
    dOut,
    activation: base.activation,
    W_enc: { shape: [dIn, d], data: W_enc },
    W_dec: { shape: [d, dOut], data: W_dec },
    b_enc: { shape: [d], data: cat(base.b_enc.data, delta.b_enc.data) },
    b_dec: { shape: [dOut], data: base.b_dec.data.map((v, k) => v + alpha * delta.b_dec.data[k]!) },
    info: { method: "fused-delta-transcoder", alpha, base: base.info ?? null, delta: delta.info ?? null },
  };
  if (base.activation.type === "jumprelu") fused.threshold = { shape: [d], data: cat(base.threshold!.data, delta.threshold!.data) };
  return fused;
}
