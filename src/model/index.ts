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
