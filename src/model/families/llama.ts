/**
 * Llama, Mistral and Qwen2 (transformers/models/{llama,mistral,qwen2}): the same decoder —
 * RMSNorm, rotary (rotate_half), grouped-query attention, SwiGLU MLP — differing in defaults and
 * in three switches:
 * - Qwen2 has q/k/v biases (Qwen2Attention: q_proj/k_proj/v_proj bias=True, o_proj bias=False).
 * - Llama: attention_bias (q/k/v/o) and mlp_bias (gate/up/down), default false.
 * - Sliding window: Mistral applies `sliding_window` (default 4096; null disables) to every layer.
 *   Qwen2 only when use_sliding_window (default false), on layers i ≥ max_window_layers (default
 *   28), or as `layer_types` lists (configuration_qwen2.py).
 *
 * Defaults (configuration_*.py)        llama      mistral    qwen2
 *   vocab_size                        32000      32000      151936
 *   hidden_size                       4096       4096       4096
 *   intermediate_size                 11008      14336      22016
 *   num_hidden_layers                 32         32         32
 *   num_attention_heads               32         32         32
 *   num_key_value_heads               = heads    8          32
 *   max_position_embeddings           2048       131072     32768
 *   rms_norm_eps 1e-6, hidden_act silu, rope_theta 10000, tie_word_embeddings false (all three).
 * head_dim defaults to hidden_size / num_attention_heads; rope dims = head_dim·partial_rotary_factor.
 * Newer configs may carry `rope_parameters` (rope_theta + rope_type + scaling keys) instead of
 * rope_theta/rope_scaling; both are read (readRope, shared with NeoX and Gemma-2).
 * An explicit null is Python's None (hf-fields.ts): head_dim null → hidden_size / heads;
 * num_key_value_heads null → num_attention_heads (all three __init__s: "if num_key_value_heads is
 * None: num_key_value_heads = num_attention_heads" — so Mistral's null is NOT its default 8);
 * sliding_window / rope_scaling / rope_parameters / layer_types null → none / derived. Token ids are
 * taken as given; an absent one stays unset (Llama/Mistral's bos 1 / eos 2 defaults are not applied).
 *
 * HF Linear weights are [out, in]; scalpel's are [in, out], so every projection is transposed.
 */
import { activation } from "../activations.js";
import { validateRopeScaling } from "../rotary.js";
import type { ModelConfig } from "../types.js";
import { boolOr, configError, eosId, intOr, numOr, optInt, param, readRope, slidingLayers, strOr, tokenId } from "./hf-fields.js";
import { copy, need, transpose2d } from "./host.js";
import type { F32Tensor, Family, HFTensorSource } from "./types.js";

const DEFAULTS: Record<"llama" | "mistral" | "qwen2", { vocab: number; mlp: number; kv?: number; ctx: number }> = {
  llama: { vocab: 32000, mlp: 11008, ctx: 2048 },
  mistral: { vocab: 32000, mlp: 14336, kv: 8, ctx: 4096 * 32 },
  qwen2: { vocab: 151936, mlp: 22016, kv: 32, ctx: 32768 },
};

