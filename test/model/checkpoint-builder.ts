/**
 * Builds small random-weight Hugging Face checkpoints for tests: config.json with the real HF
 * field names, model.safetensors with the real HF tensor names and shapes, and a byte-level BPE
 * tokenizer.json. Seeded: the same spec gives the same bytes.
 *
 * The tensor lists are written out per architecture from transformers' modeling_*.py (module
 * names and nn.Linear/Conv1D shapes), independently of src/model/families, so a wrong name or
 * layout in a family shows up as a load failure or a parity failure.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { writeSafetensors } from "../../src/io/safetensors-file.js";

export type HFModelType = "gpt2" | "gpt_neox" | "gptj" | "llama" | "mistral" | "qwen2" | "gemma2";

export interface CheckpointSpec {
  modelType: HFModelType;
  seed?: number;
  /** Defaults: vocab 272, d_model 16, 2 layers, 4 heads (kv heads = heads), d_mlp 4·d_model, context 64. */
  vocabSize?: number;
  dModel?: number;
  nLayers?: number;
  nHeads?: number;
  nKVHeads?: number;
  /** Llama-like / Gemma-2 head_dim (default d_model / heads). */
  dHead?: number;
  dMlp?: number;
  nCtx?: number;
  tied?: boolean;
  /** NeoX attention_bias, Llama attention_bias + mlp_bias, Gemma-2 attention_bias. */
  bias?: boolean;
  /** Extra / overriding config.json fields (use_parallel_residual, rope_scaling, sliding_window, …). */
  config?: Record<string, unknown>;
  /** Storage dtype of model.safetensors (default F32). Half precisions round the returned tensors too. */
  dtype?: "F32" | "F16" | "BF16";
}

export interface HFTensor {
  shape: number[];
  data: Float32Array;
}

export interface BuiltCheckpoint {
  config: Record<string, unknown>;
  tensors: Record<string, HFTensor>;
}

