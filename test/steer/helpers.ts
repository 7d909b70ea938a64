/**
 * Shared fixtures for the steering tests (not a test file): a tiny random Llama-family model with
 * a word-level tokenizer whose words include the CAA answer format "( A )", and A/B items.
 */
import { wordLevelTokenizer } from "../../src/io/tokenizer/index.js";
import { familyFor } from "../../src/model/families/index.js";
import { createModel } from "../../src/model/model.js";
import { randomParams } from "../../src/model/random-params.js";
import type { Model } from "../../src/model/types.js";
import type { ABItem } from "../../src/steer/ab-data.js";

export const WORDS = (
  "( ) A B Choices : Answer Assistant User yes no the cat dog sat ran on mat rug is was good bad " +
  "happy sad Gladly Sure Fine one two three four five six seven eight nine zero plus equals ? ."
).split(" ");

export function tinySteerModel(seed = 3, jit = true): Model {
  const raw = {
    model_type: "llama", vocab_size: WORDS.length + 3, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 3,
    num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 96, tie_word_embeddings: true,
    bos_token_id: WORDS.length, eos_token_id: WORDS.length + 1,
  };
  const config = familyFor("llama", "config.json").parseConfig(raw, "config.json");
  const tok = wordLevelTokenizer(WORDS, { bos: "<s>", eos: "</s>", unk: "<unk>", addBos: true });
  // Large weights: peaked logits, so greedy choices are far from float-noise ties.
  return createModel(config, randomParams(config, seed, { std: 0.35, normStd: 0.1 }), tok, { jit });
}

const SUBJECTS = ["the cat", "the dog", "the cat sat", "the dog ran", "one cat", "two dog", "the mat", "the rug", "three cat", "four dog", "five cat", "six dog"];

/** A/B items "X is good ? Choices : ( A ) yes ( B ) no Answer :" with alternating matching letters. */
export function abItems(n: number): ABItem[] {
  return Array.from({ length: n }, (_, i) => {
    const s = SUBJECTS[i % SUBJECTS.length]!;
    const adj = i % 3 === 0 ? "good" : i % 3 === 1 ? "bad" : "happy";
    const [m, o] = i % 2 === 0 ? ["( A )", "( B )"] : ["( B )", "( A )"];
    return { question: `User : ${s} is ${adj} ? Choices : ( A ) yes ( B ) no Answer :`, answer_matching_behavior: m, answer_not_matching_behavior: o };
  });
}
