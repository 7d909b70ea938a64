/**
 * The unembedding, padded to a multiple of 64 columns.
 *
 * Why: a matmul against GPT-2's 50257 columns ran ~10× slower than against 50304 on the Wasm
 * backend (ENGINE-NOTES.md "Odd sizes are slow"). Zero columns are appended to W_U (and b_U), the
 * padded logits are computed, and the real columns gathered back (see `unembed`), or, with
 * ForwardOptions.paddedLogits, kept and masked to PAD_LOGIT. A Model keeps the padded matrix for
 * its own parameters (`prepareUnembed`, model.ts), so forward() and apply() with the model's own
 * W_E / W_U pay the padding once; apply() with other arrays (a traced W_E under `grad`) pads on
 * the fly, which stays differentiable (the gradient of the padding is a slice).
 */
import { numpy as np } from "@jax-js/jax";
import type { Arr, ModelConfig, Params } from "./types.js";

export const VOCAB_ALIGN = 64;

export function paddedVocab(vocab: number): number {
  return Math.ceil(vocab / VOCAB_ALIGN) * VOCAB_ALIGN;
}

export interface Unembed {
  /** [d_model, padded vocab] as column blocks: one, or several where WebGPU splits the vocabulary (vocab-split.ts). */
  W: Arr[];
  /** [padded vocab] */
  b?: Arr;
}

/** New references to every array of `u` (for a consumer that takes ownership). */
export function borrowUnembed(u: Unembed): Unembed {
  return { W: u.W.map((w) => w.ref), ...(u.b ? { b: u.b.ref } : {}) };
}

/**
 * Padded W_U / b_U built from borrowed params (tied → W_Eᵀ). The result is owned by the caller.
 * `blocks` (consumed): the vocabulary matrix already cut along the vocabulary (vocab-split.ts:
 * W_E row blocks when tied, W_U column blocks otherwise) instead of the whole one.
 */
export function prepareUnembed(config: ModelConfig, params: Params, blocks?: Arr[]): Unembed {
  const source = config.tiedEmbeddings ? params["embed.W_E"]! : params["unembed.W_U"]!;
  const W = unembedBlocks(config, blocks ?? [source.ref]);
  const b = paddedBias(config, params);
  return b ? { W, b } : { W };
}

/** Blocks of the vocabulary matrix (consumed) → the padded unembedding's column blocks [d_model, n]: zero padding on the last, tied ones transposed. */
function unembedBlocks(config: ModelConfig, blocks: Arr[]): Arr[] {
  const pad = paddedVocab(config.vocabSize) - config.vocabSize;
  const d = config.dModel;
  return blocks.map((b, i) => {
    const last = i === blocks.length - 1 && pad > 0;
    // `.add(0)` materialises the transpose: a matmul against a transposed view ran ~4× slower.
    if (config.tiedEmbeddings) return (last ? np.concatenate([b, np.zeros([pad, d])], 0) : b).transpose().add(0);
    return last ? np.concatenate([b, np.zeros([d, pad])], 1) : b;
  });
}

/** b_U (borrowed) padded like the unembedding, or undefined without one. Owned by the caller. */
function paddedBias(config: ModelConfig, params: Params): Arr | undefined {
  const bU = params["unembed.b_U"];
  const pad = paddedVocab(config.vocabSize) - config.vocabSize;
  return bU ? (pad ? np.concatenate([bU.ref, np.zeros([pad])], 0) : bU.ref) : undefined;
}

/**
 * Added to the padding columns of `paddedLogits` results: far below any real logit, so softmax,
 * logsumexp and argmax ignore them (exp underflows to exactly 0), yet finite, so 0 · it stays 0
 * in a one-hot product and no NaN can appear.
 */
export const PAD_LOGIT = -1e9;

/** [padded vocab] row: 0 for real columns, PAD_LOGIT for the padding. */
function padMask(vocab: number, padded: number): Arr {
  const m = new Float32Array(padded);
  m.fill(PAD_LOGIT, vocab);
  return np.array(m);
}

/**
 * logits from the final normalised stream x (consumed); `u` consumed. [batch, pos, vocab], or,
 * with `padded`, [batch, pos, paddedVocab(vocab)] with the padding columns set to PAD_LOGIT.
 */
export function unembed(config: ModelConfig, x: Arr, u: Unembed, padded = false): Arr {
  let logits = u.W.length === 1 ? np.matmul(x, u.W[0]!) : np.concatenate(u.W.map((w) => np.matmul(x.ref, w)), 2);
  if (u.W.length > 1) x.dispose();
  if (u.b) logits = logits.add(u.b);
  if (config.finalLogitSoftcap) {
    const cap = config.finalLogitSoftcap;
    logits = np.tanh(logits.div(cap)).mul(cap);
  }
  const V = config.vocabSize;
  if (logits.shape[2] === V) return logits;
  // Adding exactly 0 leaves the real columns bit-identical; the gradient of an add is the identity,
  // so under `grad` the backward matmuls read a plain dense cotangent (fast), unlike the gather's.
  if (padded) return logits.add(padMask(V, logits.shape[2]!));
  // A gather of the first V columns rather than a slice: the same forward cost, but the gradient
  // of a slice (a lazy pad feeding the backward matmuls) made fwd+bwd of GPT-2 small 7.0 s instead
  // of 3.9 s here; the gather's gradient is a materialised scatter.
  return np.take(logits, np.arange(0, V, 1, { dtype: np.int32 }), 2);
}
