/**
 * Gemma 2 (config.json model_type "gemma2").
 *
 * Relies on these shared-forward features (model/forward.ts; all present, checked against an
 * independent reference by test/model/parity.test.ts): norm "gemma_rmsnorm" — x / sqrt(mean(x²)+eps)
 * * (1 + w), computed in float32, with w stored exactly as in the checkpoint (no +1 folded in, so
 * toHF stays an exact inverse); postNorms: blocks.{l}.ln1_post applied to the attention output and
 * blocks.{l}.ln2_post to the MLP output BEFORE each is added to the residual; GeGLU
 * (gatedMlp: W_out(act(x W_gate) * (x W_in))); attention scale queryPreAttnScalar^-0.5 (not
 * dHead^-0.5); tanh soft-capping of the attention scores (after scaling, before the mask) and of
 * the final logits; a sliding window on the layers slidingWindowLayers[l] marks (key j visible to
 * query i iff i - window < j <= i); embeddings × embedScale = sqrt(hidden_size); GQA.
 *
 * Hugging Face source: transformers/models/gemma2/modeling_gemma2.py and configuration_gemma2.py.
 *  - Gemma2RMSNorm: `output * (1.0 + self.weight.float())`.
 *  - Gemma2DecoderLayer: x + post_attention_layernorm(attn(input_layernorm(x))), then
 *    x + post_feedforward_layernorm(mlp(pre_feedforward_layernorm(x))).
 *    Mapping: input_layernorm → ln1, post_attention_layernorm → ln1_post,
 *    pre_feedforward_layernorm → ln2, post_feedforward_layernorm → ln2_post.
 *  - Gemma2Attention: scaling = query_pre_attn_scalar ** -0.5; attn_logit_softcapping applied as
 *    tanh(s / cap) * cap; biases only when attention_bias.
 *  - Which layers slide: config.layer_types when given, else configuration_gemma2.py's
 *    "sliding_attention" if (i + 1) % 2 else "full_attention" — layers 0, 2, 4, … slide (older
 *    versions: `is_sliding = not bool(layer_idx % 2)`, the same pattern). Mask:
 *    masking_utils.sliding_window_overlay: kv_idx > q_idx - sliding_window.
 *  - Gemma2Model: hidden = embeds * hidden_size**0.5 (normalizer, in the hidden dtype).
 *  - Gemma2ForCausalLM: logits = tanh(logits / final_logit_softcapping) * final_logit_softcapping.
 *  - Defaults: head_dim 256 (NOT hidden_size / heads), num_key_value_heads 4, tie_word_embeddings
 *    True, rms_norm_eps 1e-6, query_pre_attn_scalar 256, sliding_window 4096, soft-caps 50 / 30.
 */
import { activation } from "../activations.js";
import { validateRopeScaling } from "../rotary.js";
import type { ModelConfig } from "../types.js";
import type { F32Tensor, Family, HFTensorSource } from "./types.js";
import {
  boolOr,
  configError,
  eosId,
  intOr,
  numOr,
  optInt,
  optPositive,
  param,
  readRope,
  slidingLayers,
  strOr,
  tokenId,
} from "./hf-fields.js";
import { copy, need, transpose2d } from "./host.js";

