/**
 * From datasets to steering vectors and probes, per layer. Activations come from an
 * `ActivationSource`: in memory (`memorySource`, browser-safe) or the content-addressed disk cache
 * (steer/activation-cache-node.ts `diskSource`), so fitting code does not care whether a second request
 * is free.
 *
 * - Contrastive A/B items (CAA format): activations at the answer letter of the matching and of
 *   the non-matching answer → CAA (paired mean difference) or PCA vectors (vectors.ts).
 * - Labelled prompts (e.g. the fact world's StyledPrompt[], label = cue): activations at the last
 *   prompt token → mean-difference vectors and logistic-regression probes (probe.ts).
 */
import type { Model } from "../model/types.js";
import { abScoringRow, tokenizeAnswer, type ABFormat, type ABItem } from "./ab-data.js";
import { collectActivations, MemorySink, type CollectItem } from "./collect.js";
import { residHook } from "./apply.js";
import { evaluateProbe, probeDirection, type LayerProbeResult, type ProbeOptions } from "./probe.js";
import { caaVector, meanDifferenceVector, pcaVector, pickRows, type Matrix } from "./vectors.js";
import type { Splits } from "./splits.js";

/** Activations of `items` at `hooks`: hook → [rows × width]. `dataset` names the data for caching. */
export type ActivationSource = (dataset: string, items: readonly CollectItem[], hooks: readonly string[]) => Promise<Record<string, Matrix>>;

/** Collect in memory (no cache). `onPasses` counts forward passes. */
export function memorySource(model: Model, onPasses?: (n: number) => void): ActivationSource {
  return async (_dataset, items, hooks) => {
    const sink = new MemorySink();
    const n = await collectActivations(model, items, hooks, sink);
    onPasses?.(n);
    const out: Record<string, Matrix> = {};
    for (const h of hooks) {
      const m = sink.matrix(h);
      out[h] = { data: m.data, rows: m.count, cols: m.width };
    }
    return out;
  };
}

export type ContrastMethod = "caa" | "pca";

/** The collect items of A/B pairs: matching answers first, then non-matching, each read at the letter. */
export function contrastItems(model: Model, items: readonly ABItem[], format: ABFormat = {}): CollectItem[] {
  const side = (key: "answer_matching_behavior" | "answer_not_matching_behavior") =>
    items.map((it) => {
      const t = tokenizeAnswer(model.tokenizer, it.question, it[key], format);
      return { tokens: t.tokens, select: { kind: "at", pos: t.letterPos } } as CollectItem;
    });
  return [...side("answer_matching_behavior"), ...side("answer_not_matching_behavior")];
}

/** Steering vectors per layer (hook blocks.L.hook_resid_post) from contrastive A/B pairs. */
export async function fitContrastVectors(
  model: Model,
  items: readonly ABItem[],
  layers: readonly number[],
  method: ContrastMethod,
  source: ActivationSource,
  dataset: string,
  format: ABFormat = {},
): Promise<Record<number, Float32Array>> {
  const hooks = layers.map(residHook);
  const acts = await source(dataset, contrastItems(model, items, format), hooks);
  const n = items.length;
  const out: Record<number, Float32Array> = {};
  layers.forEach((l, j) => {
    const m = acts[hooks[j]!]!;
    const pos = pickRows(m, Array.from({ length: n }, (_, i) => i));
    const neg = pickRows(m, Array.from({ length: n }, (_, i) => n + i));
    out[l] = method === "caa" ? caaVector(pos, neg) : pcaVector(pos, neg);
  });
  return out;
}

export interface LabelledPrompt {
  prompt: string;
  label: 0 | 1;
}

export interface ProbeLayerReport extends LayerProbeResult {
  layer: number;
  /** The probe's direction, scaled as a steering vector (probe.ts probeDirection; fitted on train). */
  direction: Float32Array;
  /** Difference of the class means on train (the mean-difference steering vector). */
  meanDifference: Float32Array;
}

/** Probes per layer on activations at each prompt's last token, fitted on train, scored on val and test. */
export async function fitProbes(
  model: Model,
  data: readonly LabelledPrompt[],
  layers: readonly number[],
  splits: Splits,
  source: ActivationSource,
  dataset: string,
  options: ProbeOptions & { addSpecialTokens?: boolean } = {},
): Promise<ProbeLayerReport[]> {
  const hooks = layers.map(residHook);
  const items: CollectItem[] = data.map((d) => ({ tokens: model.tokenizer.encode(d.prompt, { addSpecialTokens: options.addSpecialTokens ?? true }).ids, select: { kind: "last" } }));
  const acts = await source(dataset, items, hooks);
  const labels = data.map((d) => d.label);
  return layers.map((layer, j) => {
    const m = acts[hooks[j]!]!;
    const res = evaluateProbe(hooks[j]!, m, labels, splits, options);
    const tr = pickRows(m, splits.train);
    const trLabels = splits.train.map((i) => labels[i]!);
    const pos = pickRows(m, splits.train.filter((i) => labels[i] === 1));
    const neg = pickRows(m, splits.train.filter((i) => labels[i] === 0));
    return { ...res, layer, direction: probeDirection(res.probe, tr, trLabels), meanDifference: meanDifferenceVector(pos, neg) };
  });
}

export { abScoringRow };
