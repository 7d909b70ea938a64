/**
 * Reading what a model predicts, for the web lab and for analysis code: the next-token
 * distribution, the logit lens and attention patterns. Browser-safe.
 *
 * Logit lens (nostalgebraist 2020, "interpreting GPT: the logit lens"; TransformerLens'
 * `accumulated_resid` + `apply_ln_to_stack`): the residual stream after each block is read out as
 * if it were the last one, logits_l = ln_final(resid_l) · W_U + b_U (with the model's own final
 * norm, unembedding and soft-cap: the same functions the forward pass uses), so the row of the
 * last block equals the model's own logits. Row 0 is the embedding (resid_pre of block 0).
 */
import { disposeTree, readF32 } from "../tensor/own.js";
import { applyNorm } from "./norms.js";
import { softmax } from "./sampling.js";
import type { Arr, Model } from "./types.js";
import { borrowUnembed, unembed, type Unembed } from "./unembed.js";
import { unembedWeights } from "./vocab-split.js";

export interface TokenProb {
  id: number;
  /** The token decoded on its own (GPT-2's "Ġthe" shows as " the"). */
  token: string;
  prob: number;
}

/** The k most probable entries of a probability row, most probable first (ties: lower id first). */
export function topK(model: Model, probs: ArrayLike<number>, k: number): TokenProb[] {
  const best: number[] = [];
  for (let i = 0; i < probs.length; i++) {
    if (best.length === k && probs[i]! <= probs[best[k - 1]!]!) continue;
    let j = best.length === k ? k - 1 : best.length;
    while (j > 0 && probs[best[j - 1]!]! < probs[i]!) j--;
    best.splice(j, 0, i);
    if (best.length > k) best.pop();
  }
  return best.map((id) => ({ id, token: model.tokenizer.decode([id]), prob: probs[id]! }));
}

/** The k most probable next tokens after `ids`, with their probabilities. */
export async function topNextTokens(model: Model, ids: number[], k = 10): Promise<TokenProb[]> {
  const { logits } = model.forward([ids], { logitsPositions: "last" });
  return topK(model, softmax(await readF32(logits!)), k);
}

export interface LogitLens {
  /** The residual points read, one per row: "hook_embed"-side resid_pre of block 0, then each block's resid_post. */
  points: string[];
  /** The input tokens, decoded one by one. */
  tokens: string[];
  /** [point][position] → the k most probable next tokens read out there. */
  top: TokenProb[][][];
}

/** The logit lens of `ids`: the top-k next tokens read out of the residual stream after every block. */
export async function logitLens(model: Model, ids: number[], k = 1): Promise<LogitLens> {
  const L = model.config.nLayers;
  const points = ["blocks.0.hook_resid_pre", ...Array.from({ length: L }, (_, l) => `blocks.${l}.hook_resid_post`)];
  const { cache } = model.forward([ids], { cache: points, stopAt: points.at(-1)! });
  const V = model.config.vocabSize;
  const top: TokenProb[][][] = [];
  // Built once for every point: padding (and, on WebGPU, copying vocabulary blocks) is not per readout work.
  const u = unembedWeights(model.config, model.params);
  try {
    for (const point of points) {
      const logits = await readF32(readout(model, cache[point]!, u));
      top.push(ids.map((_, t) => topK(model, softmax(logits.subarray(t * V, (t + 1) * V)), k)));
    }
  } finally {
    disposeTree(u);
  }
  return { points, tokens: ids.map((id) => model.tokenizer.decode([id])), top };
}

/** ln_final(resid) · W_U (+ b_U, soft-cap) with the model's own parameters (`u` borrowed); `resid` consumed. [1, pos, vocab]. */
function readout(model: Model, resid: Arr, u: Unembed): Arr {
  const p = model.params;
  const normed = applyNorm(model.config, resid, p["ln_final.w"]!.ref, p["ln_final.b"]?.ref);
  return unembed(model.config, normed, borrowUnembed(u));
}

export interface AttentionPatterns {
  tokens: string[];
  nHeads: number;
  /** Per layer: the pattern [head][query][key] flattened (row-major), each query row summing to 1 over keys ≤ query. */
  layers: Float32Array[];
}

/** Every layer's attention pattern (softmax of the masked scores, TransformerLens' hook_pattern) on `ids`. */
export async function attentionPatterns(model: Model, ids: number[]): Promise<AttentionPatterns> {
  const L = model.config.nLayers;
  const names = Array.from({ length: L }, (_, l) => `blocks.${l}.attn.hook_pattern`);
  const { cache } = model.forward([ids], { cache: names, stopAt: names.at(-1)! });
  const layers: Float32Array[] = [];
  for (const n of names) layers.push(await readF32(cache[n]!));
  return { tokens: ids.map((id) => model.tokenizer.decode([id])), nHeads: model.config.nHeads, layers };
}
