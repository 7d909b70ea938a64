/**
 * The steering experiments as library functions (the CLI commands `steer` and `steer-sweep` and
 * the `steer` experiment kind, lab/kinds/steer.ts, are thin layers over them). Browser-safe: data
 * comes in parsed, and activations through an ActivationSource (the Node disk cache or memory).
 *
 * - `fitSteeringVectors`: one vector per layer by method (CAA, PCA, mean difference, probe
 *   direction; DAC steers with the CAA vector), fitted on training items only;
 * - `runSteer`: one vector, steered vs unsteered continuations and the A/B score before/after;
 * - `runSteerSweep`: the steering experiment without peeking at test — (layer, α) on validation
 *   by grid or TPE with median pruning, the chosen cell once on test beside α = 0, optionally
 *   open-ended behaviour and GSM8K-style accuracy, and probes per layer.
 */
import type { Direction } from "../analysis/search/types.js";
import { generate } from "../model/generate.js";
import { applyPatch, flattenPatch, type AdditionPositions, type Patch, type PatchInfo } from "../model/patch.js";
import type { Model } from "../model/types.js";
import { abScoringRow, abTokenization, type ABFormat, type ABItem, type ABScoringRow, type OpenEndedItem } from "./ab-data.js";
import { abScore } from "./ab-score.js";
import { residHook, steerModel, steeringPatch } from "./apply.js";
import { dacGenerate } from "./dac.js";
import { contrastItems, fitContrastVectors, fitProbes, type ActivationSource, type LabelledPrompt, type ProbeLayerReport } from "./fit.js";
import { arithmeticAccuracy, extractAnswer, openEndedBehaviour, type ArithmeticItem } from "./generation-evals.js";
import { evaluateProbe, probeDirection } from "./probe.js";
import { splitIndices, take, type Splits } from "./splits.js";
import { abAt, abSearch, abSweep, selectBest, type SearchResult, type SweepCell } from "./sweep.js";
import { meanDifferenceVector, normalizeVectors, pickRows } from "./vectors.js";

export const STEER_METHODS = ["caa", "pca", "mean-diff", "probe", "dac"] as const;
export type SteerMethod = (typeof STEER_METHODS)[number];

/** One CAA behaviour's data (the CAA folder layout, read by steer/files-node.ts or any loader). */
export interface BehaviourData {
  behavior: string;
  /** Items to fit vectors on (generate_dataset.json). */
  generate: ABItem[];
  /** Held-out A/B items (test_dataset_ab.json). */
  testAB: ABItem[];
  /** Open-ended questions, empty when absent. */
  openEnded: OpenEndedItem[];
}

export interface SteerData {
  caa: BehaviourData;
  /** Labelled prompts for probes / mean-difference vectors (the fact world's behaviour.json), when available. */
  labelled?: LabelledPrompt[];
  /** Names the labelled prompts in activation-cache keys. */
  labelledFile?: string;
}

export interface FitOptions {
  /** How A/B items become model text (ab-data.ts; default plain). */
  format?: ABFormat;
  /**
   * CAA's normalisation (vectors.ts normalizeVectors, nrimsky/CAA normalize_vectors.py): rescale
   * the vector at each layer to the mean norm of the vectors of these behaviours and this one.
   * Each other behaviour's vector is fitted with the same method on its whole generate set, from
   * its A/B items (a behaviour listed here under this one's name is skipped). Absent or empty: no
   * rescaling.
   */
  normalizeWith?: readonly BehaviourData[];
}

/** What normalisation did, for results: the behaviours it averaged over, and per layer the mean norm and this vector's norm before. */
export interface Normalization {
  behaviors: string[];
  meanNorm: Record<number, number>;
  rawNorm: Record<number, number>;
}

/**
 * A steering vector per layer by `method`, fitted on `trainItems` (A/B) or on the labelled prompts'
 * train split (mean-diff, probe; with no labelled prompts, the A/B answer-letter activations labelled
 * matching = 1 / not = 0 are used). DAC uses the CAA vector. With `options.normalizeWith`, rescaled
 * as CAA's normalize_vectors.py (the report says to what).
 */
