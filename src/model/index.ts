/** model/: architectures as pure functions with named hook points (DESIGN.md "Models and hook points"). */
export type { Params, ModelType, ModelConfig, Hook, HookContext, CacheSpec, KVCache, ForwardOptions, ForwardResult, Model } from "./types.js";
export { createModel, paramCount, checkParams, type CreateModelOptions } from "./model.js";
export { loadModel, loadModelFrom, saveModel, toHFTensors, type LoadOptions, type SaveOptions } from "./load.js";
export { randomParams, type RandomParamsOptions } from "./random-params.js";
export { forward } from "./forward.js";
export { hookNames } from "./hook-names.js";
export { paramSpecs, type ParamSpec } from "./param-shapes.js";
export { families, familyFor } from "./families/index.js";
export type { Family, F32Tensor, HFTensorSource } from "./families/types.js";
export { applyPatch, unpatch, composePatches, flattenPatch, additionHooks, type Patch, type PatchInfo, type WeightPatch, type ActivationPatch, type ModulePatch, type LeafPatch, type ComposedPatch, type ActivationAddition, type AdditionPositions, type HostF32 } from "./patch.js";
export { savePatch, loadPatch } from "./patch-file.js";
export { patchToBytes, patchFromBytes } from "./patch-bytes.js";
export { withHooks, composeHooks } from "./with-hooks.js";
export { modelHash } from "./hash.js";
