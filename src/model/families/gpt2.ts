/**
 * GPT-2 (transformers/models/gpt2: configuration_gpt2.py, modeling_gpt2.py).
 *
 * Defaults from GPT2Config: vocab_size 50257, n_positions 1024, n_embd 768, n_layer 12, n_head 12,
 * n_inner None (→ 4·n_embd), activation_function "gelu_new", layer_norm_epsilon 1e-5,
 * tie_word_embeddings True, bos/eos 50256 (an explicit null is None: no such token). Attention
 * scores are divided by sqrt(head_dim) (scale_attn_weights True); scale_attn_by_inverse_layer_idx
 * is not implemented and rejected.
 *
 * Weights are Conv1D, already [in, out]; c_attn fuses Q, K, V along its output columns
 * (split(split_size = n_embd, dim=2) in GPT2Attention.forward). Checkpoints come with or without the
 * "transformer." prefix (GPT2LMHeadModel vs GPT2Model); the causal-mask buffers `attn.bias` /
 * `attn.masked_bias` of old checkpoints are ignored. lm_head is tied to wte unless the config says not.
 */
import { activation } from "../activations.js";
import type { ModelConfig } from "../types.js";
import { boolOr, configError, eosId, intOr, numOr, optInt, param, strOr, tokenId } from "./hf-fields.js";
import { concatLast, copy, need, sliceLast, transpose2d } from "./host.js";
import type { F32Tensor, Family, HFTensorSource } from "./types.js";

function parseConfig(raw: Record<string, unknown>, file: string): ModelConfig {
  const dModel = intOr(raw, "n_embd", 768, file);
  const nHeads = intOr(raw, "n_head", 12, file);
  if (dModel % nHeads !== 0) throw configError(file, "n_head", `n_embd ${dModel} is not divisible by n_head ${nHeads}`, "fix n_embd / n_head");
  const act = strOr(raw, "activation_function", "gelu_new", file);
  activation(act, file, "activation_function");
  if (!boolOr(raw, "scale_attn_weights", true, file)) {
    throw configError(file, "scale_attn_weights", "scale_attn_weights=false is not supported", "use a checkpoint with scale_attn_weights=true");
  }
  if (boolOr(raw, "scale_attn_by_inverse_layer_idx", false, file)) {
    throw configError(file, "scale_attn_by_inverse_layer_idx", "scale_attn_by_inverse_layer_idx=true is not supported", "use a checkpoint without it");
  }
  const config: ModelConfig = {
    modelType: "gpt2",
    vocabSize: intOr(raw, "vocab_size", 50257, file),
    dModel,
    nLayers: intOr(raw, "n_layer", 12, file),
    nHeads,
    nKVHeads: nHeads,
    dHead: dModel / nHeads,
    dMlp: optInt(raw, "n_inner", undefined, file) ?? 4 * dModel, // n_inner None → 4·n_embd
    nCtx: intOr(raw, "n_positions", 1024, file),
    norm: "layernorm",
    normEps: numOr(raw, "layer_norm_epsilon", 1e-5, file),
    act,
    gatedMlp: false,
    positional: "learned",
    rotaryDim: 0,
    rotaryBase: 10000,
    rotaryInterleaved: false,
    parallelResidual: false,
    tiedEmbeddings: boolOr(raw, "tie_word_embeddings", true, file),
    biases: { qkv: true, o: true, mlp: true, unembed: false },
    raw,
  };
  // GPT2Config stores bos/eos as given: absent → 50256, null → None (no such token).
  const bos = tokenId(raw, "bos_token_id", 50256, file);
  const eos = eosId(raw, 50256, file);
  const pad = tokenId(raw, "pad_token_id", undefined, file);
  if (bos !== undefined) config.bosTokenId = bos;
  if (eos !== undefined) config.eosTokenId = eos;
  if (pad !== undefined) config.padTokenId = pad;
  return config;
}