export async function fitSteeringVectorsReport(model: Model, data: SteerData, method: SteerMethod, layers: readonly number[], source: ActivationSource, seed: number, trainItems: readonly ABItem[] = data.caa.generate, options: FitOptions = {}): Promise<{ vectors: Record<number, Float32Array>; normalization?: Normalization }> {
  const vectors = await fitRaw(model, data, method, layers, source, seed, trainItems, options.format ?? {});
  const others = (options.normalizeWith ?? []).filter((b) => b.behavior !== data.caa.behavior);
  if (!options.normalizeWith || options.normalizeWith.length === 0) return { vectors };
  const set: Record<string, Record<number, Float32Array>> = { [data.caa.behavior]: vectors };
  for (const b of others) set[b.behavior] = await fitRaw(model, { caa: b }, method, layers, source, seed, b.generate, options.format ?? {});
  const r = normalizeVectors(set);
  return { vectors: r.vectors[data.caa.behavior]!, normalization: { behaviors: Object.keys(set), meanNorm: r.meanNorm, rawNorm: r.norms[data.caa.behavior]! } };
}

/** fitSteeringVectorsReport's vectors alone. */
export async function fitSteeringVectors(model: Model, data: SteerData, method: SteerMethod, layers: readonly number[], source: ActivationSource, seed: number, trainItems: readonly ABItem[] = data.caa.generate, options: FitOptions = {}): Promise<Record<number, Float32Array>> {
  return (await fitSteeringVectorsReport(model, data, method, layers, source, seed, trainItems, options)).vectors;
}

async function fitRaw(model: Model, data: SteerData, method: SteerMethod, layers: readonly number[], source: ActivationSource, seed: number, trainItems: readonly ABItem[], format: ABFormat): Promise<Record<number, Float32Array>> {
  if (method === "caa" || method === "pca" || method === "dac") {
    return fitContrastVectors(model, trainItems, [...layers], method === "pca" ? "pca" : "caa", source, `${data.caa.behavior}/generate`, format);
  }
  const out: Record<number, Float32Array> = {};
  if (data.labelled) {
    const split = splitIndices(data.labelled.length, seed);
    const reports = await fitProbes(model, data.labelled, [...layers], split, source, `labelled:${data.labelledFile}`);
    for (const r of reports) out[r.layer] = method === "probe" ? r.direction : r.meanDifference;
    return out;
  }
  // No labelled prompts: the answer-letter activations of the A/B pairs, labelled by matching.
  const hooks = layers.map(residHook);
  const acts = await source(`${data.caa.behavior}/generate`, contrastItems(model, trainItems, format), hooks);
  const n = trainItems.length;
  const labels = [...new Array(n).fill(1), ...new Array(n).fill(0)] as number[];
  const all = Array.from({ length: 2 * n }, (_, i) => i);
  for (const [j, l] of layers.entries()) {
    const m = acts[hooks[j]!]!;
    if (method === "probe") {
      const r = evaluateProbe(hooks[j]!, m, labels, { train: all, val: [], test: [] });
      out[l] = probeDirection(r.probe, m, labels);
    } else out[l] = meanDifferenceVector(pickRows(m, all.slice(0, n)), pickRows(m, all.slice(n)));
  }
  return out;
}

// ---- one vector: scalpel steer ----

export interface SteerOptions {
  method: SteerMethod;
  layer: number;
  alpha: number;
  positions: AdditionPositions;
  prompts: string[];
  maxNewTokens: number;
  /** DAC: nucleus of the KL. */
  topP: number;
  /** Split seed for probe / mean-diff fitting. */
  seed: number;
  source: ActivationSource;
  /** Steer with this patch instead of fitting a vector (method, layer and alpha are then ignored). */
  patch?: Patch;
  /** Recorded in the patch's info (code version, model hash, data folder …). */
  info?: Partial<PatchInfo> & Record<string, unknown>;
  /** How A/B items become model text, for fitting and for the A/B score (default plain). */
  format?: ABFormat;
  /** Rescale the fitted vector as CAA's normalize_vectors.py across these behaviours (FitOptions.normalizeWith). */
  normalizeWith?: readonly BehaviourData[];
}

export interface SteerResult {
  patch: Patch;
  /** ‖v‖ of the first addition, its α and positions. */
  vectorNorm: number;
  hooks: string[];
  alpha: number;
  positions: string;
  unsteered: string[];
  steered: string[];
  /** DAC: the strength chosen at each generated token, per prompt. */
  dacAlphas?: string[];
  /** The behaviour's A/B score on its test items without and with steering (not for fitted DAC). */
  ab?: { before: number; after: number };
  /** The A/B tokenisation used (ab-data.ts abTokenization). */
  tokenization: Record<string, unknown>;
  /** Present when the fitted vector was normalised across behaviours. */
  normalization?: Normalization;
}

