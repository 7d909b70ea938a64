/**
 * Vocabulary matrices split across WebGPU buffers.
 *
 * A WebGPU kernel binds each input buffer whole, up to the device's maxStorageBufferBindingSize:
 * 128 MiB on Mesa's lavapipe, 1–4 GiB on GPUs. The embedding and unembedding of the models this
 * toolkit targets are the matrices over it (Gemma-2-2B's 256000 × 2304 f32 is 2.36 GB; Llama-3-8B's
 * and Qwen2.5-7B's are 2.1–2.2 GB; on lavapipe already GPT-2's 154 MB), while every block matrix
 * of a 2–8 B model stays under 300 MB. So only these two are split, along the vocabulary:
 *
 *   embedding      x = Σ_i where(r_i ≤ id < r_{i+1}, W_E_i[id − r_i], 0)   (one nonzero term: exact)
 *   unembedding    logits = [x · U_0 | x · U_1 | …]                        (column blocks of the padded W_U / W_Eᵀ)
 *
 * Blocks are VOCAB_ALIGN-row multiples, so the padded unembedding's padding lies in the last block
 * and paddedLogits keeps its meaning. The model builds the blocks once from its own parameters
 * (model.ts, like its other derived weights); `params` keeps the whole matrix for everything that
 * reads it as data (hashing, saving, the native executor, attacks). A pass with a different
 * vocabulary matrix (traced under `grad`, or replaced) is refused: the blocks are copies.
 */
import { numpy as np } from "@jax-js/jax";
import { EngineError } from "../errors.js";
import { engineDevice } from "../tensor/engine.js";
import { matrixBlocks } from "../tensor/matrix-blocks.js";
import { webgpuLimits } from "../tensor/webgpu-guard.js";
import type { Arr, ModelConfig, Params } from "./types.js";
import { paddedVocab, prepareUnembed, VOCAB_ALIGN, type Unembed } from "./unembed.js";

/** The parameters this module splits. */
const VOCAB_MATRICES: readonly string[] = ["embed.W_E", "unembed.W_U"];

/**
 * Rows (vocabulary entries) per block when this model's vocabulary matrices must be split (the
 * engine is on WebGPU and the padded matrix is over one binding); undefined otherwise.
 */
export function vocabBlockRows(config: ModelConfig): number | undefined {
  if (engineDevice() !== "webgpu") return undefined;
  const limit = webgpuLimits()?.maxStorageBufferBindingSize;
  const rowBytes = 4 * config.dModel;
  if (limit === undefined || paddedVocab(config.vocabSize) * rowBytes <= limit) return undefined;
  const rows = Math.floor(limit / rowBytes / VOCAB_ALIGN) * VOCAB_ALIGN;
  if (rows === 0) {
    throw new EngineError("WEBGPU_BUFFER_LIMIT", `${VOCAB_ALIGN} vocabulary rows of width ${config.dModel} are more than this WebGPU device binds in one buffer (${limit} bytes)`, {
      fix: "run this model on --device wasm (the CPU path)",
    });
  }
  return rows;
}

const NONE: ReadonlySet<string> = new Set();
const SPLIT: ReadonlySet<string> = new Set(VOCAB_MATRICES);

/** The parameters this model splits (none unless vocabBlockRows says so). */
export function splitNames(config: ModelConfig): ReadonlySet<string> {
  return vocabBlockRows(config) === undefined ? NONE : SPLIT;
}

/** W_E [vocab, d] (borrowed) as row blocks on the GPU (owned by the caller). */
export function embeddingBlocks(W_E: Arr, rows: number): Arr[] {
  return matrixBlocks(W_E, 0, rows);
}

/** W_E[ids] from its row blocks (borrowed); `ids` [batch, pos] consumed. */
export function embedFromBlocks(blocks: Arr[], ids: Arr): Arr {
  let x: Arr | undefined;
  let start = 0;
  for (const block of blocks) {
    const n = block.shape[0]!;
    const local = np.clip(ids.ref.sub(start), 0, n - 1);
    const inside = np.logicalAnd(np.greaterEqual(ids.ref, start), np.less(ids.ref, start + n));
    const part = np.where(np.expandDims(inside, -1), np.take(block.ref, local, 0), 0);
    x = x ? x.add(part) : part;
    start += n;
  }
  ids.dispose();
  return x!;
}

/**
 * The padded unembedding of `params` (borrowed; owned by the caller): unembed.ts's one matrix, or,
 * when the vocabulary is split, column blocks of `rows` (the last padded with zero columns) copied
 * from W_E (tied, [vocab, d]) or W_U ([d, vocab]).
 */
export function unembedWeights(config: ModelConfig, params: Params): Unembed {
  const rows = vocabBlockRows(config);
  if (rows === undefined) return prepareUnembed(config, params);
  const tied = config.tiedEmbeddings === true;
  return prepareUnembed(config, params, matrixBlocks(params[tied ? "embed.W_E" : "unembed.W_U"]!, tied ? 0 : 1, rows));
}

/** The error for a pass whose vocabulary matrix is not the one the blocks were copied from. */
export function splitVocabError(name: string): EngineError {
  return new EngineError("WEBGPU_SPLIT_VOCAB", `${name} is larger than one WebGPU binding, so the model runs it as blocks copied from its own parameter; this pass gives it another array (a traced or replaced ${name}), which WebGPU cannot bind`, {
    fix: "differentiate or replace the vocabulary matrix on --device wasm (the CPU path); hooks, edits of block weights and generation work on WebGPU",
  });
}
