/**
 * How good a dictionary is, by SAELens' evaluation definitions (sae_lens/evals.py):
 *
 * - MSE: mean over tokens of ‖ŷ − y‖² (summed over the d_out dimensions).
 * - explained variance: 1 − Σ‖ŷ − y‖² / Σ‖y − ȳ‖² over the evaluation tokens.
 * - L0: mean number of features with f > 0 per token.
 * - dead fraction: features that never fire on the evaluation tokens.
 * - CE loss recovered ("ce_loss_score"): (CE_zero − CE_spliced) / (CE_zero − CE_clean), where
 *   CE_clean is the model's mean next-token loss, CE_spliced the loss with the reconstruction in
 *   place of hookOut's value, and CE_zero the loss with hookOut's value zero-ablated.
 * - ΔCE ("ce_loss_with_sae − ce_loss_without_sae"): CE_spliced − CE_clean.
 *
 * CE is the mean next-token negative log-likelihood over every position of the rows (each row's
 * first token is context only).
 */
import { numpy as np } from "@jax-js/jax";
import { tokenLogprobs } from "../eval/logprobs.js";
import { applyPatch, type ModulePatch } from "../model/patch.js";
import type { Dictionary } from "../model/modules/dictionary.js";
import type { DictionarySplice } from "../model/modules/dictionary-splice.js";
import { decode, dictionaryArrays, encode } from "../model/modules/dictionary-math.js";
import type { Model } from "../model/types.js";
import { withHooks } from "../model/with-hooks.js";
import { disposeTree, readF32 } from "../tensor/own.js";

export interface ReconstructionMetrics {
  mse: number;
  explainedVariance: number;
  l0: number;
  deadFraction: number;
  tokens: number;
}

export interface SpliceMetrics {
  ceClean: number;
  ceSpliced: number;
  ceZeroAblation: number;
  ceLossRecovered: number;
  deltaCE: number;
}

/** A dictionary splice patch (the reconstruction replaces hookOut), optionally with more terms (delta transcoders). */
export function splicePatch(terms: DictionarySplice["terms"], options: { keepError?: boolean; edits?: DictionarySplice["edits"] } = {}): ModulePatch {
  const module: DictionarySplice = { kind: "dictionary-splice", terms, keepError: options.keepError ?? false, ...(options.edits ? { edits: options.edits } : {}) };
  return { type: "module", info: { method: "dictionary-splice", dictionaries: terms.map((t) => t.dictionary.info ?? null), scales: terms.map((t) => t.scale) }, module };
}

/** Reconstruction metrics of Σ_t s_t · dictionary_t on `rows` (the terms share one site). */
export async function reconstructionMetrics(model: Model, terms: DictionarySplice["terms"], rows: readonly number[][], batchRows = 16): Promise<ReconstructionMetrics> {
  const { hookIn, hookOut } = terms[0]!.dictionary;
  const fired = new Uint8Array(terms.reduce((s, t) => s + t.dictionary.dSae, 0));
  let sse = 0;
  let sum: Float64Array | undefined;
  let sumSq = 0;
  let active = 0;
  let tokens = 0;
  for (let i = 0; i < rows.length; i += batchRows) {
    const batch = rows.slice(i, i + batchRows);
    const L = Math.min(...batch.map((r) => r.length));
    const { cache, logits } = model.forward(batch.map((r) => r.slice(0, L)), { cache: [hookIn, hookOut] });
    logits?.dispose();
    const d = terms[0]!.dictionary;
    const x = cache[hookIn]!.ref.reshape([-1, d.dIn]);
    const y = await readF32(cache[hookOut]!.ref.reshape([-1, d.dOut]));
    disposeTree(cache);
    const n = y.length / d.dOut;
    let yHat: Float32Array | undefined;
    let offset = 0;
    for (const t of terms) {
      if (t.scale === 0) {
        offset += t.dictionary.dSae;
        continue;
      }
      const w = dictionaryArrays(t.dictionary);
      const f = encode(x.ref, w, t.dictionary.activation);
      const fh = await readF32(f.ref);
      const r = await readF32(decode(f, w).mul(t.scale));
      disposeTree(w);
      for (let k = 0; k < fh.length; k++) {
        if (fh[k]! > 0) {
          active++;
          fired[offset + (k % t.dictionary.dSae)] = 1;
        }
      }
      if (!yHat) yHat = r;
      else for (let k = 0; k < r.length; k++) yHat[k]! += r[k]!;
      offset += t.dictionary.dSae;
    }
    x.dispose();
    sum ??= new Float64Array(d.dOut);
    for (let k = 0; k < y.length; k++) {
      const e = (yHat?.[k] ?? 0) - y[k]!;
      sse += e * e;
      sum[k % d.dOut]! += y[k]!;
      sumSq += y[k]! * y[k]!;
    }
    tokens += n;
  }
  // Σ‖y − ȳ‖² = Σ‖y‖² − N‖ȳ‖².
  const meanSq = sum!.reduce((s, v) => s + (v / tokens) ** 2, 0);
  const variance = sumSq - tokens * meanSq;
  return { mse: sse / tokens, explainedVariance: 1 - sse / variance, l0: active / tokens, deadFraction: 1 - fired.reduce((a, b) => a + b, 0) / fired.length, tokens };
}

/** Mean next-token NLL of `model` over `rows`. */
export async function meanCE(model: Model, rows: readonly number[][], batchRows = 16): Promise<number> {
  let total = 0;
  let count = 0;
  for (let i = 0; i < rows.length; i += batchRows) {
    const batch = rows.slice(i, i + batchRows);
    const L = Math.min(...batch.map((r) => r.length));
    const inputs = batch.map((r) => r.slice(0, L - 1));
    const targets = batch.map((r) => r.slice(1, L));
    const { logits, cache } = model.forward(inputs, { paddedLogits: true });
    disposeTree(cache);
    const { logprobs, greedy } = tokenLogprobs(logits!, np.array(targets, { dtype: np.int32 }));
    greedy.dispose();
    total -= (await readF32(logprobs.sum()))[0]!;
    count += inputs.length * (L - 1);
  }
  return total / count;
}

/** CE with the splice in place, with hookOut zero-ablated and clean, and the SAELens scores. */
export async function spliceMetrics(model: Model, terms: DictionarySplice["terms"], rows: readonly number[][], clean?: number): Promise<SpliceMetrics> {
  const hookOut = terms[0]!.dictionary.hookOut;
  const ceClean = clean ?? (await meanCE(model, rows));
  const ceSpliced = await meanCE(applyPatch(model, splicePatch(terms)), rows);
  const ceZeroAblation = await meanCE(withHooks(model, { [hookOut]: (x) => np.zerosLike(x) }), rows);
  return { ceClean, ceSpliced, ceZeroAblation, ceLossRecovered: (ceZeroAblation - ceSpliced) / (ceZeroAblation - ceClean), deltaCE: ceSpliced - ceClean };
}

/** The dictionary as the only term of a splice. */
export const single = (dictionary: Dictionary): DictionarySplice["terms"] => [{ dictionary, scale: 1 }];
