/** Shared fixtures for the training tests (not a test file): a tiny Llama and random documents. */
import { Rng } from "../../src/util/rng.js";
import { wordLevelTokenizer } from "../../src/io/tokenizer/index.js";
import { familyFor } from "../../src/model/families/index.js";
import { createModel } from "../../src/model/model.js";
import { randomParams } from "../../src/model/random-params.js";
import type { Model } from "../../src/model/types.js";
import type { TrainDocument } from "../../src/train/batches.js";
import type { TrainConfig } from "../../src/train/config.js";

const WORDS = Array.from({ length: 45 }, (_, i) => `w${i}`);

export function tinyModel(seed = 1): Model {
  const raw = {
    model_type: "llama", vocab_size: 48, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2,
    num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, tie_word_embeddings: false,
    bos_token_id: 45, eos_token_id: 46,
  };
  const config = familyFor("llama", "config.json").parseConfig(raw, "config.json");
  const tok = wordLevelTokenizer(WORDS, { bos: "<s>", eos: "</s>", unk: "<unk>" });
  return createModel(config, randomParams(config, seed, { std: 0.1 }), tok);
}

/** Documents with a learnable pattern (each token mostly follows from the previous one). */
export function tinyDocs(n = 40, seed = 7): TrainDocument[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const len = 8 + rng.int(12);
    const tokens = [45];
    let t = rng.int(45);
    for (let i = 0; i < len; i++) {
      tokens.push(t);
      t = rng.random() < 0.8 ? (t * 7 + 3) % 45 : rng.int(45);
    }
    tokens.push(46);
    return { tokens };
  });
}

export const KILL_CONFIG: Partial<TrainConfig> = {
  lr: 3e-3, warmupSteps: 2, totalSteps: 12, minLrRatio: 0.1, weightDecay: 0.1, clipNorm: 1,
  batchSize: 4, gradAccumSteps: 2, seqLen: 16, checkpointEvery: 3, seed: 11,
};
