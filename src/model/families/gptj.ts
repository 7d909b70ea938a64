/**
 * GPT-J (config.json model_type "gptj").
 *
 * Relies on these shared-forward features (model/forward.ts; all present, checked against an
 * independent reference by test/model/parity.test.ts): one norm per block (sharedBlockNorm:
 * blocks.{l}.ln2.* absent, the MLP reads ln1's output) with parallelResidual; interleaved rotary
 * (rotaryInterleaved: pairs (2i, 2i+1), GPT-J's rotate_every_two) on the first rotaryDim dims
 * of each head; q/k/v/o without biases; unembed.b_U, present even when the embedding is tied.
 *
 * Hugging Face source: transformers/models/gptj/modeling_gptj.py and configuration_gptj.py.
 *  - GPTJBlock: h = ln_1(x); x + attn(h) + mlp(h).
 *  - GPTJAttention: q_proj/k_proj/v_proj/out_proj with bias=False; scale_attn = sqrt(head_dim);
 *    rotary on k[..., :rotary_dim] with create_sinusoidal_positions(max_positions, rotary_dim)
 *    (base 10000, fixed) and apply_rotary_pos_emb = x*cos + rotate_every_two(x)*sin where sin/cos
 *    are repeat_interleave'd by 2 — i.e. adjacent pairs rotate.
 *  - rotary_dim None: HF builds the table over embed_dim and rotates the whole head, which only
 *    runs when n_head == 1 (embed_dim == head_dim); we read None as "the whole head".
 *  - GPTJMLP: fc_out(act(fc_in(h))), both with biases; n_inner None → 4 * n_embd.
 *  - lm_head = nn.Linear(n_embd, vocab) WITH bias; tie_word_embeddings defaults to False.
 */
import { activation } from "../activations.js";
import type { ModelConfig } from "../types.js";
import type { F32Tensor, Family, HFTensorSource } from "./types.js";
import {
  boolOr,
  configError,
  eosId,
  intOr,
  numOr,
  optInt,
  param,
  strOr,
  tokenId,
} from "./hf-fields.js";
import { copy, need, transpose2d } from "./host.js";

function parseConfig(raw: Record<string, unknown>, file: string): ModelConfig {
  // Absent fields take configuration_gptj.py's defaults (GPT-J-6B's sizes).
  const dModel = intOr(raw, "n_embd", 4096, file);
  const nHeads = intOr(raw, "n_head", 16, file);
  const act = strOr(raw, "activation_function", "gelu_new", file);
  activation(act, file, "activation_function");
  if (dModel % nHeads !== 0) {
    throw configError(file, "n_head", `n_embd ${dModel} is not divisible by n_head ${nHeads}`, "use a head count that divides n_embd");
  }
  const dHead = dModel / nHeads;
  // configuration_gptj.py: rotary_dim=64 by default; an explicit null means the whole head.
  const rotaryDim = optInt(raw, "rotary_dim", 64, file) ?? dHead;
  if (rotaryDim % 2 !== 0 || rotaryDim > dHead) {
    throw configError(file, "rotary_dim", `rotary_dim ${rotaryDim} must be even and at most the head size ${dHead}`,
      "set rotary_dim to an even number <= n_embd / n_head");
  }
  return {
    modelType: "gptj",
    vocabSize: intOr(raw, "vocab_size", 50400, file),
    dModel,
    nLayers: intOr(raw, "n_layer", 28, file),
    nHeads,
    nKVHeads: nHeads,
    dHead,
    dMlp: optInt(raw, "n_inner", undefined, file) ?? 4 * dModel,
    nCtx: intOr(raw, "n_positions", 2048, file),
    norm: "layernorm",
    normEps: numOr(raw, "layer_norm_epsilon", 1e-5, file),
    act,
    gatedMlp: false,
    positional: "rotary",
    rotaryDim,
    rotaryBase: 10000,
    rotaryInterleaved: true,
    parallelResidual: true,
    sharedBlockNorm: true,
    biases: { qkv: false, o: false, mlp: true, unembed: true },
    tiedEmbeddings: boolOr(raw, "tie_word_embeddings", false, file),
    bosTokenId: tokenId(raw, "bos_token_id", 50256, file),
    eosTokenId: eosId(raw, 50256, file),
    padTokenId: tokenId(raw, "pad_token_id", undefined, file),
    raw,
  };
}

