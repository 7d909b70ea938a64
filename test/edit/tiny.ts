/**
 * Fixtures for the editor tests (not a test file): a tiny random Llama-family model with a
 * word-level tokenizer, a small corpus for its covariance statistics, and edit requests.
 */
import { wordLevelTokenizer } from "../../src/io/tokenizer/index.js";
import { familyFor } from "../../src/model/families/index.js";
import { createModel } from "../../src/model/model.js";
import { randomParams } from "../../src/model/random-params.js";
import type { Model } from "../../src/model/types.js";
import { EditCaches } from "../../src/edit/caches.js";
import type { EditRequest } from "../../src/edit/types.js";

export const WORDS = (
  "The Aldo Venn Bera Tull Cora Mill Dax Roe was born in works for lives Kelmar Dorn Pell Zarn Hollo " +
  "Acme Brio is a city the of and . , doctor pilot capital language speaks Therefore Because I You"
).split(" ");

export function tinyModel(variant: "llama" | "gpt2" = "llama", seed = 7): Model {
  const raw: Record<string, unknown> =
    variant === "llama"
      ? {
          model_type: "llama", vocab_size: WORDS.length + 3, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 3,
          num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, tie_word_embeddings: false,
          bos_token_id: WORDS.length, eos_token_id: WORDS.length + 1,
        }
      : { model_type: "gpt2", vocab_size: WORDS.length + 3, n_positions: 64, n_embd: 32, n_layer: 3, n_head: 4, n_inner: 48, bos_token_id: WORDS.length, eos_token_id: WORDS.length + 1 };
  const config = familyFor(raw.model_type as string, "config.json").parseConfig(raw, "config.json");
  const tokenizer = wordLevelTokenizer(WORDS, { bos: "<s>", eos: "</s>", unk: "<unk>", addBos: true });
  return createModel(config, randomParams(config, seed, { std: 0.3, normStd: 0.05 }), tokenizer);
}

/** Random word sequences (deterministic), as the covariance corpus "tiny". */
export function tinyCorpus(n = 120, seed = 3): string[] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = 4 + Math.floor(rnd() * 8);
    out.push(Array.from({ length: len }, () => WORDS[Math.floor(rnd() * WORDS.length)]!).join(" "));
  }
  return out;
}

/** The editor tests' caches: the covariance corpus "tiny" registered, covariance and templates reused across tests. */
export const TINY = new EditCaches().registerCorpus("tiny", tinyCorpus());

export const REQUESTS: EditRequest[] = [
  { prompt: "{} was born in", subject: "Aldo Venn", targetNew: "Kelmar", targetTrue: "Dorn" },
  { prompt: "{} works for", subject: "Bera Tull", targetNew: "Acme", targetTrue: "Brio" },
  { prompt: "{} lives in", subject: "Cora Mill", targetNew: "Pell", targetTrue: "Zarn" },
];

/** Value-optimisation settings small enough for tests. */
export const FAST = {
  mom2Dataset: "tiny",
  mom2NSamples: 120,
  vNumGradSteps: 10,
  vLr: 0.5,
  contextTemplateLengthParams: [[4, 2]] as [number, number][],
  contextTemplateSeparator: " . ",
  klPrompts: ["{} is a"],
};
