/**
 * One architecture family = one module implementing `Family`: it reads its config.json fields into
 * the normalised ModelConfig and maps its Hugging Face tensor names onto scalpel's normalised
 * parameter names (model/types.ts) and back. The forward pass itself is shared (model/forward.ts)
 * and switches on ModelConfig fields, never on the family name.
 */
import type { ModelConfig } from "../types.js";

/** A host-side float32 tensor (row-major). */
export interface F32Tensor {
  shape: number[];
  data: Float32Array;
}

/** Lazy access to the checkpoint's tensors by Hugging Face name. */
export interface HFTensorSource {
  names(): string[];
  has(name: string): boolean;
  get(name: string): Promise<F32Tensor>;
}

export interface Family {
  /** config.json model_type values this family handles, e.g. ["llama", "mistral", "qwen2"]. */
  modelTypes: readonly string[];
  /** Normalise config.json; ConfigError naming `file` and the field for missing/ill-typed fields. */
  parseConfig(raw: Record<string, unknown>, file: string): ModelConfig;
  /** HF tensors → normalised params (transposing Linear weights to [d_in, d_out], splitting fused QKV). */
  fromHF(config: ModelConfig, source: HFTensorSource): Promise<Record<string, F32Tensor>>;
  /** Normalised params → HF tensors, the exact inverse of fromHF (for saving checkpoints). */
  toHF(config: ModelConfig, params: Record<string, F32Tensor>): Record<string, F32Tensor>;
}