export async function runSteer(model: Model, data: SteerData, o: SteerOptions): Promise<SteerResult> {
  let patch = o.patch;
  const format = o.format ?? {};
  let normalization: Normalization | undefined;
  if (!patch) {
    const fitted = await fitSteeringVectorsReport(model, data, o.method, [o.layer], o.source, o.seed, data.caa.generate, { format, normalizeWith: o.normalizeWith });
    const vectors = fitted.vectors;
    normalization = fitted.normalization;
    const info = { method: o.method, description: `${o.method} vector for '${data.caa.behavior}' at ${residHook(o.layer)}`, tokenization: abTokenization(format), normalize: normalization ? normalization.behaviors : false, ...o.info };
    patch = steeringPatch({ vectors: { [residHook(o.layer)]: vectors[o.layer]! }, alpha: o.alpha, positions: o.positions, info });
  }
  const additions = flattenPatch(patch).flatMap((p) => (p.type === "activations" ? p.additions : []));
  const plain = await generate(model, o.prompts, { maxNewTokens: o.maxNewTokens });
  const fittedDac = o.method === "dac" && !o.patch;
  let steered: string[];
  let dacAlphas: string[] | undefined;
  if (fittedDac) {
    steered = [];
    dacAlphas = [];
    for (const p of o.prompts) {
      const r = await dacGenerate(model, p, [{ hook: residHook(o.layer), vector: additions[0]!.vector, alphaMax: o.alpha }], { maxNewTokens: o.maxNewTokens, topP: o.topP });
      steered.push(r.text);
      dacAlphas.push(r.alphas.map((a) => a[0]!.toFixed(2)).join(" "));
    }
  } else {
    steered = (await generate(steerModel(model, patch), o.prompts, { maxNewTokens: o.maxNewTokens })).texts;
  }
  let ab: SteerResult["ab"];
  if (!fittedDac) {
    const rows = data.caa.testAB.map((it) => abScoringRow(model.tokenizer, it, format));
    ab = { before: (await abScore(model, rows)).score, after: (await abScore(steerModel(model, patch), rows)).score };
  }
  return {
    patch,
    vectorNorm: additions.length ? Math.hypot(...additions[0]!.vector) : 0,
    hooks: additions.map((a) => a.hook),
    alpha: additions[0]?.alpha ?? o.alpha,
    positions: additions[0]?.positions ?? o.positions,
    unsteered: plain.texts,
    steered,
    ...(dacAlphas ? { dacAlphas } : {}),
    ...(ab ? { ab } : {}),
    tokenization: abTokenization(format),
    ...(normalization ? { normalization } : {}),
  };
}

// ---- the sweep: scalpel steer-sweep ----

export interface SteerSweepOptions {
  method: Exclude<SteerMethod, "dac">;
  layers: number[];
  alphas: number[];
  positions: AdditionPositions;
  search: "grid" | "tpe";
  /** TPE trials. */
  trials: number;
  /** Share of the generate set held out for validation. */
  valFraction: number;
  /** Split and search seed. */
  seed: number;
  direction: Direction;
  source: ActivationSource;
  /** Open-ended behaviour on the first n open-ended questions, judged by the first word. */
  openEnded?: { n: number; marker: string };
  /** GSM8K-style accuracy on these problems, unsteered vs steered. */
  gsm8k?: ArithmeticItem[];
  probes: boolean;
  /** Recorded in the chosen patch's info. */
  info?: Partial<PatchInfo> & Record<string, unknown>;
  /** How A/B items become model text, for fitting and scoring (default plain). */
  format?: ABFormat;
  /** Rescale the vectors as CAA's normalize_vectors.py across these behaviours (FitOptions.normalizeWith). */
  normalizeWith?: readonly BehaviourData[];
}