function parseConfig(raw: Record<string, unknown>, file: string): ModelConfig {
  const modelType = raw["model_type"];
  if (modelType !== "llama" && modelType !== "mistral" && modelType !== "qwen2") {
    throw configError(file, "model_type", `model_type ${JSON.stringify(modelType)} is not handled by the llama family`, "use llama, mistral or qwen2");
  }
  const def = DEFAULTS[modelType];
  const dModel = intOr(raw, "hidden_size", 4096, file);
  const nHeads = intOr(raw, "num_attention_heads", 32, file);
  // num_key_value_heads: int | None; None (llama's default) → num_attention_heads in all three.
  const nKVHeads = optInt(raw, "num_key_value_heads", def.kv, file) ?? nHeads;
  if (nHeads % nKVHeads !== 0) {
    throw configError(file, "num_key_value_heads", `num_attention_heads ${nHeads} is not a multiple of num_key_value_heads ${nKVHeads}`, "fix the head counts");
  }
  // head_dim: int | None = None; None → hidden_size // num_attention_heads.
  const explicitHeadDim = optInt(raw, "head_dim", undefined, file);
  if (explicitHeadDim === undefined && dModel % nHeads !== 0) {
    throw configError(file, "num_attention_heads", `hidden_size ${dModel} is not divisible by num_attention_heads ${nHeads}`, "set head_dim or fix the sizes");
  }
  const dHead = explicitHeadDim ?? dModel / nHeads;
  const act = strOr(raw, "hidden_act", "silu", file);
  activation(act, file, "hidden_act");
  const nLayers = intOr(raw, "num_hidden_layers", 32, file);

  const rope = readRope(raw, file);
  validateRopeScaling(rope.scaling, file);
  const rotaryDim = Math.floor(dHead * rope.partial);
  if (rotaryDim % 2 !== 0 || rotaryDim <= 0) {
    throw configError(file, rope.partialField, `rotary dimension ${rotaryDim} must be a positive even number`, `fix ${rope.partialField} / head_dim`);
  }

  const config: ModelConfig = {
    modelType,
    vocabSize: intOr(raw, "vocab_size", def.vocab, file),
    dModel,
    nLayers,
    nHeads,
    nKVHeads,
    dHead,
    dMlp: intOr(raw, "intermediate_size", def.mlp, file),
    nCtx: intOr(raw, "max_position_embeddings", def.ctx, file),
    norm: "rmsnorm",
    normEps: numOr(raw, "rms_norm_eps", 1e-6, file),
    act,
    gatedMlp: true,
    positional: "rotary",
    rotaryDim,
    rotaryBase: rope.theta,
    rotaryInterleaved: false,
    parallelResidual: false,
    tiedEmbeddings: boolOr(raw, "tie_word_embeddings", false, file),
    raw,
  };
  if (rope.scaling) config.ropeScaling = rope.scaling;

  if (modelType === "qwen2") {
    config.biases = { qkv: true, o: false, mlp: false, unembed: false };
  } else if (modelType === "llama") {
    const attnBias = boolOr(raw, "attention_bias", false, file);
    const mlpBias = boolOr(raw, "mlp_bias", false, file);
    config.biases = { qkv: attnBias, o: attnBias, mlp: mlpBias, unembed: false };
  } else {
    config.biases = { qkv: false, o: false, mlp: false, unembed: false };
  }

  // Sliding window (sliding_window: int | None = 4096; None → no window).
  if (modelType === "mistral") {
    const window = optInt(raw, "sliding_window", 4096, file);
    if (window !== undefined) config.slidingWindow = window;
  } else if (modelType === "qwen2") {
    // configuration_qwen2.py: sliding_window = sliding_window if use_sliding_window else None;
    // layer_types None → "sliding_attention" on layers i >= max_window_layers when a window is set.
    const use = boolOr(raw, "use_sliding_window", false, file);
    const w = optInt(raw, "sliding_window", 4096, file);
    const window = use ? w : undefined;
    const from = window === undefined ? nLayers : intOr(raw, "max_window_layers", 28, file);
    const sliding = slidingLayers(raw, nLayers, file, (l) => l >= from);
    if (window !== undefined && sliding.includes(true)) {
      config.slidingWindow = window;
      config.slidingWindowLayers = sliding;
    }
  }

  // Token ids: int | None, absent → undefined here (see the header).
  const bos = tokenId(raw, "bos_token_id", undefined, file);
  const eos = eosId(raw, undefined, file);
  const pad = tokenId(raw, "pad_token_id", undefined, file);
  if (bos !== undefined) config.bosTokenId = bos;
  if (eos !== undefined) config.eosTokenId = eos;
  if (pad !== undefined) config.padTokenId = pad;
  return config;
}