/** mulberry32 + Box–Muller: small, seeded, independent of the library's RNG. */
function normal(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => {
    const u = Math.max(uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

type Kind = "linear" | "embed" | "norm" | "gemmaNorm" | "bias";

/** The HF tensors (name → shape, kind) and config.json of one spec. */
function layout(spec: CheckpointSpec): { config: Record<string, unknown>; tensors: [string, number[], Kind][] } {
  const V = spec.vocabSize ?? 272;
  const d = spec.dModel ?? 16;
  const L = spec.nLayers ?? 2;
  const H = spec.nHeads ?? 4;
  const KV = spec.nKVHeads ?? H;
  const dh = spec.dHead ?? d / H;
  const m = spec.dMlp ?? 4 * d;
  const ctx = spec.nCtx ?? 64;
  const t: [string, number[], Kind][] = [];
  const ids = { bos_token_id: V - 1, eos_token_id: V - 1 };
  let config: Record<string, unknown>;
  const lin = (name: string, out: number, inn: number, bias: boolean) => {
    t.push([`${name}.weight`, [out, inn], "linear"]);
    if (bias) t.push([`${name}.bias`, [out], "bias"]);
  };
  const ln = (name: string) => t.push([`${name}.weight`, [d], "norm"], [`${name}.bias`, [d], "bias"]);
  switch (spec.modelType) {
    case "gpt2": {
      // modeling_gpt2.py: Conv1D weights are [in, out].
      const tied = spec.tied ?? true;
      config = { architectures: ["GPT2LMHeadModel"], model_type: "gpt2", vocab_size: V, n_positions: ctx, n_embd: d, n_layer: L,
        n_head: H, n_inner: m, activation_function: "gelu_new", layer_norm_epsilon: 1e-5, tie_word_embeddings: tied, ...ids };
      t.push(["transformer.wte.weight", [V, d], "embed"], ["transformer.wpe.weight", [ctx, d], "embed"]);
      for (let l = 0; l < L; l++) {
        const p = `transformer.h.${l}`;
        ln(`${p}.ln_1`);
        t.push([`${p}.attn.c_attn.weight`, [d, 3 * d], "linear"], [`${p}.attn.c_attn.bias`, [3 * d], "bias"]);
        t.push([`${p}.attn.c_proj.weight`, [d, d], "linear"], [`${p}.attn.c_proj.bias`, [d], "bias"]);
        ln(`${p}.ln_2`);
        t.push([`${p}.mlp.c_fc.weight`, [d, m], "linear"], [`${p}.mlp.c_fc.bias`, [m], "bias"]);
        t.push([`${p}.mlp.c_proj.weight`, [m, d], "linear"], [`${p}.mlp.c_proj.bias`, [d], "bias"]);
      }
      ln("transformer.ln_f");
      if (!tied) t.push(["lm_head.weight", [V, d], "linear"]);
      break;
    }
    case "gpt_neox": {
      const tied = spec.tied ?? false;
      const bias = spec.bias ?? true;
      config = { architectures: ["GPTNeoXForCausalLM"], model_type: "gpt_neox", vocab_size: V, hidden_size: d,
        num_hidden_layers: L, num_attention_heads: H, intermediate_size: m, hidden_act: "gelu", rotary_pct: 0.5,
        rotary_emb_base: 10000, max_position_embeddings: ctx, layer_norm_eps: 1e-5, use_parallel_residual: true,
        tie_word_embeddings: tied, attention_bias: bias, ...ids };
      t.push(["gpt_neox.embed_in.weight", [V, d], "embed"]);
      for (let l = 0; l < L; l++) {
        const p = `gpt_neox.layers.${l}`;
        ln(`${p}.input_layernorm`);
        ln(`${p}.post_attention_layernorm`);
        lin(`${p}.attention.query_key_value`, 3 * d, d, bias);
        lin(`${p}.attention.dense`, d, d, bias);
        lin(`${p}.mlp.dense_h_to_4h`, m, d, true);
        lin(`${p}.mlp.dense_4h_to_h`, d, m, true);
      }
      ln("gpt_neox.final_layer_norm");
      if (!tied) lin("embed_out", V, d, false);
      break;
    }
    case "gptj": {
      const tied = spec.tied ?? false;
      config = { architectures: ["GPTJForCausalLM"], model_type: "gptj", vocab_size: V, n_positions: ctx, n_embd: d, n_layer: L,
        n_head: H, rotary_dim: Math.max(2, dh / 2), n_inner: m, activation_function: "gelu_new", layer_norm_epsilon: 1e-5,
        tie_word_embeddings: tied, ...ids };
      t.push(["transformer.wte.weight", [V, d], "embed"]);
      for (let l = 0; l < L; l++) {
        const p = `transformer.h.${l}`;
        ln(`${p}.ln_1`);
        for (const n of ["q_proj", "k_proj", "v_proj", "out_proj"]) lin(`${p}.attn.${n}`, d, d, false);
        lin(`${p}.mlp.fc_in`, m, d, true);
        lin(`${p}.mlp.fc_out`, d, m, true);
      }
      ln("transformer.ln_f");
      if (!tied) t.push(["lm_head.weight", [V, d], "linear"]);
      t.push(["lm_head.bias", [V], "bias"]);
      break;
    }
    case "llama":
    case "mistral":
    case "qwen2": {
      const type = spec.modelType;
      const tied = spec.tied ?? false;
      const bias = spec.bias ?? false;
      const qkvBias = type === "qwen2" || (type === "llama" && bias);
      const oBias = type === "llama" && bias;
      const mlpBias = type === "llama" && bias;
      const arch = { llama: "LlamaForCausalLM", mistral: "MistralForCausalLM", qwen2: "Qwen2ForCausalLM" }[type];
      config = { architectures: [arch], model_type: type, vocab_size: V, hidden_size: d, intermediate_size: m,
        num_hidden_layers: L, num_attention_heads: H, num_key_value_heads: KV, head_dim: dh, hidden_act: "silu",
        max_position_embeddings: ctx, rms_norm_eps: 1e-5, rope_theta: 10000, rope_scaling: null, tie_word_embeddings: tied, ...ids };
      if (type === "llama") Object.assign(config, { attention_bias: bias, mlp_bias: bias });
      if (type === "mistral") Object.assign(config, { sliding_window: null });
      if (type === "qwen2") Object.assign(config, { use_sliding_window: false, sliding_window: null, max_window_layers: L });
      t.push(["model.embed_tokens.weight", [V, d], "embed"]);
      for (let l = 0; l < L; l++) {
        const p = `model.layers.${l}`;
        t.push([`${p}.input_layernorm.weight`, [d], "norm"]);
        lin(`${p}.self_attn.q_proj`, H * dh, d, qkvBias);
        lin(`${p}.self_attn.k_proj`, KV * dh, d, qkvBias);
        lin(`${p}.self_attn.v_proj`, KV * dh, d, qkvBias);
        lin(`${p}.self_attn.o_proj`, d, H * dh, oBias);
        t.push([`${p}.post_attention_layernorm.weight`, [d], "norm"]);
        lin(`${p}.mlp.gate_proj`, m, d, mlpBias);
        lin(`${p}.mlp.up_proj`, m, d, mlpBias);
        lin(`${p}.mlp.down_proj`, d, m, mlpBias);
      }
      t.push(["model.norm.weight", [d], "norm"]);
      if (!tied) lin("lm_head", V, d, false);
      break;
    }
    case "gemma2": {
      const tied = spec.tied ?? true;
      const bias = spec.bias ?? false;
      config = { architectures: ["Gemma2ForCausalLM"], model_type: "gemma2", vocab_size: V, hidden_size: d, intermediate_size: m,
        num_hidden_layers: L, num_attention_heads: H, num_key_value_heads: KV, head_dim: dh,
        hidden_activation: "gelu_pytorch_tanh", hidden_act: "gelu_pytorch_tanh", max_position_embeddings: ctx, rms_norm_eps: 1e-6,
        rope_theta: 10000, query_pre_attn_scalar: dh, attn_logit_softcapping: 50, final_logit_softcapping: 30,
        sliding_window: 4096, attention_bias: bias, tie_word_embeddings: tied, pad_token_id: 0, ...ids };
      t.push(["model.embed_tokens.weight", [V, d], "embed"]);
      for (let l = 0; l < L; l++) {
        const p = `model.layers.${l}`;
        for (const n of ["input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"]) {
          t.push([`${p}.${n}.weight`, [d], "gemmaNorm"]);
        }
        lin(`${p}.self_attn.q_proj`, H * dh, d, bias);
        lin(`${p}.self_attn.k_proj`, KV * dh, d, bias);
        lin(`${p}.self_attn.v_proj`, KV * dh, d, bias);
        lin(`${p}.self_attn.o_proj`, d, H * dh, bias);
        lin(`${p}.mlp.gate_proj`, m, d, false);
        lin(`${p}.mlp.up_proj`, m, d, false);
        lin(`${p}.mlp.down_proj`, d, m, false);
      }
      t.push(["model.norm.weight", [d], "gemmaNorm"]);
      if (!tied) lin("lm_head", V, d, false);
      break;
    }
  }
  const torchDtype = { F32: "float32", F16: "float16", BF16: "bfloat16" }[spec.dtype ?? "F32"];
  return { config: { ...config, torch_dtype: torchDtype, ...spec.config }, tensors: t };
}

/**
 * Random tensors by kind: embeddings N(0, 0.5²) (tied logits O(1)); weights N(0, 1/fan_in) so
 * attention patterns are neither flat nor one-hot; norm gains 1 + 0.1·N (Gemma's stored w is the
 * offset: 0.1·N); biases 0.1·N.
 */
export function buildTensors(spec: CheckpointSpec): BuiltCheckpoint {
  const { config, tensors } = layout(spec);
  const rnd = normal(spec.seed ?? 1234);
  const out: Record<string, HFTensor> = {};
  for (const [name, shape, kind] of tensors) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    // Conv1D ([in, out]) and Linear ([out, in]) have fan_in on different axes.
    const fanIn = kind === "linear" ? (name.includes(".c_") ? shape[0]! : shape[1]!) : 1;
    for (let i = 0; i < n; i++) {
      const z = rnd();
      data[i] = kind === "embed" ? 0.5 * z : kind === "linear" ? z / Math.sqrt(fanIn) : kind === "norm" ? 1 + 0.1 * z : 0.1 * z;
    }
    if (spec.dtype === "BF16" || spec.dtype === "F16") for (let i = 0; i < n; i++) data[i] = roundTo(data[i]!, spec.dtype);
    out[name] = { shape, data };
  }
  return { config, tensors: out };
}

const f64 = new Float64Array(1);
const f64Words = new Uint32Array(f64.buffer);

/**
 * Round to the nearest bf16 / f16 value, ties to even (written here rather than taken from
 * src/tensor so the reference's weights do not depend on the code under test). Values stay in
 * f16's normal range or its subnormals; no overflow handling is needed for these weights.
 */
function roundTo(x: number, dtype: "BF16" | "F16"): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  f64[0] = Math.abs(x);
  const exp = ((f64Words[1]! >>> 20) & 0x7ff) - 1023; // little-endian high word holds the exponent
  const mantissaBits = dtype === "BF16" ? 7 : 10;
  const minExp = dtype === "BF16" ? -126 : -14;
  const ulp = 2 ** (Math.max(exp, minExp) - mantissaBits);
  const q = x / ulp;
  const f = Math.floor(q);
  const frac = q - f;
  const k = frac > 0.5 || (frac === 0.5 && f % 2 !== 0) ? f + 1 : f;
  return k * ulp;
}

/** GPT-2's bytes_to_unicode: printable stand-ins for the 256 byte values. */
function bytesToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const map: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) map[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + extra++);
  return map;
}

