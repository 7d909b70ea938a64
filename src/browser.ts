/**
 * scalpel's browser-safe entry: the core that runs in a page (the web lab) — tensors, models and
 * their hooks, tokenizers, checkpoint parsing from bytes, patches, the editors, steering, probes,
 * evaluation, statistics, search and config schemas — and no module that imports Node built-ins or
 * Node-only packages (test/io/browser-entry.test.ts walks the whole import graph). File and process
 * access stay in the Node adapters (*-node.ts), io/'s file readers, lab/ and cli/, reached only
 * through src/index.ts.
 */
export * from "./errors.js";
export { initEngine, type DeviceName } from "./tensor/engine.js";
export * from "./tensor/own.js";
export * from "./tensor/dtypes.js";
export { openSafetensors, parseSafetensors, type SafetensorsReader, type TensorInfo, type F32HostTensor } from "./io/safetensors.js";
export { serializeSafetensors, planSafetensors, safetensorsChunks, type SafetensorsWriteOptions, type SafetensorsPlan } from "./io/safetensors-write.js";
export { memorySource as memoryByteSource, type ByteSource } from "./io/byte-source.js";
export { parseJsonDocument, parseJsonStrict, JsonSyntaxError, JsonDuplicateKeyError } from "./io/json-parse.js";
export { parseShardIndex, SHARD_INDEX_NAME, type ShardIndex } from "./io/shard-index.js";
export * from "./io/tokenizer/index.js";
export type { Params, ModelType, ModelConfig, Hook, HookContext, CacheSpec, KVCache, ForwardOptions, ForwardResult, Model } from "./model/types.js";
export { createModel, paramCount, checkParams } from "./model/model.js";
export { loadModelFrom } from "./model/load.js";
export { randomParams } from "./model/random-params.js";
export { hookNames } from "./model/hook-names.js";
export { families, familyFor } from "./model/families/index.js";
export { applyPatch, unpatch, composePatches, flattenPatch, type Patch, type PatchInfo, type WeightPatch, type ActivationPatch, type ComposedPatch } from "./model/patch.js";
export { patchToBytes, patchFromBytes } from "./model/patch-bytes.js";
export { patchHash } from "./model/patch-hash.js";
export { modelHash } from "./model/hash.js";
export { generate, type GenerateOptions, type GenerateResult } from "./model/generate.js";
export { topNextTokens, logitLens, attentionPatterns, topK, type TokenProb, type LogitLens, type AttentionPatterns } from "./model/lens.js";
export { Rng, deriveSeed, makeRng, gaussian } from "./util/rng.js";
export { canonicalJson, sha256Hex, sha256HexSync } from "./util/hash.js";
export * as stats from "./analysis/index.js";
export { TPESampler } from "./analysis/search/tpe.js";
export { RandomSampler } from "./analysis/search/random.js";
export { GridSampler } from "./analysis/search/grid.js";
export { MedianPruner, PercentilePruner, NopPruner } from "./analysis/search/pruner.js";
export { searchInMemory } from "./analysis/search/loop.js";
export * as edit from "./edit/index.js";
export { runEditExperiment, selectCases, caseRow } from "./edit/experiment.js";
export * from "./steer/index.js";
export * as constrain from "./constrain/index.js";
export * as attack from "./attack/index.js";
export { evaluate, type EvaluationResult } from "./eval/evaluate.js";
export { compareTask, type MetricComparison } from "./eval/compare.js";
export { MemoryRequestCache } from "./eval/cache.js";
export { runEvalExperiment, patchedModel } from "./eval/experiment.js";
export { loglikelihood, tokenLogprobs } from "./eval/logprobs.js";
export { s as schema, validate, fieldAt } from "./lab/schema/schema.js";
export * as sae from "./sae/index.js";
