/**
 * Inputs of the ROME / MEMIT / AlphaEdit reference-fixture tests (test/edit/reference-fixtures.test.ts):
 * a tiny random GPT-2 checkpoint in Hugging Face layout (config.json, model.safetensors,
 * tokenizer.json) and inputs.json (requests, fixed context templates, covariance texts, the
 * hyperparameters in the reference code's names). scripts/reference-edits/reference.py then runs
 * the reference Python implementations on exactly these and writes expected.safetensors.
 *
 * The tokenizer is word-level without BOS (as GPT-2's tokenizer adds none): reference.py's
 * tokenizer shim splits on whitespace the same way, so both sides see the same token ids.
 *
 * Usage: node --import tsx scripts/reference-edits/make-fixture.ts   (rewrites the fixture folder)
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { wordLevelTokenizer } from "../../src/io/tokenizer/index.js";
import { familyFor } from "../../src/model/families/index.js";
import { saveModel } from "../../src/model/load.js";
import { createModel } from "../../src/model/model.js";
import { randomParams } from "../../src/model/random-params.js";

export const FIXTURE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../test/fixtures/reference-edits");

const WORDS = (
  "The Aldo Venn Bera Tull Cora Mill Dax Roe was born in works for lives Kelmar Dorn Pell Zarn Hollo " +
  "Acme Brio is a city the of and . , doctor pilot capital language speaks Therefore Because I You New York"
).split(" ");

/** Deterministic word sequences: the covariance texts. */
function corpus(n: number, seed: number): string[] {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: n }, () => Array.from({ length: 4 + Math.floor(rnd() * 10) }, () => WORDS[Math.floor(rnd() * WORDS.length)]!).join(" "));
}

export const INPUTS = {
  // ROME's request format (rome/dsets/counterfact.py requested_rewrite); target_new without the
  // leading space, which both implementations add.
  requests: [
    { prompt: "{} was born in", subject: "Aldo Venn", target_new: { str: "Kelmar" }, target_true: { str: "Dorn" } },
    { prompt: "{} works for", subject: "Bera Tull", target_new: { str: "New York" }, target_true: { str: "Brio" } },
    { prompt: "{} lives in", subject: "Cora Mill", target_new: { str: "Pell" }, target_true: { str: "Zarn" } },
  ],
  // Grouped as MEMIT's get_context_templates returns them; ROME uses the flattened list.
  context_templates: [["{}"], ["The Acme is a city . {}", "Therefore Dax Roe . {}", "Because the pilot . {}"]],
  kl_prompts: ["{} is a"],
  covariance_texts: corpus(160, 11),
  // Tokens kept per covariance text (layer_stats' maxlen).
  covariance_max_length: 12,
  rome: {
    layers: [1], fact_token: "subject_last", v_num_grad_steps: 12, v_lr: 0.5, v_loss_layer: 2, v_weight_decay: 0.5,
    clamp_norm_factor: 4, kl_factor: 0.0625, mom2_adjustment: true,
  },
  memit: {
    layers: [0, 1], fact_token: "subject_last", v_num_grad_steps: 12, v_lr: 0.5, v_loss_layer: 2, v_weight_decay: 0.5,
    clamp_norm_factor: 4, kl_factor: 0.0625, mom2_adjustment: true, mom2_update_weight: 30,
  },
  alphaedit: {
    layers: [0, 1], fact_token: "subject_last", v_num_grad_steps: 12, v_lr: 0.5, v_loss_layer: 2, v_weight_decay: 0.5,
    clamp_norm_factor: 4, kl_factor: 0.0625, mom2_adjustment: true, mom2_update_weight: 30, nullspace_threshold: 0.5, L2: 10,
  },
  // ROME: requests 0 and 1 applied one after another (apply_rome_to_model); MEMIT: all three in one
  // batch; AlphaEdit: requests 0–1, then request 2 on the edited model with cache_c carried over.
  rome_requests: [0, 1],
  alphaedit_batches: [[0, 1], [2]],
};

async function main(): Promise<void> {
  const raw = { model_type: "gpt2", vocab_size: WORDS.length + 2, n_positions: 64, n_embd: 24, n_layer: 3, n_head: 4, n_inner: 40 };
  const config = familyFor("gpt2", "config.json").parseConfig(raw, "config.json");
  const tokenizer = wordLevelTokenizer(WORDS, { eos: "<|endoftext|>", unk: "<unk>" });
  const model = createModel(config, randomParams(config, 5, { std: 0.3, normStd: 0.05 }), tokenizer);
  await mkdir(FIXTURE_DIR, { recursive: true });
  await saveModel(model, path.join(FIXTURE_DIR, "model"));
  await writeFile(path.join(FIXTURE_DIR, "inputs.json"), JSON.stringify(INPUTS, null, 1) + "\n");
  console.log(`wrote ${FIXTURE_DIR}/model and inputs.json`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
