/**
 * The recipe of scalpel's built-in model: a small Llama-family model (RMSNorm, SwiGLU, rotary,
 * grouped-query attention) trained from scratch on the fact world's corpus. Everything is a
 * function of the seed, so the same seed rebuilds the same world, tokenizer and — on the same
 * machine — the same weights.
 */
import { buildFactWorld, DEFAULT_SIZE, FACTWORLD_SEED, type WorldSize } from "../data/factworld/world.js";
import { STAGE2_MIX, trainingDocuments, type CorpusMix } from "../data/factworld/corpus.js";
import { factWorldTokenizer } from "../data/factworld/tokenizer.js";
import { rngFor, shuffled } from "../data/factworld/random.js";
import type { FactWorld } from "../data/factworld/types.js";
import type { Tokenizer } from "../io/tokenizer/types.js";
import { familyFor } from "../model/families/index.js";
import { createModel } from "../model/model.js";
import { randomParams } from "../model/random-params.js";
import type { Model } from "../model/types.js";
import type { TrainDocument } from "./batches.js";
import type { TrainConfig } from "./config.js";

/** config.json of the built-in model (Hugging Face LlamaConfig fields). */
export function defaultModelConfigJson(tokenizer: Tokenizer): Record<string, unknown> {
  return {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    vocab_size: tokenizer.vocabSize,
    hidden_size: 192,
    intermediate_size: 512,
    num_hidden_layers: 4,
    num_attention_heads: 6,
    num_key_value_heads: 2,
    max_position_embeddings: 256,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    hidden_act: "silu",
    tie_word_embeddings: false,
    bos_token_id: tokenizer.bosId,
    eos_token_id: tokenizer.eosId,
    pad_token_id: tokenizer.padId,
    torch_dtype: "float32",
    // Editors' covariance corpus for mom2Dataset "auto" (edit/mom2.ts): the model's own training documents.
    scalpel_mom2_corpus: "factworld",
  };
}

/** Passes over the corpus, each in its own document order (so row boundaries fall differently). */
export const CORPUS_SHUFFLES = 4;

export const DEFAULT_TRAINING: Partial<TrainConfig> = {
  lr: 3e-3,
  warmupSteps: 60,
  totalSteps: 1600,
  minLrRatio: 0.05,
  weightDecay: 0.05,
  beta1: 0.9,
  beta2: 0.98,
  clipNorm: 1,
  gradAccumSteps: 1,
  batchSize: 32,
  seqLen: 64,
};

/**
 * The second stage continues from the first stage's weights on STAGE2_MIX's corpus (relative-clause
 * statements, A/B choices followed by their answer) with a fresh optimizer and a short, lower
 * warmup + cosine schedule: the first stage alone left held-out relative-clause paraphrases at
 * 7–35% (81% over all held-out templates).
 */
export const STAGE2_TRAINING: Partial<TrainConfig> = { ...DEFAULT_TRAINING, lr: 1e-3, warmupSteps: 20, totalSteps: 400 };

/** Shuffled copies of the stage-2 corpus (183k tokens each); its 400 steps × 2,048 tokens cycle them ≈ 2.2 times. */
export const STAGE2_SHUFFLES = 2;

/**
 * A built-in model: its world, architecture and two-stage recipe. DEFAULT_VARIANT is the small
 * model (models/factworld); FACTWORLD_M_VARIANT (factworld-m.ts) the larger one of issue 21.
 */
export interface ModelVariant {
  name: string;
  size: WorldSize;
  configJson(tokenizer: Tokenizer): Record<string, unknown>;
  training: Partial<TrainConfig>;
  stage2: Partial<TrainConfig>;
  /** Shuffled copies of each stage's corpus. */
  shuffles: number;
  stage2Shuffles: number;
}

export const DEFAULT_VARIANT: ModelVariant = {
  name: "factworld",
  size: DEFAULT_SIZE,
  configJson: defaultModelConfigJson,
  training: DEFAULT_TRAINING,
  stage2: STAGE2_TRAINING,
  shuffles: CORPUS_SHUFFLES,
  stage2Shuffles: STAGE2_SHUFFLES,
};

export interface DefaultModelParts {
  world: FactWorld;
  tokenizer: Tokenizer;
  model: Model;
  documents: TrainDocument[];
  /** The second stage's tokenised documents. */
  stage2Documents: TrainDocument[];
}

/** The world, its tokenizer, the freshly initialised model and the tokenised training documents. */
export function defaultModelParts(seed = FACTWORLD_SEED, variant: ModelVariant = DEFAULT_VARIANT): DefaultModelParts {
  const world = buildFactWorld(seed, variant.size);
  const tokenizer = factWorldTokenizer(world);
  const config = familyFor("llama", "config.json").parseConfig(variant.configJson(tokenizer), "config.json");
  const model = createModel(config, randomParams(config, seed, { std: 0.02 }), tokenizer);
  return {
    world,
    tokenizer,
    model,
    documents: stageDocuments(world, tokenizer, seed, undefined, variant.shuffles, 1000),
    stage2Documents: stageDocuments(world, tokenizer, seed, STAGE2_MIX, variant.stage2Shuffles, 2000),
  };
}

/** `passes` shuffled copies of a mix's corpus, tokenised with EOS after each document. */
function stageDocuments(world: FactWorld, tokenizer: Tokenizer, seed: number, mix: CorpusMix | undefined, passes: number, stream: number): TrainDocument[] {
  const docs = trainingDocuments(world, seed, mix);
  const eos = tokenizer.eosId!;
  const documents: TrainDocument[] = [];
  for (let k = 0; k < passes; k++) {
    for (const d of shuffled(rngFor(seed, stream + k), docs)) documents.push({ tokens: [...tokenizer.encode(d).ids, eos] });
  }
  return documents;
}
