/**
 * Reading a dictionary's feature activations while a model runs: `withFeatureReader` gives a view
 * of the model whose every forward pass — a scoring pass, or each step of generate() — hands the
 * features f = σ((x − b_in)·W_enc + b_enc) of the activation at the dictionary's input hook to a
 * callback, with the pass's positions (so a generation step's features arrive with their absolute
 * position). The activation itself passes through unchanged; to change features, splice the
 * dictionary with feature edits (model/modules/dictionary-splice.ts). `featureActivations` is the
 * one-shot form for a batch of token rows.
 */
import type { Dictionary } from "../model/modules/dictionary.js";
import { dictionaryArrays, encode } from "../model/modules/dictionary-math.js";
import type { HookContext, Model } from "../model/types.js";
import { withHooks } from "../model/with-hooks.js";
import { disposeTree, readF32Sync } from "../tensor/own.js";

export interface FeatureRead {
  /** [batch × pos × d_sae] row-major. */
  features: Float32Array;
  batch: number;
  positions: number[];
}

export function withFeatureReader(model: Model, dictionary: Dictionary, onFeatures: (read: FeatureRead, ctx: HookContext) => void): Model {
  return withHooks(model, {
    [dictionary.hookIn]: (x, ctx) => {
      const w = dictionaryArrays(dictionary);
      const f = encode(x.ref, w, dictionary.activation);
      disposeTree(w);
      onFeatures({ features: readF32Sync(f), batch: x.shape[0]!, positions: ctx.positions }, ctx);
      return x;
    },
  });
}

/** Feature activations [rows][pos][d_sae] of equal-length token rows. */
export function featureActivations(model: Model, dictionary: Dictionary, tokens: number[][]): Float32Array[][] {
  let read: FeatureRead | undefined;
  const viewed = withFeatureReader(model, dictionary, (r) => (read = r));
  const { logits, cache } = viewed.forward(tokens, { stopAt: dictionary.hookIn });
  logits?.dispose();
  disposeTree(cache);
  const { features, batch, positions } = read!;
  const d = dictionary.dSae;
  return Array.from({ length: batch }, (_, b) => positions.map((_, p) => features.slice((b * positions.length + p) * d, (b * positions.length + p + 1) * d)));
}
