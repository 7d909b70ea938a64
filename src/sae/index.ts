/** Sparse dictionaries: SAEs, transcoders and delta transcoders — train, measure, load, save, splice. */
export { checkDictionary, type Dictionary, type DictionaryActivation } from "../model/modules/dictionary.js";
export { dictionaryArrays, encode, decode, activate, preActivations, topkThresholds, type DictionaryArrays } from "../model/modules/dictionary-math.js";
export type { DictionarySplice, FeatureEdit } from "../model/modules/dictionary-splice.js";
export { ActivationStore, ModelActivations, type ActivationSource, type ActivationBatch } from "./activation-store.js";
export { trainDictionary, type DictionaryTrainOptions, type DictionaryTrainResult, type DictionaryStepRecord } from "./train.js";
export { reconstructionMetrics, spliceMetrics, meanCE, splicePatch, single, type ReconstructionMetrics, type SpliceMetrics } from "./metrics.js";
export { trainDeltaTranscoder, deltaTerms, fuseDelta } from "./delta.js";
export { tokenRows } from "./token-rows.js";
export { dictionaryFromSaeLens, saeLensFromDictionary, dictionaryFromGemmaScope, SAELENS_CFG, SAELENS_WEIGHTS } from "./formats.js";
export { withFeatureReader, featureActivations, type FeatureRead } from "./features.js";