function parseConfig(raw: Record<string, unknown>, file: string): ModelConfig {
  // Absent fields take configuration_gemma2.py's defaults (gemma-2-2b's sizes).
  const dModel = intOr(raw, "hidden_size", 2304, file);
  const nLayers = intOr(raw, "num_hidden_layers", 26, file);
  const nHeads = intOr(raw, "num_attention_heads", 8, file);
  const nKVHeads = intOr(raw, "num_key_value_heads", 4, file);
  if (nHeads % nKVHeads !== 0) {
    throw configError(file, "num_key_value_heads", `num_attention_heads ${nHeads} is not a multiple of num_key_value_heads ${nKVHeads}`,
      "use a key/value head count that divides num_attention_heads");
  }
  const dHead = intOr(raw, "head_dim", 256, file);
  if (dHead % 2 !== 0) throw configError(file, "head_dim", `head_dim ${dHead} must be even for rotary embeddings`, "use an even head_dim");
  if (boolOr(raw, "use_bidirectional_attention", false, file)) {
    throw configError(file, "use_bidirectional_attention", "bidirectional Gemma-2 attention is not supported",
      "use a causal (decoder) checkpoint");
  }
  const attnBias = boolOr(raw, "attention_bias", false, file);
  const rope = readRope(raw, file);
  validateRopeScaling(rope.scaling, file);
  if (rope.partial !== 1) {
    throw configError(file, rope.partialField, "Gemma-2 rotates the whole head; partial_rotary_factor must be 1", "remove it");
  }
  const slidingWindow = optInt(raw, "sliding_window", 4096, file);
  // configuration_gemma2.py: layer_types defaults to "sliding_attention" if (i + 1) % 2 else "full_attention".
  const sliding = slidingLayers(raw, nLayers, file, (l) => (l + 1) % 2 === 1);
  // Gemma2MLP reads hidden_activation (hidden_act, also present in released configs, is Gemma-1's).
  const act = strOr(raw, "hidden_activation", "gelu_pytorch_tanh", file);
  activation(act, file, "hidden_activation");
  const queryPreAttnScalar = numOr(raw, "query_pre_attn_scalar", 256, file);
  if (!(queryPreAttnScalar > 0)) {
    throw configError(file, "query_pre_attn_scalar", `query_pre_attn_scalar must be positive, got ${queryPreAttnScalar}`, "set a positive value");
  }
  return {
    modelType: "gemma2",
    vocabSize: intOr(raw, "vocab_size", 256000, file),
    dModel,
    nLayers,
    nHeads,
    nKVHeads,
    dHead,
    dMlp: intOr(raw, "intermediate_size", 9216, file),
    nCtx: intOr(raw, "max_position_embeddings", 8192, file),
    norm: "gemma_rmsnorm",
    normEps: numOr(raw, "rms_norm_eps", 1e-6, file),
    act,
    gatedMlp: true,
    positional: "rotary",
    rotaryDim: dHead,
    rotaryBase: rope.theta,
    rotaryInterleaved: false,
    ropeScaling: rope.scaling,
    parallelResidual: false,
    postNorms: true,
    biases: { qkv: attnBias, o: attnBias, mlp: false, unembed: false },
    tiedEmbeddings: boolOr(raw, "tie_word_embeddings", true, file),
    slidingWindow,
    slidingWindowLayers: slidingWindow === undefined ? undefined : sliding,
    attnLogitSoftcap: optPositive(raw, "attn_logit_softcapping", 50, file),
    finalLogitSoftcap: optPositive(raw, "final_logit_softcapping", 30, file),
    queryPreAttnScalar,
    embedScale: Math.sqrt(dModel),
    bosTokenId: tokenId(raw, "bos_token_id", 2, file),
    eosTokenId: eosId(raw, 1, file),
    padTokenId: tokenId(raw, "pad_token_id", 0, file),
    raw,
  };
}

function hasAttnBias(c: ModelConfig): boolean {
  return c.biases?.qkv ?? false;
}

const L = (l: number) => `model.layers.${l}`;

