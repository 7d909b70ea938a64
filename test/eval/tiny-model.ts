/**
 * A tiny random-weight Llama-family model with a word-level tokenizer, for the harness tests (not a
 * test file). Deterministic from its seed; small enough that a forward pass costs milliseconds.
 */
import { wordLevelTokenizer } from "../../src/io/tokenizer/index.js";
import { familyFor } from "../../src/model/families/index.js";
import { createModel } from "../../src/model/model.js";
import { randomParams } from "../../src/model/random-params.js";
import type { Model } from "../../src/model/types.js";

export const WORDS = (
  "the a cat dog sat ran on in under mat rug house garden park city river quickly slowly and then because it was happy " +
  "tired red blue big small one two three saw found took Question Answer : ? . , A B C D ( ) #### 0 1 2 3 4 5 6 7 8 9 10 11 12 yes no"
).split(" ");

export function tinyConfigRaw(nCtx = 64) {
  return {
    model_type: "llama",
    vocab_size: WORDS.length + 3,
    hidden_size: 32,
    intermediate_size: 48,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: nCtx,
    rms_norm_eps: 1e-5,
    tie_word_embeddings: true,
    bos_token_id: WORDS.length,
    eos_token_id: WORDS.length + 1,
  };
}

/** `addBos`: the tokenizer adds BOS by default (as the fact world's does). */
export function tinyModel(seed = 1, nCtx = 64, addBos = false): Model {
  const config = familyFor("llama", "config.json").parseConfig(tinyConfigRaw(nCtx), "config.json");
  const tokenizer = wordLevelTokenizer(WORDS, { unk: "<unk>", bos: "<s>", eos: "</s>", addBos });
  return createModel(config, randomParams(config, seed, { std: 0.3, normStd: 0.1 }), tokenizer);
}

/** A deterministic word sequence of length n over the vocabulary. */
export function words(n: number, seed = 7): string {
  let s = seed;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out.push(WORDS[s % 30]!);
  }
  return out.join(" ");
}