async function fromHF(config: ModelConfig, source: HFTensorSource): Promise<Record<string, F32Tensor>> {
  const pre = source.has("transformer.wte.weight") ? "transformer." : "";
  const d = config.dModel;
  const out: Record<string, F32Tensor> = {};
  out["embed.W_E"] = await need(source, `${pre}wte.weight`, [config.vocabSize, d]);
  out["pos_embed.W_pos"] = await need(source, `${pre}wpe.weight`, [config.nCtx, d]);
  for (let l = 0; l < config.nLayers; l++) {
    const h = `${pre}h.${l}.`;
    const b = `blocks.${l}.`;
    for (const [ours, theirs] of [["ln1", "ln_1"], ["ln2", "ln_2"]] as const) {
      out[`${b}${ours}.w`] = await need(source, `${h}${theirs}.weight`, [d]);
      out[`${b}${ours}.b`] = await need(source, `${h}${theirs}.bias`, [d]);
    }
    const cAttnW = await need(source, `${h}attn.c_attn.weight`, [d, 3 * d]);
    const cAttnB = await need(source, `${h}attn.c_attn.bias`, [3 * d]);
    (["Q", "K", "V"] as const).forEach((n, i) => {
      out[`${b}attn.W_${n}`] = sliceLast(cAttnW, i * d, (i + 1) * d);
      out[`${b}attn.b_${n}`] = sliceLast(cAttnB, i * d, (i + 1) * d);
    });
    out[`${b}attn.W_O`] = await need(source, `${h}attn.c_proj.weight`, [d, d]);
    out[`${b}attn.b_O`] = await need(source, `${h}attn.c_proj.bias`, [d]);
    out[`${b}mlp.W_in`] = await need(source, `${h}mlp.c_fc.weight`, [d, config.dMlp]);
    out[`${b}mlp.b_in`] = await need(source, `${h}mlp.c_fc.bias`, [config.dMlp]);
    out[`${b}mlp.W_out`] = await need(source, `${h}mlp.c_proj.weight`, [config.dMlp, d]);
    out[`${b}mlp.b_out`] = await need(source, `${h}mlp.c_proj.bias`, [d]);
  }
  out["ln_final.w"] = await need(source, `${pre}ln_f.weight`, [d]);
  out["ln_final.b"] = await need(source, `${pre}ln_f.bias`, [d]);
  if (!config.tiedEmbeddings) out["unembed.W_U"] = transpose2d(await need(source, "lm_head.weight", [config.vocabSize, d]));
  return out;
}

function toHF(config: ModelConfig, params: Record<string, F32Tensor>): Record<string, F32Tensor> {
  const p = (name: string): F32Tensor => param(params, name);
  const out: Record<string, F32Tensor> = {};
  out["transformer.wte.weight"] = copy(p("embed.W_E"));
  out["transformer.wpe.weight"] = copy(p("pos_embed.W_pos"));
  for (let l = 0; l < config.nLayers; l++) {
    const h = `transformer.h.${l}.`;
    const b = `blocks.${l}.`;
    out[`${h}ln_1.weight`] = copy(p(`${b}ln1.w`));
    out[`${h}ln_1.bias`] = copy(p(`${b}ln1.b`));
    out[`${h}ln_2.weight`] = copy(p(`${b}ln2.w`));
    out[`${h}ln_2.bias`] = copy(p(`${b}ln2.b`));
    out[`${h}attn.c_attn.weight`] = concatLast([p(`${b}attn.W_Q`), p(`${b}attn.W_K`), p(`${b}attn.W_V`)]);
    out[`${h}attn.c_attn.bias`] = concatLast([p(`${b}attn.b_Q`), p(`${b}attn.b_K`), p(`${b}attn.b_V`)]);
    out[`${h}attn.c_proj.weight`] = copy(p(`${b}attn.W_O`));
    out[`${h}attn.c_proj.bias`] = copy(p(`${b}attn.b_O`));
    out[`${h}mlp.c_fc.weight`] = copy(p(`${b}mlp.W_in`));
    out[`${h}mlp.c_fc.bias`] = copy(p(`${b}mlp.b_in`));
    out[`${h}mlp.c_proj.weight`] = copy(p(`${b}mlp.W_out`));
    out[`${h}mlp.c_proj.bias`] = copy(p(`${b}mlp.b_out`));
  }
  out["transformer.ln_f.weight"] = copy(p("ln_final.w"));
  out["transformer.ln_f.bias"] = copy(p("ln_final.b"));
  if (!config.tiedEmbeddings) out["lm_head.weight"] = transpose2d(p("unembed.W_U"));
  return out;
}

export const gpt2: Family = { modelTypes: ["gpt2"], parseConfig, fromHF, toHF };
