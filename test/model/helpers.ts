/**
 * Shared fixtures for the model tests (not a test file): tiny configs of each structural variant,
 * a stand-in tokenizer (the io layer's real one is not needed to test the forward), and host-side
 * helpers for independent computations.
 */
import { familyFor } from "../../src/model/families/index.js";
import { createModel } from "../../src/model/model.js";
import { randomParams } from "../../src/model/random-params.js";
import type { Model, ModelConfig } from "../../src/model/types.js";
import type { Tokenizer } from "../../src/io/tokenizer/types.js";
import { readF32Sync } from "../../src/tensor/own.js";
import type { Arr } from "../../src/model/types.js";

/** A character-level stand-in tokenizer over ids 0..vocabSize-1. */
export function stubTokenizer(vocabSize: number): Tokenizer {
  return {
    vocabSize,
    bosId: undefined,
    eosId: undefined,
    padId: 0,
    encode: (text) => ({ ids: [...text].map((c) => c.charCodeAt(0) % vocabSize), offsets: [...text].map((_, i) => [i, i + 1] as [number, number]) }),
    encodeBatch: () => {
      throw new Error("stub");
    },
    decode: (ids) => ids.map((i) => String.fromCharCode(i)).join(""),
    tokenToId: () => undefined,
    idToToken: () => undefined,
    toJSON: () => ({ version: "1.0", model: { type: "WordLevel", vocab: {}, unk_token: "" } }),
  };
}

export const RAW = {
  gpt2: { model_type: "gpt2", vocab_size: 97, n_positions: 48, n_embd: 32, n_layer: 2, n_head: 4 },
  llama: {
    model_type: "llama", vocab_size: 101, hidden_size: 32, intermediate_size: 40, num_hidden_layers: 2,
    num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64,
  },
  mistral: {
    model_type: "mistral", vocab_size: 89, hidden_size: 32, intermediate_size: 40, num_hidden_layers: 2,
    num_attention_heads: 4, num_key_value_heads: 1, max_position_embeddings: 64, sliding_window: 3,
  },
  // Alternating sliding window (layer 0), tight soft-caps so they bind, GeGLU, post-norms, embed scale.
  gemma2: {
    model_type: "gemma2", vocab_size: 83, hidden_size: 32, intermediate_size: 40, num_hidden_layers: 2, num_attention_heads: 4,
    num_key_value_heads: 2, head_dim: 8, sliding_window: 3, max_position_embeddings: 64, attn_logit_softcapping: 1.0,
    final_logit_softcapping: 2.0, query_pre_attn_scalar: 8,
  },
  // One norm per block, parallel residual, interleaved partial rotary, b_U.
  gptj: { model_type: "gptj", vocab_size: 79, n_embd: 32, n_layer: 2, n_head: 4, rotary_dim: 4, n_positions: 64 },
} as const;

export type Variant = keyof typeof RAW | "parallel";

/** Config of a variant; "parallel" is GPT-2's shapes with a parallel residual (NeoX-style structure). */
export function tinyConfig(variant: Variant): ModelConfig {
  if (variant === "parallel") return { ...tinyConfig("gpt2"), parallelResidual: true };
  const raw = { ...RAW[variant] } as Record<string, unknown>;
  return familyFor(raw["model_type"], "config.json").parseConfig(raw, "config.json");
}

/** A tiny random model with noisy norms and biases so every parameter matters. */
export function tinyModel(variant: Variant, seed = 1, jit = true): Model {
  const config = tinyConfig(variant);
  const params = randomParams(config, seed, { std: 0.2, biasStd: 0.1, normStd: 0.1 });
  return createModel(config, params, stubTokenizer(config.vocabSize), { jit });
}

/** Read an array without consuming the caller's reference. */
export function peek(x: Arr): Float32Array {
  return readF32Sync(x.ref);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Deterministic token rows. */
export function tokenRows(batch: number, len: number, vocab: number, seed = 7): number[][] {
  let s = seed;
  return Array.from({ length: batch }, () =>
    Array.from({ length: len }, () => {
      s = (s * 1103515245 + 12345) % 2147483648;
      return s % vocab;
    }),
  );
}

/** Row b, positions [from, to) of a [batch, pos, vocab] flat array. */
export function rowSlice(flat: Float32Array, len: number, vocab: number, b: number, from: number, to: number): Float32Array {
  return flat.slice((b * len + from) * vocab, (b * len + to) * vocab);
}