export interface SteerSweepResult {
  split: Splits;
  counts: { train: number; val: number; test: number };
  validation: SweepCell[];
  searchTrials?: SearchResult["trials"];
  chosen: SweepCell;
  test: { unsteered: number; steered: number };
  /** The chosen vector with its α, as a patch. */
  patch: Patch;
  openEnded?: { n: number; marker: string; unsteered: number; steered: number; examples: { prompt: string; unsteered: string; steered: string }[] };
  gsm8k?: { n: number; unsteered: number; steered: number };
  probes?: { split: Splits; reports: ProbeLayerReport[]; best: ProbeLayerReport };
  /** The A/B tokenisation used (ab-data.ts abTokenization). */
  tokenization: Record<string, unknown>;
  /** Present when the vectors were normalised across behaviours. */
  normalization?: Normalization;
}

export async function runSteerSweep(model: Model, data: SteerData, o: SteerSweepOptions): Promise<SteerSweepResult> {
  const split = splitIndices(data.caa.generate.length, o.seed, { train: 1 - o.valFraction, val: o.valFraction, test: 0 });
  const train = take(data.caa.generate, split.train);
  const format = o.format ?? {};
  const valRows = take(data.caa.generate, split.val).map((it) => abScoringRow(model.tokenizer, it, format));
  const testRows = data.caa.testAB.map((it) => abScoringRow(model.tokenizer, it, format));
  const { vectors, normalization } = await fitSteeringVectorsReport(model, data, o.method, o.layers, o.source, o.seed, train, { format, normalizeWith: o.normalizeWith });
  let validation: SweepCell[];
  let searchTrials: SearchResult["trials"] | undefined;
  if (o.search === "grid") {
    validation = await abSweep(model, vectors, o.layers, o.alphas, valRows, { positions: o.positions, method: o.method });
  } else {
    const r = await abSearch(model, vectors, o.layers, valRows, { nTrials: o.trials, seed: o.seed, alphaLow: Math.min(...o.alphas), alphaHigh: Math.max(...o.alphas), direction: o.direction, positions: o.positions, method: o.method });
    validation = r.trials.filter((t) => t.state === "complete");
    searchTrials = r.trials;
  }
  const chosen = selectBest(validation, o.direction);
  // The single final evaluation on test: the chosen cell, next to the unsteered model.
  const v = vectors[chosen.layer]!;
  const test = {
    unsteered: await abAt(model, v, chosen.layer, 0, testRows, { positions: o.positions }),
    steered: await abAt(model, v, chosen.layer, chosen.alpha, testRows, { positions: o.positions }),
  };
  const info = { method: o.method, description: `${o.method} vector for '${data.caa.behavior}' chosen by steer-sweep`, tokenization: abTokenization(format), normalize: normalization ? normalization.behaviors : false, ...o.info };
  const patch = steeringPatch({ vectors: { [residHook(chosen.layer)]: v }, alpha: chosen.alpha, positions: o.positions, info });
  const steered = steerModel(model, patch);
  const result: SteerSweepResult = { split, counts: { train: train.length, val: valRows.length, test: testRows.length }, validation, ...(searchTrials ? { searchTrials } : {}), chosen, test, patch, tokenization: abTokenization(format), ...(normalization ? { normalization } : {}) };
  if (o.openEnded && o.openEnded.n > 0) {
    const prompts = data.caa.openEnded.slice(0, o.openEnded.n).map((q) => q.question);
    const judge = { kind: "markers" as const, markers: [o.openEnded.marker] };
    const before = await openEndedBehaviour(model, prompts, judge);
    const after = await openEndedBehaviour(steered, prompts, judge);
    result.openEnded = { n: prompts.length, marker: o.openEnded.marker, unsteered: before.rate, steered: after.rate, examples: prompts.slice(0, 3).map((p, i) => ({ prompt: p, unsteered: before.texts[i]!, steered: after.texts[i]! })) };
  }
  if (o.gsm8k && o.gsm8k.length > 0) {
    const before = await arithmeticAccuracy(model, o.gsm8k);
    const after = await arithmeticAccuracy(steered, o.gsm8k);
    result.gsm8k = { n: o.gsm8k.length, unsteered: before.accuracy, steered: after.accuracy };
  }
  if (o.probes && data.labelled) {
    const psplit = splitIndices(data.labelled.length, o.seed);
    const reports = await fitProbes(model, data.labelled, o.layers, psplit, o.source, `labelled:${data.labelledFile}`);
    const best = [...reports].sort((a, b) => b.val.accuracy - a.val.accuracy || b.val.auc - a.val.auc)[0]!;
    result.probes = { split: psplit, reports, best };
  }
  return result;
}

