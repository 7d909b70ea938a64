/**
 * GPT-NeoX / Pythia (config.json model_type "gpt_neox").
 *
 * Relies on these shared-forward features (model/forward.ts; all present, checked against an
 * independent reference by test/model/parity.test.ts): layernorm with biases; partial rotary
 * (rotaryDim < dHead: the first rotaryDim dims of each head rotate in halves, the rest pass);
 * parallelResidual true/false; ropeScaling linear/dynamic; attention biases per config.biases.
 *
 * Hugging Face source: transformers/models/gpt_neox/modeling_gpt_neox.py and
 * configuration_gpt_neox.py.
 *  - GPTNeoXAttention: `qkv = self.query_key_value(h)` then
 *    `qkv.view(*qkv.size()[:-1], num_heads, 3 * head_size)` and q = [..., :hs], k = [..., hs:2hs],
 *    v = [..., 2hs:]. So the fused Linear's output rows are laid out per head as [q_h, k_h, v_h],
 *    NOT as [all q | all k | all v] (that is GPT-2's c_attn). Row h*3*hs + e is q of head h, dim e.
 *  - rotary_ndims = int(head_size * rotary_pct); rotary base rotary_emb_base (newer configs:
 *    rope_parameters.rope_theta / partial_rotary_factor).
 *  - GPTNeoXLayer: parallel → x + attn(ln1(x)) + mlp(ln2(x)); sequential → a = x + attn(ln1(x));
 *    a + mlp(ln2(a)). ln1 = input_layernorm, ln2 = post_attention_layernorm in both modes.
 *  - attention_bias (default True) controls the biases of query_key_value AND dense.
 *  - embed_out has no bias and is untied unless tie_word_embeddings (default False).
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
  param,
  readRope,
  strOr,
  tokenId,
} from "./hf-fields.js";
import { copy, need, transpose2d } from "./host.js";

function parseConfig(raw: Record<string, unknown>, file: string): ModelConfig {
  // Absent fields take configuration_gpt_neox.py's defaults (the 20B model's sizes); a checkpoint
  // whose config omits its sizes then fails in fromHF with a shape error naming the tensor.
  const dModel = intOr(raw, "hidden_size", 6144, file);
  const nHeads = intOr(raw, "num_attention_heads", 64, file);
  if (dModel % nHeads !== 0) {
    throw configError(file, "num_attention_heads", `hidden_size ${dModel} is not divisible by num_attention_heads ${nHeads}`,
      "use a head count that divides hidden_size");
  }
  const dHead = dModel / nHeads;
  const rope = readRope(raw, file, { theta: ["rotary_emb_base"], partial: ["rotary_pct"] }, { theta: 10000, partial: 0.25 });
  // modeling_gpt_neox.py: rotary_ndims = int(head_size * rotary_pct) (Python int() truncates).
  const rotaryDim = Math.trunc(dHead * rope.partial);
  if (rotaryDim < 2 || rotaryDim % 2 !== 0) {
    throw configError(file, rope.partialField, `${rope.partialField} ${rope.partial} gives ${rotaryDim} rotary dims per head (head size ${dHead}); it must be even and >= 2`,
      `choose ${rope.partialField} so that head_size * ${rope.partialField} is a positive even integer`);
  }
  const attnBias = boolOr(raw, "attention_bias", true, file);
  const act = strOr(raw, "hidden_act", "gelu", file);
  activation(act, file, "hidden_act"); // unsupported activations fail at load, not mid-forward
  validateRopeScaling(rope.scaling, file);
  return {
    modelType: "gpt_neox",
    vocabSize: intOr(raw, "vocab_size", 50432, file),
    dModel,
    nLayers: intOr(raw, "num_hidden_layers", 44, file),
    nHeads,
    nKVHeads: nHeads,
    dHead,
    dMlp: intOr(raw, "intermediate_size", 24576, file),
    nCtx: intOr(raw, "max_position_embeddings", 2048, file),
    norm: "layernorm",
    normEps: numOr(raw, "layer_norm_eps", 1e-5, file),
    act,
    gatedMlp: false,
    positional: "rotary",
    rotaryDim,
    rotaryBase: rope.theta,
    rotaryInterleaved: false,
    ropeScaling: rope.scaling,
    parallelResidual: boolOr(raw, "use_parallel_residual", true, file),
    tiedEmbeddings: boolOr(raw, "tie_word_embeddings", false, file),
    biases: { qkv: attnBias, o: attnBias, mlp: true, unembed: false },
    bosTokenId: tokenId(raw, "bos_token_id", 0, file),
    eosTokenId: eosId(raw, 2, file),
    padTokenId: tokenId(raw, "pad_token_id", undefined, file),
    raw,
  };
}

function hasAttnBias(c: ModelConfig): boolean {
  return c.biases?.qkv ?? true;
}

const L = (l: number) => `gpt_neox.layers.${l}`;

/** Fused [3*H*hs, d] (per-head [q,k,v] rows) → three [d, H*hs] matrices. */
function splitQKV(w: F32Tensor, nHeads: number, dHead: number): [F32Tensor, F32Tensor, F32Tensor] {
  const d = w.shape[1]!;
  const width = nHeads * dHead;
  const outs = [0, 1, 2].map(() => new Float32Array(d * width));
  for (let h = 0; h < nHeads; h++) {
    for (let part = 0; part < 3; part++) {
      for (let e = 0; e < dHead; e++) {
        const row = h * 3 * dHead + part * dHead + e;
        const col = h * dHead + e;
        const dst = outs[part]!;
        for (let i = 0; i < d; i++) dst[i * width + col] = w.data[row * d + i]!;
      }
    }
  }
  return outs.map((data) => ({ shape: [d, width], data })) as [F32Tensor, F32Tensor, F32Tensor];
}