async function fromHF(c: ModelConfig, src: HFTensorSource): Promise<Record<string, F32Tensor>> {
  const { dModel: d, dMlp: m, vocabSize: V } = c;
  const q = c.nHeads * c.dHead;
  const kv = c.nKVHeads * c.dHead;
  const bias = hasAttnBias(c);
  const p: Record<string, F32Tensor> = {};
  p["embed.W_E"] = await need(src, "model.embed_tokens.weight", [V, d]);
  for (let l = 0; l < c.nLayers; l++) {
    const b = `blocks.${l}`;
    p[`${b}.ln1.w`] = await need(src, `${L(l)}.input_layernorm.weight`, [d]);
    p[`${b}.ln1_post.w`] = await need(src, `${L(l)}.post_attention_layernorm.weight`, [d]);
    p[`${b}.ln2.w`] = await need(src, `${L(l)}.pre_feedforward_layernorm.weight`, [d]);
    p[`${b}.ln2_post.w`] = await need(src, `${L(l)}.post_feedforward_layernorm.weight`, [d]);
    p[`${b}.attn.W_Q`] = transpose2d(await need(src, `${L(l)}.self_attn.q_proj.weight`, [q, d]));
    p[`${b}.attn.W_K`] = transpose2d(await need(src, `${L(l)}.self_attn.k_proj.weight`, [kv, d]));
    p[`${b}.attn.W_V`] = transpose2d(await need(src, `${L(l)}.self_attn.v_proj.weight`, [kv, d]));
    p[`${b}.attn.W_O`] = transpose2d(await need(src, `${L(l)}.self_attn.o_proj.weight`, [d, q]));
    if (bias) {
      p[`${b}.attn.b_Q`] = await need(src, `${L(l)}.self_attn.q_proj.bias`, [q]);
      p[`${b}.attn.b_K`] = await need(src, `${L(l)}.self_attn.k_proj.bias`, [kv]);
      p[`${b}.attn.b_V`] = await need(src, `${L(l)}.self_attn.v_proj.bias`, [kv]);
      p[`${b}.attn.b_O`] = await need(src, `${L(l)}.self_attn.o_proj.bias`, [d]);
    }
    p[`${b}.mlp.W_gate`] = transpose2d(await need(src, `${L(l)}.mlp.gate_proj.weight`, [m, d]));
    p[`${b}.mlp.W_in`] = transpose2d(await need(src, `${L(l)}.mlp.up_proj.weight`, [m, d]));
    p[`${b}.mlp.W_out`] = transpose2d(await need(src, `${L(l)}.mlp.down_proj.weight`, [d, m]));
  }
  p["ln_final.w"] = await need(src, "model.norm.weight", [d]);
  if (!c.tiedEmbeddings) p["unembed.W_U"] = transpose2d(await need(src, "lm_head.weight", [V, d]));
  return p;
}

function toHF(c: ModelConfig, p: Record<string, F32Tensor>): Record<string, F32Tensor> {
  const bias = hasAttnBias(c);
  const t: Record<string, F32Tensor> = {};
  t["model.embed_tokens.weight"] = copy(param(p, "embed.W_E"));
  for (let l = 0; l < c.nLayers; l++) {
    const b = `blocks.${l}`;
    t[`${L(l)}.input_layernorm.weight`] = copy(param(p, `${b}.ln1.w`));
    t[`${L(l)}.post_attention_layernorm.weight`] = copy(param(p, `${b}.ln1_post.w`));
    t[`${L(l)}.pre_feedforward_layernorm.weight`] = copy(param(p, `${b}.ln2.w`));
    t[`${L(l)}.post_feedforward_layernorm.weight`] = copy(param(p, `${b}.ln2_post.w`));
    t[`${L(l)}.self_attn.q_proj.weight`] = transpose2d(param(p, `${b}.attn.W_Q`));
    t[`${L(l)}.self_attn.k_proj.weight`] = transpose2d(param(p, `${b}.attn.W_K`));
    t[`${L(l)}.self_attn.v_proj.weight`] = transpose2d(param(p, `${b}.attn.W_V`));
    t[`${L(l)}.self_attn.o_proj.weight`] = transpose2d(param(p, `${b}.attn.W_O`));
    if (bias) {
      t[`${L(l)}.self_attn.q_proj.bias`] = copy(param(p, `${b}.attn.b_Q`));
      t[`${L(l)}.self_attn.k_proj.bias`] = copy(param(p, `${b}.attn.b_K`));
      t[`${L(l)}.self_attn.v_proj.bias`] = copy(param(p, `${b}.attn.b_V`));
      t[`${L(l)}.self_attn.o_proj.bias`] = copy(param(p, `${b}.attn.b_O`));
    }
    t[`${L(l)}.mlp.gate_proj.weight`] = transpose2d(param(p, `${b}.mlp.W_gate`));
    t[`${L(l)}.mlp.up_proj.weight`] = transpose2d(param(p, `${b}.mlp.W_in`));
    t[`${L(l)}.mlp.down_proj.weight`] = transpose2d(param(p, `${b}.mlp.W_out`));
  }
  t["model.norm.weight"] = copy(param(p, "ln_final.w"));
  if (!c.tiedEmbeddings) t["lm_head.weight"] = transpose2d(param(p, "unembed.W_U"));
  return t;
}

export const gemma2: Family = { modelTypes: ["gemma2"], parseConfig, fromHF, toHF };
