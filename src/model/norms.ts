/**
 * The three normalisations of the supported families, each exactly as its transformers module:
 * - LayerNorm (GPT-2, GPT-NeoX, GPT-J): (x - mean) / sqrt(var + eps) * w + b, biased variance.
 * - RMSNorm (Llama, Mistral, Qwen2; LlamaRMSNorm): x / sqrt(mean(x²) + eps) * w.
 * - Gemma's RMSNorm (Gemma2RMSNorm): x / sqrt(mean(x²) + eps) * (1 + w); the weight is stored as
 *   an offset from one.
 * All compute in float32, as the HF modules do (they upcast to float32 before normalising).
 * 1/sqrt(·) goes through recip.ts's rsqrt (a jax-js leak and precision workaround).
 */
import { numpy as np } from "@jax-js/jax";
import { rsqrt } from "./recip.js";
import type { Arr, ModelConfig } from "./types.js";

/** Normalise over the last axis. Consumes x, w and b. */
export function layerNorm(x: Arr, w: Arr, b: Arr | undefined, eps: number): Arr {
  const mean = x.ref.mean(-1, { keepdims: true });
  const centred = x.sub(mean);
  const variance = np.square(centred.ref).mean(-1, { keepdims: true });
  const y = centred.mul(rsqrt(variance.add(eps))).mul(w);
  return b ? y.add(b) : y;
}

/** RMSNorm; `offset` 1 gives Gemma's (1 + w) scaling. Consumes x and w. */
export function rmsNorm(x: Arr, w: Arr, eps: number, offset = 0): Arr {
  const ms = np.square(x.ref).mean(-1, { keepdims: true });
  const y = x.mul(rsqrt(ms.add(eps)));
  return y.mul(offset ? w.add(offset) : w);
}

/** The configured norm of the model. Consumes x, w and b (b is ignored, and disposed, for RMS norms). */
export function applyNorm(config: ModelConfig, x: Arr, w: Arr, b: Arr | undefined): Arr {
  switch (config.norm) {
    case "layernorm":
      return layerNorm(x, w, b, config.normEps);
    case "rmsnorm":
      b?.dispose();
      return rmsNorm(x, w, config.normEps);
    case "gemma_rmsnorm":
      b?.dispose();
      return rmsNorm(x, w, config.normEps, 1);
  }
}