function splitQKVBias(b: F32Tensor, nHeads: number, dHead: number): [F32Tensor, F32Tensor, F32Tensor] {
  const outs = [0, 1, 2].map(() => new Float32Array(nHeads * dHead));
  for (let h = 0; h < nHeads; h++) {
    for (let part = 0; part < 3; part++) {
      for (let e = 0; e < dHead; e++) outs[part]![h * dHead + e] = b.data[h * 3 * dHead + part * dHead + e]!;
    }
  }
  return outs.map((data) => ({ shape: [nHeads * dHead], data })) as [F32Tensor, F32Tensor, F32Tensor];
}

function fuseQKV(q: F32Tensor, k: F32Tensor, v: F32Tensor, nHeads: number, dHead: number): F32Tensor {
  const d = q.shape[0]!;
  const width = nHeads * dHead;
  const out = new Float32Array(3 * width * d);
  const parts = [q, k, v];
  for (let h = 0; h < nHeads; h++) {
    for (let part = 0; part < 3; part++) {
      const src = parts[part]!.data;
      for (let e = 0; e < dHead; e++) {
        const row = h * 3 * dHead + part * dHead + e;
        const col = h * dHead + e;
        for (let i = 0; i < d; i++) out[row * d + i] = src[i * width + col]!;
      }
    }
  }
  return { shape: [3 * width, d], data: out };
}

function fuseQKVBias(q: F32Tensor, k: F32Tensor, v: F32Tensor, nHeads: number, dHead: number): F32Tensor {
  const out = new Float32Array(3 * nHeads * dHead);
  const parts = [q, k, v];
  for (let h = 0; h < nHeads; h++) {
    for (let part = 0; part < 3; part++) {
      for (let e = 0; e < dHead; e++) out[h * 3 * dHead + part * dHead + e] = parts[part]!.data[h * dHead + e]!;
    }
  }
  return { shape: [3 * nHeads * dHead], data: out };
}