// ---- per-item scores at (layer, α): the steer experiment kind ----

export type SteerObjective = "ab" | "gsm8k";

/**
 * Items are scored in batches aligned at multiples of this, so a prefix scores exactly as it does
 * inside the whole: 48 A/B rows per forward (its cost is mostly per-kernel overhead), 8 problems
 * per generation batch (GSM8K answers are generated token by token).
 */
export const scoreBatch = (objective: SteerObjective): number => (objective === "ab" ? 48 : 8);

export interface ItemScoring {
  objective: SteerObjective;
  /** gsm8k: tokens per answer, and sampling (absent = greedy); each aligned batch samples with seed + its start. */
  maxNewTokens: number;
  sampling?: { temperature: number; topP: number; seed: number };
}

export type SteerItems = { objective: "ab"; rows: ABScoringRow[] } | { objective: "gsm8k"; problems: ArithmeticItem[] };

/** What steers: a vector at a layer with strength α (α = 0 is the unsteered model), plain addition or DAC. */
export interface Steering {
  layer: number;
  vector: Float32Array;
  alpha: number;
  positions: AdditionPositions;
  dac?: { topP: number };
  /**
   * Run the steering hooks even at α = 0 (they add 0·v). steerModel drops zero additions, so
   * without this α = 0 is the unsteered model by construction; the α = 0 check sets it, so that
   * the hooked forward itself is compared with the unsteered one.
   */
  keepZero?: boolean;
}

/**
 * Per-item values of items [from, to): the A/B score p(matching)/(p(A)+p(B)) (CAA), or 1/0 for a
 * correct GSM8K answer (strict `####` first, then the last number, as lm-eval's filters).
 */
export async function scoreItems(model: Model, items: SteerItems, steering: Steering | undefined, from: number, to: number, scoring: ItemScoring): Promise<number[]> {
  const B = scoreBatch(items.objective);
  if (from % B !== 0) throw new RangeError(`scoreItems: from (${from}) must be a multiple of ${B}`);
  const patch = steering && !(steering.dac && steering.alpha !== 0) ? steeringPatch({ vectors: { [residHook(steering.layer)]: steering.vector }, alpha: steering.alpha, positions: steering.positions, info: { method: "steer" } }) : undefined;
  const steered = !patch ? model : steering!.keepZero ? applyPatch(model, patch) : steerModel(model, patch);
  const out: number[] = [];
  for (let s = from; s < to; s += B) {
    const e = Math.min(s + B, to);
    if (items.objective === "ab") {
      out.push(...(await abScore(steered, items.rows.slice(s, e), { batchSize: B })).items.map((i) => i.score));
      continue;
    }
    const batch = items.problems.slice(s, e);
    if (steering?.dac && steering.alpha !== 0) {
      for (const p of batch) {
        const r = await dacGenerate(model, `Question : ${p.question} Answer :`, [{ hook: residHook(steering.layer), vector: steering.vector, alphaMax: steering.alpha }], { maxNewTokens: scoring.maxNewTokens, topP: steering.dac.topP });
        out.push(extractAnswer(r.text.split("Question :")[0]!) === p.target ? 1 : 0);
      }
      continue;
    }
    const sampling = scoring.sampling && { temperature: scoring.sampling.temperature, topP: scoring.sampling.topP, seed: scoring.sampling.seed + s };
    const r = await arithmeticAccuracy(steered, batch, { maxNewTokens: scoring.maxNewTokens, batchSize: B, ...(sampling ? { sampling } : {}) });
    out.push(...r.predictions.map((pred, i) => (pred === batch[i]!.target ? 1 : 0)));
  }
  return out;
}

/** The α = 0 check: steering with zero strength must give exactly the unsteered values. */
export function checkAlphaZero(baseline: readonly number[], zero: readonly number[]): void {
  const bad = zero.findIndex((v, i) => !Object.is(v, baseline[i]));
  if (zero.length > baseline.length || bad >= 0) {
    throw new Error(`α = 0 does not reproduce the unsteered model: item ${bad} scores ${zero[bad]} steered with α = 0 but ${baseline[bad]} unsteered; the steering path changes the model even at zero strength`);
  }
}
