/**
 * Next-token choice from one row of logits: greedy, or sampling after Hugging Face's logits
 * warpers, with an explicit seeded PRNG (DESIGN.md: "Randomness is explicit").
 *
 * Runs on host arrays (one [vocab] row per sequence): a row is ~200 KB for a 50k vocabulary,
 * so reading it and warping in JS costs far less than a forward pass, and keeps the sampler
 * exact (float64) and identical in Node and in the browser.
 *
 * Semantics follow transformers' generation/logits_process.py:
 * - order of warpers as in GenerationMixin._get_logits_processor: temperature, top-k, top-p;
 * - TopKLogitsWarper: keep tokens whose score ≥ the k-th largest score (ties at the k-th value
 *   kept), k = min(max(k, min_tokens_to_keep), vocab);
 * - TopPLogitsWarper: sort ascending, cumulative softmax; drop tokens whose cumulative
 *   probability ≤ 1 − p, always keep the min_tokens_to_keep most likely. That is the smallest
 *   set of most likely tokens whose probability sums to ≥ p.
 * Removed tokens get −∞ (HF's filter_value), so softmax gives them probability 0.
 */

import type { Rng } from "../util/rng.js";

export interface SamplingOptions {
  /** > 0 divides the logits before the warpers. 0 means greedy. */
  temperature?: number;
  /** Keep the k most likely tokens (HF top_k). */
  topK?: number;
  /** Keep the smallest set of most likely tokens with cumulative probability ≥ p (HF top_p). */
  topP?: number;
  /** Never filter below this many tokens (HF min_tokens_to_keep). */
  minTokensToKeep?: number;
}

/**
 * Greedy unless sampling was asked for: temperature > 0, or top-k/top-p given (then at
 * temperature 1). temperature 0 is greedy whatever else is set (argmax survives every warper).
 */
export function isSampling(o: SamplingOptions): boolean {
  if (o.temperature !== undefined) return o.temperature > 0;
  return o.topK !== undefined || o.topP !== undefined;
}

/** Validate like HF's warper constructors; throws RangeError naming the option. */
export function checkSamplingOptions(o: SamplingOptions): void {
  if (o.temperature !== undefined && !(o.temperature >= 0 && Number.isFinite(o.temperature))) {
    throw new RangeError(`temperature must be a finite number ≥ 0 (0 = greedy), got ${o.temperature}`);
  }
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK > 0)) {
    throw new RangeError(`topK must be a positive integer, got ${o.topK}`);
  }
  if (o.topP !== undefined && !(o.topP >= 0 && o.topP <= 1)) {
    throw new RangeError(`topP must be in [0, 1], got ${o.topP}`);
  }
  if (o.minTokensToKeep !== undefined && !(Number.isInteger(o.minTokensToKeep) && o.minTokensToKeep >= 1)) {
    throw new RangeError(`minTokensToKeep must be a positive integer, got ${o.minTokensToKeep}`);
  }
}

/** Index of the largest score; the first one on ties (as torch.argmax). */
export function argmax(scores: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  return best;
}

/** HF TemperatureLogitsWarper: scores / temperature (a new float64 row). */
export function applyTemperature(scores: ArrayLike<number>, temperature: number): Float64Array {
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = scores[i]! / temperature;
  return out;
}

/** HF TopKLogitsWarper, in place: scores below the k-th largest become −∞. */
export function topKFilter(scores: Float64Array, k: number, minTokensToKeep = 1): Float64Array {
  const kk = Math.min(Math.max(k, minTokensToKeep), scores.length);
  if (kk >= scores.length) return scores;
  const sorted = Float64Array.from(scores).sort(); // ascending; −∞ first
  const kth = sorted[scores.length - kk]!;
  for (let i = 0; i < scores.length; i++) if (scores[i]! < kth) scores[i] = -Infinity;
  return scores;
}

/** HF TopPLogitsWarper, in place (see the file comment for the exact rule). */
export function topPFilter(scores: Float64Array, p: number, minTokensToKeep = 1): Float64Array {
  const n = scores.length;
  // Ascending by score; ties by index so the order (and thus the result) is deterministic.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]! || a - b);
  const probs = softmax(scores);
  let cum = 0;
  for (let r = 0; r < n - minTokensToKeep; r++) {
    const i = order[r]!;
    cum += probs[i]!;
    if (cum <= 1 - p) scores[i] = -Infinity;
    else break; // cumulative sums only grow: nothing later is removed
  }
  return scores;
}

/** Numerically stable softmax in float64; −∞ entries get probability 0. */
export function softmax(scores: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) if (scores[i]! > max) max = scores[i]!;
  const out = new Float64Array(scores.length);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    const e = scores[i] === -Infinity ? 0 : Math.exp(scores[i]! - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/** Temperature, top-k, top-p in HF's order: the warped scores (−∞ for removed tokens). */
export function warpLogits(logits: ArrayLike<number>, o: SamplingOptions): Float64Array {
  const keep = o.minTokensToKeep ?? 1;
  const t = o.temperature ?? 1;
  const scores = t === 1 ? Float64Array.from(logits) : applyTemperature(logits, t);
  if (o.topK !== undefined) topKFilter(scores, o.topK, keep);
  if (o.topP !== undefined && o.topP < 1) topPFilter(scores, o.topP, keep);
  return scores;
}

/** Draw an index from `probs` (summing to ~1) by inverse CDF with one uniform in [0, 1). */
export function sampleIndex(probs: ArrayLike<number>, u: number): number {
  let total = 0;
  for (let i = 0; i < probs.length; i++) total += probs[i]!;
  const target = u * total;
  let cum = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    if (p <= 0) continue;
    cum += p;
    last = i;
    if (cum > target) return i;
  }
  return last; // rounding left u*total at the very top: the last token with mass
}

/** Choose the next token from one row of logits. `rng` is needed only when sampling. */
export function chooseToken(logits: ArrayLike<number>, o: SamplingOptions, rng?: Rng): number {
  if (!isSampling(o)) return argmax(logits);
  if (!rng) throw new Error("chooseToken: sampling needs a seeded Rng");
  return sampleIndex(softmax(warpLogits(logits, o)), rng.random());
}

