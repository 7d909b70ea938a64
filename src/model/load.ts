/**
 * Loading and saving whole models.
 *
 *   loadModel(dir)           config.json + model.safetensors (or shards) + tokenizer.json → Model
 *   loadModelFrom(...)       the same from an already-parsed config and any tensor source (browser)
 *   saveModel(model, dir)    config.json + model.safetensors + tokenizer.json, loadable by
 *                            transformers' from_pretrained and by loadModel
 *
 * The directory readers/writers live in io/ and use Node's file system; they are imported lazily
 * so that importing this module (and model/ as a whole) stays browser-safe.
 */
import { numpy as np } from "@jax-js/jax";
import { loadTokenizer } from "../io/tokenizer/index.js";
import type { Tokenizer } from "../io/tokenizer/types.js";
import { readF32 } from "../tensor/own.js";
import { familyFor } from "./families/index.js";
import type { F32Tensor, HFTensorSource } from "./families/types.js";
import { createModel } from "./model.js";
import { markHalfWeights } from "./native/executor.js";
import type { Model, Params } from "./types.js";
import { splitNames } from "./vocab-split.js";

export interface LoadOptions {
  /** Use this tokenizer instead of reading tokenizer.json from the directory. */
  tokenizer?: Tokenizer;
}

/** Build a model from a parsed config.json, a source of HF-named tensors and a tokenizer. */
export async function loadModelFrom(configJson: Record<string, unknown>, source: HFTensorSource, tokenizer: Tokenizer, configFile = "config.json"): Promise<Model> {
  const family = familyFor(configJson["model_type"], configFile);
  const config = family.parseConfig(configJson, configFile);
  const host = await family.fromHF(config, source);
  // A vocabulary matrix WebGPU runs in blocks stays in host memory: the GPU then holds only the blocks.
  const split = splitNames(config);
  const params: Params = {};
  for (const [name, t] of Object.entries(host)) params[name] = np.array(t.data, split.has(name) ? { device: "cpu" } : {}).reshape(t.shape);
  return createModel(config, params, tokenizer);
}

/** Load a Hugging Face checkpoint directory (Node). */
export async function loadModel(dir: string, options: LoadOptions = {}): Promise<Model> {
  const { openCheckpoint } = await import("../io/checkpoint.js");
  const ckpt = await openCheckpoint(dir);
  try {
    const tokenizer = options.tokenizer ?? (await loadTokenizer(dir));
    const source: HFTensorSource = {
      names: () => ckpt.tensorNames(),
      has: (n) => ckpt.has(n),
      get: (n) => ckpt.readF32(n),
    };
    const model = await loadModelFrom(ckpt.configJson, source, tokenizer, `${dir}/config.json`);
    const half = halfPrecisionOf(ckpt.tensorNames().map((n) => ckpt.info(n)));
    if (half) markHalfWeights(model, half);
    return model;
  } finally {
    await ckpt.close();
  }
}

/** float16/bfloat16 when every weight matrix of the checkpoint is stored so (what a native executor may keep). */
function halfPrecisionOf(infos: { dtype: string; shape: number[] }[]): "float16" | "bfloat16" | undefined {
  const dtypes = new Set(infos.filter((t) => t.shape.length >= 2).map((t) => t.dtype));
  if (dtypes.size !== 1) return undefined;
  return dtypes.has("F16") ? "float16" : dtypes.has("BF16") ? "bfloat16" : undefined;
}

export interface SaveOptions {
  /** Store floats as F16 or BF16 instead of F32. */
  floatDtype?: "F32" | "F16" | "BF16";
}

/** The model's parameters in Hugging Face names and layouts (host memory). */
export async function toHFTensors(model: Model): Promise<Record<string, F32Tensor>> {
  const host: Record<string, F32Tensor> = {};
  for (const [name, a] of Object.entries(model.params)) host[name] = { shape: a.shape.slice(), data: await readF32(a.ref) };
  const family = familyFor(model.config.raw["model_type"] ?? model.config.modelType, "config.json");
  return family.toHF(model.config, host);
}

/** Write config.json, model.safetensors (sharded above 5 GB), tokenizer.json and tokenizer_config.json into `dir` (Node). */
export async function saveModel(model: Model, dir: string, options: SaveOptions = {}): Promise<void> {
  const { saveCheckpoint } = await import("../io/save-checkpoint.js");
  const hf = await toHFTensors(model);
  const tensors = Object.fromEntries(Object.entries(hf).map(([n, t]) => [n, { dtype: "float32" as const, shape: t.shape, data: t.data }]));
  const configJson = { ...model.config.raw, model_type: model.config.raw["model_type"] ?? model.config.modelType };
  // tokenizer_config.json carries what tokenizer.json cannot: BOS/EOS/pad tokens and add_bos_token.
  const tokenizerConfig = model.tokenizer.toConfigJSON?.();
  await saveCheckpoint(dir, {
    configJson,
    tensors,
    tokenizerJson: model.tokenizer.toJSON(),
    ...(tokenizerConfig ? { extraJsonFiles: { "tokenizer_config.json": tokenizerConfig } } : {}),
    ...(options.floatDtype ? { floatDtype: options.floatDtype } : {}),
  });
}
