/**
 * Shared fixtures for the editing tests (not a test file): a tiny random Llama-family model with a
 * word-level vocabulary of fact-world-like words, a few EditCases, and a trivial Editor that adds a
 * fixed delta (so protocols can be tested without the real editors).
 */
import { wordLevelTokenizer } from "../../src/io/tokenizer/index.js";
import { familyFor } from "../../src/model/families/index.js";
import { createModel } from "../../src/model/model.js";
import type { WeightPatch } from "../../src/model/patch.js";
import { randomParams } from "../../src/model/random-params.js";
import type { Model, ModelConfig } from "../../src/model/types.js";
import type { EditCase, Editor, EditRequest } from "../../src/edit/types.js";

export const WORDS = (
  "Aldo Venn Mira Tal Oren Sade was born in Kelmar Tovia Brisk New York is the capital of . lives works for Acme " +
  "speaks Velish a person city and"
).split(" ");

export function tinyConfig(): ModelConfig {
  return familyFor("llama", "config.json").parseConfig(
    {
      model_type: "llama", vocab_size: WORDS.length + 3, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 3,
      num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, tie_word_embeddings: true,
      bos_token_id: WORDS.length, eos_token_id: WORDS.length + 1,
    },
    "config.json",
  );
}

export function tinyWordModel(seed = 3): Model {
  const config = tinyConfig();
  const tok = wordLevelTokenizer(WORDS, { unk: "<unk>", bos: "<s>", eos: "</s>" });
  return createModel(config, randomParams(config, seed, { std: 0.3, normStd: 0.1 }), tok);
}

export function fwCase(id: string, subject: string, targetNew: string, targetTrue: string): EditCase {
  return {
    id,
    request: { prompt: "{} was born in", subject, targetNew, targetTrue },
    paraphrasePrompts: [`${subject} lives in`, `${subject} is a person born in`],
    neighborhoodPrompts: ["Oren Sade was born in"],
    attributePrompts: ["Mira Tal was born in"],
    generationPrompts: [`${subject} is`],
    locality: [{ prompt: "Oren Sade was born in", target: targetTrue }],
    portability: [],
    source: `test#${id}`,
  };
}

/** An editor that adds `scale` to every entry of the last layer's W_out, once per request. */
export function constantEditor(scale = 0.05): Editor<{ scale: number }> & { calls: EditRequest[][] } {
  const calls: EditRequest[][] = [];
  return {
    name: "constant",
    calls,
    defaults: () => ({ scale }),
    async edit(model, requests, h): Promise<WeightPatch> {
      calls.push(requests);
      const name = `blocks.${model.config.nLayers - 1}.mlp.W_out`;
      const shape = model.params[name]!.shape as number[];
      const data = new Float32Array(shape[0]! * shape[1]!).fill(h.scale * requests.length);
      return { type: "weights", info: { method: "constant" }, deltas: { [name]: { shape, data } } };
    },
  };
}