const L = (l: number) => `transformer.h.${l}`;

async function fromHF(c: ModelConfig, src: HFTensorSource): Promise<Record<string, F32Tensor>> {
  const { dModel: d, dMlp: m, vocabSize: V } = c;
  const p: Record<string, F32Tensor> = {};
  p["embed.W_E"] = await need(src, "transformer.wte.weight", [V, d]);
  for (let l = 0; l < c.nLayers; l++) {
    const b = `blocks.${l}`;
    p[`${b}.ln1.w`] = await need(src, `${L(l)}.ln_1.weight`, [d]);
    p[`${b}.ln1.b`] = await need(src, `${L(l)}.ln_1.bias`, [d]);
    p[`${b}.attn.W_Q`] = transpose2d(await need(src, `${L(l)}.attn.q_proj.weight`, [d, d]));
    p[`${b}.attn.W_K`] = transpose2d(await need(src, `${L(l)}.attn.k_proj.weight`, [d, d]));
    p[`${b}.attn.W_V`] = transpose2d(await need(src, `${L(l)}.attn.v_proj.weight`, [d, d]));
    p[`${b}.attn.W_O`] = transpose2d(await need(src, `${L(l)}.attn.out_proj.weight`, [d, d]));
    p[`${b}.mlp.W_in`] = transpose2d(await need(src, `${L(l)}.mlp.fc_in.weight`, [m, d]));
    p[`${b}.mlp.b_in`] = await need(src, `${L(l)}.mlp.fc_in.bias`, [m]);
    p[`${b}.mlp.W_out`] = transpose2d(await need(src, `${L(l)}.mlp.fc_out.weight`, [d, m]));
    p[`${b}.mlp.b_out`] = await need(src, `${L(l)}.mlp.fc_out.bias`, [d]);
  }
  p["ln_final.w"] = await need(src, "transformer.ln_f.weight", [d]);
  p["ln_final.b"] = await need(src, "transformer.ln_f.bias", [d]);
  if (!c.tiedEmbeddings) p["unembed.W_U"] = transpose2d(await need(src, "lm_head.weight", [V, d]));
  p["unembed.b_U"] = await need(src, "lm_head.bias", [V]);
  return p;
}

function toHF(c: ModelConfig, p: Record<string, F32Tensor>): Record<string, F32Tensor> {
  const t: Record<string, F32Tensor> = {};
  t["transformer.wte.weight"] = copy(param(p, "embed.W_E"));
  for (let l = 0; l < c.nLayers; l++) {
    const b = `blocks.${l}`;
    t[`${L(l)}.ln_1.weight`] = copy(param(p, `${b}.ln1.w`));
    t[`${L(l)}.ln_1.bias`] = copy(param(p, `${b}.ln1.b`));
    t[`${L(l)}.attn.q_proj.weight`] = transpose2d(param(p, `${b}.attn.W_Q`));
    t[`${L(l)}.attn.k_proj.weight`] = transpose2d(param(p, `${b}.attn.W_K`));
    t[`${L(l)}.attn.v_proj.weight`] = transpose2d(param(p, `${b}.attn.W_V`));
    t[`${L(l)}.attn.out_proj.weight`] = transpose2d(param(p, `${b}.attn.W_O`));
    t[`${L(l)}.mlp.fc_in.weight`] = transpose2d(param(p, `${b}.mlp.W_in`));
    t[`${L(l)}.mlp.fc_in.bias`] = copy(param(p, `${b}.mlp.b_in`));
    t[`${L(l)}.mlp.fc_out.weight`] = transpose2d(param(p, `${b}.mlp.W_out`));
    t[`${L(l)}.mlp.fc_out.bias`] = copy(param(p, `${b}.mlp.b_out`));
  }
  t["transformer.ln_f.weight"] = copy(param(p, "ln_final.w"));
  t["transformer.ln_f.bias"] = copy(param(p, "ln_final.b"));
  if (!c.tiedEmbeddings) t["lm_head.weight"] = transpose2d(param(p, "unembed.W_U"));
  t["lm_head.bias"] = copy(param(p, "unembed.b_U"));
  return t;
}

export const gptj: Family = { modelTypes: ["gptj"], parseConfig, fromHF, toHF };