async function fromHF(c: ModelConfig, src: HFTensorSource): Promise<Record<string, F32Tensor>> {
  const { dModel: d, dMlp: m, vocabSize: V, nHeads: H, dHead: hs } = c;
  const p: Record<string, F32Tensor> = {};
  p["embed.W_E"] = await need(src, "gpt_neox.embed_in.weight", [V, d]);
  const bias = hasAttnBias(c);
  for (let l = 0; l < c.nLayers; l++) {
    const b = `blocks.${l}`;
    p[`${b}.ln1.w`] = await need(src, `${L(l)}.input_layernorm.weight`, [d]);
    p[`${b}.ln1.b`] = await need(src, `${L(l)}.input_layernorm.bias`, [d]);
    p[`${b}.ln2.w`] = await need(src, `${L(l)}.post_attention_layernorm.weight`, [d]);
    p[`${b}.ln2.b`] = await need(src, `${L(l)}.post_attention_layernorm.bias`, [d]);
    const qkv = await need(src, `${L(l)}.attention.query_key_value.weight`, [3 * d, d]);
    [p[`${b}.attn.W_Q`], p[`${b}.attn.W_K`], p[`${b}.attn.W_V`]] = splitQKV(qkv, H, hs);
    p[`${b}.attn.W_O`] = transpose2d(await need(src, `${L(l)}.attention.dense.weight`, [d, d]));
    if (bias) {
      const qkvB = await need(src, `${L(l)}.attention.query_key_value.bias`, [3 * d]);
      [p[`${b}.attn.b_Q`], p[`${b}.attn.b_K`], p[`${b}.attn.b_V`]] = splitQKVBias(qkvB, H, hs);
      p[`${b}.attn.b_O`] = await need(src, `${L(l)}.attention.dense.bias`, [d]);
    }
    p[`${b}.mlp.W_in`] = transpose2d(await need(src, `${L(l)}.mlp.dense_h_to_4h.weight`, [m, d]));
    p[`${b}.mlp.b_in`] = await need(src, `${L(l)}.mlp.dense_h_to_4h.bias`, [m]);
    p[`${b}.mlp.W_out`] = transpose2d(await need(src, `${L(l)}.mlp.dense_4h_to_h.weight`, [d, m]));
    p[`${b}.mlp.b_out`] = await need(src, `${L(l)}.mlp.dense_4h_to_h.bias`, [d]);
  }
  p["ln_final.w"] = await need(src, "gpt_neox.final_layer_norm.weight", [d]);
  p["ln_final.b"] = await need(src, "gpt_neox.final_layer_norm.bias", [d]);
  // Tied: HF re-points embed_out at embed_in, so a stored embed_out (if any) is ignored.
  if (!c.tiedEmbeddings) p["unembed.W_U"] = transpose2d(await need(src, "embed_out.weight", [V, d]));
  return p;
}

function toHF(c: ModelConfig, p: Record<string, F32Tensor>): Record<string, F32Tensor> {
  const { nHeads: H, dHead: hs } = c;
  const t: Record<string, F32Tensor> = {};
  t["gpt_neox.embed_in.weight"] = copy(param(p, "embed.W_E"));
  const bias = hasAttnBias(c);
  for (let l = 0; l < c.nLayers; l++) {
    const b = `blocks.${l}`;
    t[`${L(l)}.input_layernorm.weight`] = copy(param(p, `${b}.ln1.w`));
    t[`${L(l)}.input_layernorm.bias`] = copy(param(p, `${b}.ln1.b`));
    t[`${L(l)}.post_attention_layernorm.weight`] = copy(param(p, `${b}.ln2.w`));
    t[`${L(l)}.post_attention_layernorm.bias`] = copy(param(p, `${b}.ln2.b`));
    t[`${L(l)}.attention.query_key_value.weight`] = fuseQKV(
      param(p, `${b}.attn.W_Q`), param(p, `${b}.attn.W_K`), param(p, `${b}.attn.W_V`), H, hs);
    t[`${L(l)}.attention.dense.weight`] = transpose2d(param(p, `${b}.attn.W_O`));
    if (bias) {
      t[`${L(l)}.attention.query_key_value.bias`] = fuseQKVBias(
        param(p, `${b}.attn.b_Q`), param(p, `${b}.attn.b_K`), param(p, `${b}.attn.b_V`), H, hs);
      t[`${L(l)}.attention.dense.bias`] = copy(param(p, `${b}.attn.b_O`));
    }
    t[`${L(l)}.mlp.dense_h_to_4h.weight`] = transpose2d(param(p, `${b}.mlp.W_in`));
    t[`${L(l)}.mlp.dense_h_to_4h.bias`] = copy(param(p, `${b}.mlp.b_in`));
    t[`${L(l)}.mlp.dense_4h_to_h.weight`] = transpose2d(param(p, `${b}.mlp.W_out`));
    t[`${L(l)}.mlp.dense_4h_to_h.bias`] = copy(param(p, `${b}.mlp.b_out`));
  }
  t["gpt_neox.final_layer_norm.weight"] = copy(param(p, "ln_final.w"));
  t["gpt_neox.final_layer_norm.bias"] = copy(param(p, "ln_final.b"));
  if (!c.tiedEmbeddings) t["embed_out.weight"] = transpose2d(param(p, "unembed.W_U"));
  return t;
}

export const neox: Family = { modelTypes: ["gpt_neox"], parseConfig, fromHF, toHF };