/**
 * A byte-level BPE tokenizer.json with exactly `vocabSize` ids: 256 byte symbols, letter-pair
 * merges, and the last id a special <|endoftext|> (the builder's bos/eos).
 */
export function tokenizerJson(vocabSize: number): unknown {
  if (vocabSize < 258) throw new Error("checkpoint-builder: byte-level tokenizer needs vocabSize >= 258");
  const vocab: Record<string, number> = {};
  bytesToUnicode().forEach((s, i) => (vocab[s] = i));
  const merges: string[] = [];
  const letters = "etaoinshrdlucmfwypvbgkjqxz";
  const firsts = ["Ġ", ...letters];
  outer: for (const a of firsts) {
    for (const b of letters) {
      if (256 + merges.length >= vocabSize - 1) break outer;
      merges.push(`${a} ${b}`);
      vocab[a + b] = 256 + merges.length - 1;
    }
  }
  const eos = vocabSize - 1;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [{ id: eos, content: "<|endoftext|>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
}

/** Write config.json, model.safetensors and tokenizer.json into `dir`; returns what was written. */
export async function buildCheckpoint(dir: string, spec: CheckpointSpec): Promise<BuiltCheckpoint> {
  const built = buildTensors(spec);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "config.json"), JSON.stringify(built.config, null, 2));
  const host = Object.fromEntries(
    Object.entries(built.tensors).map(([k, v]) => [k, { dtype: "float32" as const, shape: v.shape, data: v.data }]),
  );
  await writeSafetensors(path.join(dir, "model.safetensors"), host, { format: "pt" }, { floatDtype: spec.dtype ?? "F32" });
  await writeFile(path.join(dir, "tokenizer.json"), JSON.stringify(tokenizerJson(built.config.vocab_size as number)));
  return built;
}