const PROJ = [
  ["attn.W_Q", "self_attn.q_proj", "q"],
  ["attn.W_K", "self_attn.k_proj", "kv"],
  ["attn.W_V", "self_attn.v_proj", "kv"],
  ["attn.W_O", "self_attn.o_proj", "o"],
  ["mlp.W_gate", "mlp.gate_proj", "up"],
  ["mlp.W_in", "mlp.up_proj", "up"],
  ["mlp.W_out", "mlp.down_proj", "down"],
] as const;

const BIAS: Record<string, string> = {
  "attn.W_Q": "attn.b_Q",
  "attn.W_K": "attn.b_K",
  "attn.W_V": "attn.b_V",
  "attn.W_O": "attn.b_O",
  "mlp.W_gate": "mlp.b_gate",
  "mlp.W_in": "mlp.b_in",
  "mlp.W_out": "mlp.b_out",
};

/** [in, out] shape of each projection. */
function projShape(config: ModelConfig, kind: (typeof PROJ)[number][2]): [number, number] {
  const { dModel: d, nHeads, nKVHeads, dHead, dMlp } = config;
  switch (kind) {
    case "q":
      return [d, nHeads * dHead];
    case "kv":
      return [d, nKVHeads * dHead];
    case "o":
      return [nHeads * dHead, d];
    case "up":
      return [d, dMlp];
    case "down":
      return [dMlp, d];
  }
}

function hasBias(config: ModelConfig, ours: string): boolean {
  const b = config.biases ?? {};
  if (ours.startsWith("mlp.")) return b.mlp === true;
  if (ours === "attn.W_O") return b.o === true;
  return b.qkv === true;
}

async function fromHF(config: ModelConfig, source: HFTensorSource): Promise<Record<string, F32Tensor>> {
  const d = config.dModel;
  const out: Record<string, F32Tensor> = {};
  out["embed.W_E"] = await need(source, "model.embed_tokens.weight", [config.vocabSize, d]);
  for (let l = 0; l < config.nLayers; l++) {
    const h = `model.layers.${l}.`;
    const b = `blocks.${l}.`;
    out[`${b}ln1.w`] = await need(source, `${h}input_layernorm.weight`, [d]);
    out[`${b}ln2.w`] = await need(source, `${h}post_attention_layernorm.weight`, [d]);
    for (const [ours, theirs, kind] of PROJ) {
      const [i, o] = projShape(config, kind);
      out[b + ours] = transpose2d(await need(source, `${h}${theirs}.weight`, [o, i]));
      if (hasBias(config, ours)) out[b + BIAS[ours]!] = await need(source, `${h}${theirs}.bias`, [o]);
    }
  }
  out["ln_final.w"] = await need(source, "model.norm.weight", [d]);
  if (!config.tiedEmbeddings) out["unembed.W_U"] = transpose2d(await need(source, "lm_head.weight", [config.vocabSize, d]));
  return out;
}

function toHF(config: ModelConfig, params: Record<string, F32Tensor>): Record<string, F32Tensor> {
  const p = (name: string): F32Tensor => param(params, name);
  const out: Record<string, F32Tensor> = {};
  out["model.embed_tokens.weight"] = copy(p("embed.W_E"));
  for (let l = 0; l < config.nLayers; l++) {
    const h = `model.layers.${l}.`;
    const b = `blocks.${l}.`;
    out[`${h}input_layernorm.weight`] = copy(p(`${b}ln1.w`));
    out[`${h}post_attention_layernorm.weight`] = copy(p(`${b}ln2.w`));
    for (const [ours, theirs] of PROJ) {
      out[`${h}${theirs}.weight`] = transpose2d(p(b + ours));
      if (hasBias(config, ours)) out[`${h}${theirs}.bias`] = copy(p(b + BIAS[ours]!));
    }
  }
  out["model.norm.weight"] = copy(p("ln_final.w"));
  if (!config.tiedEmbeddings) out["lm_head.weight"] = transpose2d(p("unembed.W_U"));
  return out;
}

export const llama: Family = { modelTypes: ["llama", "mistral", "qwen2"], parseConfig, fromHF, toHF };
