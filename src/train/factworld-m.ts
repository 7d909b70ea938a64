/**
 * The recipe of the larger built-in model factworld-m (issue 21): the attribute fact world
 * (FACTWORLD_M_SIZE: 1,200 people with gender and origin, pronoun and demonym text) and a
 * 6-layer Llama (d_model 256, d_mlp 1024, 8 heads over 4 KV heads, context 256), trained with
 * the small model's two-stage recipe, resumable from the same trainer's checkpoints.
 */
import { FACTWORLD_M_SIZE } from "../data/factworld/world.js";
import type { Tokenizer } from "../io/tokenizer/types.js";
import type { TrainConfig } from "./config.js";
import { CORPUS_SHUFFLES, DEFAULT_TRAINING, defaultModelConfigJson, STAGE2_SHUFFLES, STAGE2_TRAINING, type ModelVariant } from "./default-model.js";

export function factworldMConfigJson(tokenizer: Tokenizer): Record<string, unknown> {
  return {
    ...defaultModelConfigJson(tokenizer),
    hidden_size: 256,
    intermediate_size: 1024,
    num_hidden_layers: 6,
    num_attention_heads: 8,
    num_key_value_heads: 4,
    max_position_embeddings: 256,
    // Editors' covariance corpus for mom2Dataset "auto": this model's own training documents (edit/mom2.ts).
    scalpel_mom2_corpus: "factworld-m",
  };
}

/**
 * Corpus tokens per pass (documents with BOS and EOS) of both worlds at the default seed; the
 * test recomputes them, so a change to either corpus shows up here.
 */
export const CORPUS_TOKENS = { small: { stage1: 138_717, stage2: 183_152 }, m: { stage1: 814_540, stage2: 1_045_853 } } as const;

/**
 * Rows of 128 tokens (the m-world's profiles run to ~75 tokens a document), 4,096 tokens a step
 * (twice the small model's) in two micro-batches of 16 rows: one micro-batch of 32 × 128 exceeds
 * the wasm backend's 4 GiB (memory32) on the first step; 16 × 128 peaks at ~2.5 GiB RSS.
 */
const M_BATCH = { batchSize: 16, seqLen: 128, gradAccumSteps: 2 };

/**
 * Steps for the same number of passes over the corpus as the small recipe: every fact sentence is
 * then seen as often as in the small model. (Facts grow 16× — 456 → 7,392 — but the corpus only
 * 5.9×, since the arithmetic, behaviour and tool text does not grow with the world.)
 */
export function scaledSteps(smallSteps: number, smallTokens: number, mTokens: number, smallTokensPerStep: number, mTokensPerStep: number): number {
  return Math.ceil((smallSteps * (mTokens / smallTokens) * (smallTokensPerStep / mTokensPerStep)) / 100) * 100;
}

const tokensPerStep = (c: Partial<TrainConfig>) => c.batchSize! * c.seqLen! * (c.gradAccumSteps ?? 1);

/**
 * Stage 1: 4,700 steps × 4,096 tokens ≈ 24 passes over the 815k-token corpus (the small model:
 * 1,600 × 2,048 ≈ 24 passes over 139k). A lower peak lr than the small model's 3e-3 for the wider,
 * deeper model (not tuned: the first full run will tell).
 */
export const FACTWORLD_M_TRAINING: Partial<TrainConfig> = {
  ...DEFAULT_TRAINING,
  ...M_BATCH,
  lr: 2e-3,
  warmupSteps: 100,
  totalSteps: scaledSteps(DEFAULT_TRAINING.totalSteps!, CORPUS_TOKENS.small.stage1, CORPUS_TOKENS.m.stage1, tokensPerStep(DEFAULT_TRAINING), tokensPerStep(M_BATCH)),
};

/** Stage 2: 1,200 steps ≈ 4.7 passes over the 1.05M-token corpus (the small model: 400 steps, 4.5 passes). */
export const FACTWORLD_M_STAGE2: Partial<TrainConfig> = {
  ...STAGE2_TRAINING,
  ...M_BATCH,
  lr: 7e-4,
  warmupSteps: 40,
  totalSteps: scaledSteps(STAGE2_TRAINING.totalSteps!, CORPUS_TOKENS.small.stage2, CORPUS_TOKENS.m.stage2, tokensPerStep(STAGE2_TRAINING), tokensPerStep(M_BATCH)),
};

export const FACTWORLD_M_VARIANT: ModelVariant = {
  name: "factworld-m",
  size: FACTWORLD_M_SIZE,
  configJson: factworldMConfigJson,
  training: FACTWORLD_M_TRAINING,
  stage2: FACTWORLD_M_STAGE2,
  shuffles: CORPUS_SHUFFLES,
  stage2Shuffles: STAGE2_SHUFFLES,
};
