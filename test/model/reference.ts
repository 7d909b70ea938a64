/**
 * An independent reference forward pass for parity tests: plain loops over Float64Arrays that
 * compute next-token logits straight from a Hugging Face checkpoint's tensors (by their HF names)
 * and its raw config.json. It imports nothing from src/model/, so a mistake in the shared forward
 * or in a family's name/layout mapping cannot cancel out here.
 *
 * Each architecture below is transcribed from transformers' modeling_*.py (cited per function).
 * Positions: with an attention mask, a token's position is the number of real tokens before it
 * (what GenerationMixin passes: position_ids = attention_mask.cumsum(-1) - 1, padding filled
 * with 1); without a mask, 0..T-1. Rows of padding queries are returned as zeros (nothing to
 * compare: HF's value there is an artefact of how it fills fully masked rows).
 */

export interface RefTensor {
  shape: number[];
  data: ArrayLike<number>;
}
export type RefTensors = Record<string, RefTensor>;
type Raw = Record<string, unknown>;
type Vec = Float64Array;

// ---------------------------------------------------------------- config and tensor access

function cfgNum(raw: Raw, key: string, dflt?: number): number {
  const v = raw[key];
  if (typeof v === "number") return v;
  if (v === undefined && dflt !== undefined) return dflt;
  throw new Error(`reference: config.${key} is ${JSON.stringify(v)}`);
}
function cfgOpt(raw: Raw, key: string, dflt: number | null): number | null {
  const v = raw[key];
  if (v === undefined) return dflt;
  return v === null ? null : cfgNum(raw, key);
}
function cfgBool(raw: Raw, key: string, dflt: boolean): boolean {
  const v = raw[key];
  return typeof v === "boolean" ? v : dflt;
}
function cfgStr(raw: Raw, key: string, dflt: string): string {
  const v = raw[key];
  return typeof v === "string" ? v : dflt;
}

class Weights {
  constructor(private readonly t: RefTensors) {}
  get(name: string): RefTensor {
    const x = this.t[name];
    if (!x) throw new Error(`reference: tensor ${name} missing`);
    return x;
  }
  has(name: string): boolean {
    return name in this.t;
  }
  /** The vector stored under `name` as Float64Array. */
  vec(name: string): Vec {
    return Float64Array.from(this.get(name).data);
  }
}

// ---------------------------------------------------------------- primitives

/** torch.nn.Linear: y = x W^T + b with W stored [out, in]. */
function linear(x: Vec, w: RefTensor, b?: RefTensor): Vec {
  const [out, inn] = w.shape as [number, number];
  if (inn !== x.length) throw new Error(`reference: linear in ${inn} != ${x.length}`);
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = b ? b.data[o]! : 0;
    const row = o * inn;
    for (let i = 0; i < inn; i++) s += x[i]! * w.data[row + i]!;
    y[o] = s;
  }
  return y;
}

/** GPT-2's Conv1D (transformers/pytorch_utils.py): y = x W + b with W stored [in, out]. */
function conv1d(x: Vec, w: RefTensor, b: RefTensor): Vec {
  const [inn, out] = w.shape as [number, number];
  const y = Float64Array.from({ length: out }, (_, o) => b.data[o]!);
  for (let i = 0; i < inn; i++) {
    const xi = x[i]!;
    for (let o = 0; o < out; o++) y[o] += xi * w.data[i * out + o]!;
  }
  return y;
}

function layerNorm(x: Vec, w: Vec, b: Vec, eps: number): Vec {
  const n = x.length;
  let mean = 0;
  for (const v of x) mean += v;
  mean /= n;
  let vr = 0;
  for (const v of x) vr += (v - mean) ** 2;
  vr /= n; // biased variance, as torch.nn.LayerNorm
  const inv = 1 / Math.sqrt(vr + eps);
  return x.map((v, i) => (v - mean) * inv * w[i]! + b[i]!);
}

/** LlamaRMSNorm: w * x / sqrt(mean(x²) + eps); Gemma2RMSNorm: (1 + w) * x / sqrt(mean(x²) + eps). */
function rmsNorm(x: Vec, w: Vec, eps: number, onePlus: boolean): Vec {
  let ms = 0;
  for (const v of x) ms += v * v;
  const inv = 1 / Math.sqrt(ms / x.length + eps);
  return x.map((v, i) => v * inv * (onePlus ? 1 + w[i]! : w[i]!));
}

/** erf to ~1e-15: Taylor series near 0, continued fraction for erfc in the tails. */
export function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  if (a < 2.5) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 200; n++) {
      term *= (-a * a) / n;
      const c = term / (2 * n + 1);
      sum += c;
      if (Math.abs(c) < 1e-17) break;
    }
    return (s * 2 * sum) / Math.sqrt(Math.PI);
  }
  if (a > 6) return s;
  let f = a; // erfc(a) = exp(-a²)/√π / (a + (1/2)/(a + 1/(a + (3/2)/(a + …))))
  for (let k = 80; k >= 1; k--) f = a + k / 2 / f;
  return s * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f);
}

/** transformers/activations.py ACT2FN, the entries these families use. */
function activation(name: string): (x: number) => number {
  const tanhGelu = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  switch (name) {
    case "gelu":
      return (x) => 0.5 * x * (1 + erf(x / Math.SQRT2));
    case "gelu_new":
    case "gelu_pytorch_tanh":
    case "gelu_fast":
      return tanhGelu;
    case "silu":
    case "swish":
      return (x) => x / (1 + Math.exp(-x));
    case "relu":
      return (x) => Math.max(0, x);
    case "quick_gelu":
      return (x) => x / (1 + Math.exp(-1.702 * x));
    case "tanh":
      return Math.tanh;
    default:
      throw new Error(`reference: activation ${name}`);
  }
}

// ---------------------------------------------------------------- rotary

/**
 * Inverse frequencies as modeling_rope_utils.py computes them: default, linear (inv_freq /
 * factor), dynamic (NTK base rescaled once the longest position id + 1 exceeds
 * max_position_embeddings), llama3 (wavelength-banded rescaling).
 */
function invFreq(dim: number, base: number, scaling: Raw | undefined, maxPos: number, seqLen: number): Vec {
  const type = scaling ? String(scaling.rope_type ?? scaling.type ?? "default") : "default";
  let b = base;
  if (type === "dynamic" && seqLen > maxPos) {
    const factor = cfgNum(scaling!, "factor");
    b = base * ((factor * seqLen) / maxPos - (factor - 1)) ** (dim / (dim - 2));
  }
  const f = Float64Array.from({ length: dim / 2 }, (_, i) => 1 / b ** ((2 * i) / dim));
  if (type === "linear") return f.map((v) => v / cfgNum(scaling!, "factor"));
  if (type === "llama3") {
    const factor = cfgNum(scaling!, "factor");
    const lowF = cfgNum(scaling!, "low_freq_factor");
    const highF = cfgNum(scaling!, "high_freq_factor");
    const oldCtx = cfgNum(scaling!, "original_max_position_embeddings");
    const lowWave = oldCtx / lowF;
    const highWave = oldCtx / highF;
    return f.map((v) => {
      const wave = (2 * Math.PI) / v;
      if (wave < highWave) return v;
      if (wave > lowWave) return v / factor;
      const smooth = (oldCtx / wave - lowF) / (highF - lowF);
      return (1 - smooth) * (v / factor) + smooth * v;
    });
  }
  if (type !== "default" && type !== "dynamic") throw new Error(`reference: rope type ${type}`);
  return f;
}

/**
 * Rotate the first `rotDim` dims of one head (in place, at `off` in `x`).
 * halves (NeoX/Llama rotate_half): dim i pairs with i + rotDim/2.
 * interleaved (GPT-J rotate_every_two): dim 2i pairs with 2i+1.
 */
function rope(x: Vec, off: number, rotDim: number, freqs: Vec, pos: number, interleaved: boolean): void {
  const half = rotDim / 2;
  for (let i = 0; i < half; i++) {
    const c = Math.cos(pos * freqs[i]!);
    const s = Math.sin(pos * freqs[i]!);
    const a = interleaved ? off + 2 * i : off + i;
    const b = interleaved ? off + 2 * i + 1 : off + i + half;
    const x1 = x[a]!;
    const x2 = x[b]!;
    x[a] = x1 * c - x2 * s;
    x[b] = x2 * c + x1 * s;
  }
}

// ---------------------------------------------------------------- attention

interface AttnSpec {
  nHeads: number;
  nKV: number;
  dHead: number;
  scale: number;
  softcap?: number;
  /** Key j visible to query i (both indices in the padded row). */
  visible: (i: number, j: number) => boolean;
}

/** softmax(scale · q kᵀ [soft-capped], masked) v per head; GQA maps head h to kv head h / (H/KV). */
function attention(q: Vec[], k: Vec[], v: Vec[], s: AttnSpec): Vec[] {
  const T = q.length;
  const group = s.nHeads / s.nKV;
  const out: Vec[] = [];
  for (let i = 0; i < T; i++) {
    const z = new Float64Array(s.nHeads * s.dHead);
    for (let h = 0; h < s.nHeads; h++) {
      const kh = Math.floor(h / group);
      const scores: number[] = [];
      const idx: number[] = [];
      for (let j = 0; j < T; j++) {
        if (!s.visible(i, j)) continue;
        let d = 0;
        for (let e = 0; e < s.dHead; e++) d += q[i]![h * s.dHead + e]! * k[j]![kh * s.dHead + e]!;
        d *= s.scale;
        if (s.softcap !== undefined) d = Math.tanh(d / s.softcap) * s.softcap;
        scores.push(d);
        idx.push(j);
      }
      if (idx.length === 0) continue;
      const m = Math.max(...scores);
      const p = scores.map((x) => Math.exp(x - m));
      const tot = p.reduce((a, b) => a + b, 0);
      for (let n = 0; n < idx.length; n++) {
        const w = p[n]! / tot;
        const vj = v[idx[n]!]!;
        for (let e = 0; e < s.dHead; e++) z[h * s.dHead + e] += w * vj[kh * s.dHead + e]!;
      }
    }
    out.push(z);
  }
  return out;
}

const add = (a: Vec, ...bs: Vec[]): Vec => a.map((x, i) => bs.reduce((s, b) => s + b[i]!, x));

// ---------------------------------------------------------------- architectures

interface Row {
  tokens: number[];
  mask: number[];
  positions: number[];
  /** max position id over the batch + 1 (dynamic rope). */
  seqLen: number;
}

function causal(row: Row, window?: number | null): (i: number, j: number) => boolean {
  return (i, j) => j <= i && row.mask[j] === 1 && (window == null || j > i - window);
}

function embedRows(W: Weights, name: string, tokens: number[]): Vec[] {
  const e = W.get(name);
  const d = e.shape[1]!;
  return tokens.map((t) => Float64Array.from({ length: d }, (_, i) => e.data[t * d + i]!));
}

/** modeling_gpt2.py: GPT2Block (pre-LN, fused c_attn [q|k|v] Conv1D), learned positions. */
function gpt2(raw: Raw, W: Weights, row: Row): Vec[] {
  const d = cfgNum(raw, "n_embd");
  const H = cfgNum(raw, "n_head");
  const dh = d / H;
  const eps = cfgNum(raw, "layer_norm_epsilon", 1e-5);
  const act = activation(cfgStr(raw, "activation_function", "gelu_new"));
  const wpe = W.get("transformer.wpe.weight");
  let x: Vec[] = embedRows(W, "transformer.wte.weight", row.tokens).map((e, t) =>
    e.map((v, i) => v + wpe.data[row.positions[t]! * d + i]!));
  for (let l = 0; l < cfgNum(raw, "n_layer"); l++) {
    const p = `transformer.h.${l}`;
    const a = x.map((h) => layerNorm(h, W.vec(`${p}.ln_1.weight`), W.vec(`${p}.ln_1.bias`), eps));
    const qkv = a.map((h) => conv1d(h, W.get(`${p}.attn.c_attn.weight`), W.get(`${p}.attn.c_attn.bias`)));
    let scale = cfgBool(raw, "scale_attn_weights", true) ? 1 / Math.sqrt(dh) : 1;
    if (cfgBool(raw, "scale_attn_by_inverse_layer_idx", false)) scale /= l + 1;
    const z = attention(qkv.map((r) => r.slice(0, d)), qkv.map((r) => r.slice(d, 2 * d)), qkv.map((r) => r.slice(2 * d)),
      { nHeads: H, nKV: H, dHead: dh, scale, visible: causal(row) });
    x = x.map((h, t) => add(h, conv1d(z[t]!, W.get(`${p}.attn.c_proj.weight`), W.get(`${p}.attn.c_proj.bias`))));
    x = x.map((h) => {
      const m = layerNorm(h, W.vec(`${p}.ln_2.weight`), W.vec(`${p}.ln_2.bias`), eps);
      const up = conv1d(m, W.get(`${p}.mlp.c_fc.weight`), W.get(`${p}.mlp.c_fc.bias`)).map(act);
      return add(h, conv1d(up, W.get(`${p}.mlp.c_proj.weight`), W.get(`${p}.mlp.c_proj.bias`)));
    });
  }
  x = x.map((h) => layerNorm(h, W.vec("transformer.ln_f.weight"), W.vec("transformer.ln_f.bias"), eps));
  const tied = cfgBool(raw, "tie_word_embeddings", true);
  const U = W.get(tied ? "transformer.wte.weight" : "lm_head.weight");
  return x.map((h) => linear(h, U));
}

/** modeling_gpt_neox.py: per-head [q,k,v] fused rows, partial rotate_half rope, parallel or sequential residual. */
function gptNeox(raw: Raw, W: Weights, row: Row): Vec[] {
  const d = cfgNum(raw, "hidden_size");
  const H = cfgNum(raw, "num_attention_heads");
  const dh = d / H;
  const eps = cfgNum(raw, "layer_norm_eps", 1e-5);
  const act = activation(cfgStr(raw, "hidden_act", "gelu"));
  // Legacy fields rotary_pct / rotary_emb_base, or the newer rope_parameters dict.
  const params = (raw.rope_parameters ?? undefined) as Raw | undefined;
  const pct = typeof params?.partial_rotary_factor === "number" ? params.partial_rotary_factor : cfgNum(raw, "rotary_pct", 0.25);
  const base = typeof params?.rope_theta === "number" ? params.rope_theta : cfgNum(raw, "rotary_emb_base", 10000);
  const rotDim = Math.trunc(dh * pct);
  const scaling = (raw.rope_scaling ?? params) as Raw | undefined;
  const freqs = invFreq(rotDim, base, scaling, cfgNum(raw, "max_position_embeddings", 2048), row.seqLen);
  const bias = cfgBool(raw, "attention_bias", true);
  const parallel = cfgBool(raw, "use_parallel_residual", true);
  let x: Vec[] = embedRows(W, "gpt_neox.embed_in.weight", row.tokens);
  for (let l = 0; l < cfgNum(raw, "num_hidden_layers"); l++) {
    const p = `gpt_neox.layers.${l}`;
    const ln1 = (h: Vec) => layerNorm(h, W.vec(`${p}.input_layernorm.weight`), W.vec(`${p}.input_layernorm.bias`), eps);
    const ln2 = (h: Vec) => layerNorm(h, W.vec(`${p}.post_attention_layernorm.weight`), W.vec(`${p}.post_attention_layernorm.bias`), eps);
    const qkvW = W.get(`${p}.attention.query_key_value.weight`);
    const qkvB = bias ? W.get(`${p}.attention.query_key_value.bias`) : undefined;
    const q: Vec[] = [];
    const k: Vec[] = [];
    const v: Vec[] = [];
    x.forEach((h, t) => {
      const f = linear(ln1(h), qkvW, qkvB); // view(..., H, 3*dh): head h = f[h*3dh : (h+1)*3dh] = [q|k|v]
      const qt = new Float64Array(d);
      const kt = new Float64Array(d);
      const vt = new Float64Array(d);
      for (let hh = 0; hh < H; hh++) {
        for (let e = 0; e < dh; e++) {
          qt[hh * dh + e] = f[hh * 3 * dh + e]!;
          kt[hh * dh + e] = f[hh * 3 * dh + dh + e]!;
          vt[hh * dh + e] = f[hh * 3 * dh + 2 * dh + e]!;
        }
        rope(qt, hh * dh, rotDim, freqs, row.positions[t]!, false);
        rope(kt, hh * dh, rotDim, freqs, row.positions[t]!, false);
      }
      q.push(qt);
      k.push(kt);
      v.push(vt);
    });
    const z = attention(q, k, v, { nHeads: H, nKV: H, dHead: dh, scale: 1 / Math.sqrt(dh), visible: causal(row) });
    const attnOut = z.map((zt) => linear(zt, W.get(`${p}.attention.dense.weight`), bias ? W.get(`${p}.attention.dense.bias`) : undefined));
    const mlp = (h: Vec) => linear(linear(h, W.get(`${p}.mlp.dense_h_to_4h.weight`), W.get(`${p}.mlp.dense_h_to_4h.bias`)).map(act),
      W.get(`${p}.mlp.dense_4h_to_h.weight`), W.get(`${p}.mlp.dense_4h_to_h.bias`));
    if (parallel) {
      x = x.map((h, t) => add(h, attnOut[t]!, mlp(ln2(h))));
    } else {
      x = x.map((h, t) => {
        const a = add(h, attnOut[t]!);
        return add(a, mlp(ln2(a)));
      });
    }
  }
  x = x.map((h) => layerNorm(h, W.vec("gpt_neox.final_layer_norm.weight"), W.vec("gpt_neox.final_layer_norm.bias"), eps));
  const U = W.get(cfgBool(raw, "tie_word_embeddings", false) ? "gpt_neox.embed_in.weight" : "embed_out.weight");
  return x.map((h) => linear(h, U));
}

/** modeling_gptj.py: one ln_1 feeding attention and MLP in parallel, rotate_every_two rope on rotary_dim. */
function gptj(raw: Raw, W: Weights, row: Row): Vec[] {
  const d = cfgNum(raw, "n_embd");
  const H = cfgNum(raw, "n_head");
  const dh = d / H;
  const eps = cfgNum(raw, "layer_norm_epsilon", 1e-5);
  const act = activation(cfgStr(raw, "activation_function", "gelu_new"));
  const rotDim = cfgOpt(raw, "rotary_dim", 64) ?? dh;
  const freqs = invFreq(rotDim, 10000, undefined, 0, 0); // create_sinusoidal_positions: base 10000
  let x: Vec[] = embedRows(W, "transformer.wte.weight", row.tokens);
  for (let l = 0; l < cfgNum(raw, "n_layer"); l++) {
    const p = `transformer.h.${l}`;
    const a = x.map((h) => layerNorm(h, W.vec(`${p}.ln_1.weight`), W.vec(`${p}.ln_1.bias`), eps));
    const q = a.map((h, t) => {
      const r = linear(h, W.get(`${p}.attn.q_proj.weight`));
      for (let hh = 0; hh < H; hh++) rope(r, hh * dh, rotDim, freqs, row.positions[t]!, true);
      return r;
    });
    const k = a.map((h, t) => {
      const r = linear(h, W.get(`${p}.attn.k_proj.weight`));
      for (let hh = 0; hh < H; hh++) rope(r, hh * dh, rotDim, freqs, row.positions[t]!, true);
      return r;
    });
    const v = a.map((h) => linear(h, W.get(`${p}.attn.v_proj.weight`)));
    const z = attention(q, k, v, { nHeads: H, nKV: H, dHead: dh, scale: 1 / Math.sqrt(dh), visible: causal(row) });
    x = x.map((h, t) => {
      const attnOut = linear(z[t]!, W.get(`${p}.attn.out_proj.weight`));
      const up = linear(a[t]!, W.get(`${p}.mlp.fc_in.weight`), W.get(`${p}.mlp.fc_in.bias`)).map(act);
      return add(h, attnOut, linear(up, W.get(`${p}.mlp.fc_out.weight`), W.get(`${p}.mlp.fc_out.bias`)));
    });
  }
  x = x.map((h) => layerNorm(h, W.vec("transformer.ln_f.weight"), W.vec("transformer.ln_f.bias"), eps));
  const U = W.get(cfgBool(raw, "tie_word_embeddings", false) ? "transformer.wte.weight" : "lm_head.weight");
  return x.map((h) => linear(h, U, W.get("lm_head.bias")));
}

/** rope_theta and rope scaling in either config spelling (top-level or rope_parameters). */
function ropeOf(raw: Raw): { theta: number; scaling?: Raw } {
  const params = raw.rope_parameters as Raw | undefined | null;
  const theta = typeof params?.rope_theta === "number" ? params.rope_theta : cfgNum(raw, "rope_theta", 10000);
  const scaling = (raw.rope_scaling ?? params ?? undefined) as Raw | undefined;
  return { theta, scaling: scaling ?? undefined };
}

/**
 * modeling_llama.py / modeling_mistral.py / modeling_qwen2.py: RMSNorm pre-norm, GQA, rotate_half
 * rope over the whole head, SwiGLU. Differences: llama has attention_bias / mlp_bias flags;
 * qwen2 always has q/k/v biases (o_proj none) and slides only when use_sliding_window on layers
 * >= max_window_layers; mistral slides on every layer when sliding_window is set.
 */
function llamaLike(raw: Raw, W: Weights, row: Row): Vec[] {
  const type = raw.model_type as string;
  const d = cfgNum(raw, "hidden_size");
  const H = cfgNum(raw, "num_attention_heads");
  const KV = cfgNum(raw, "num_key_value_heads", H);
  const dh = cfgOpt(raw, "head_dim", null) ?? d / H;
  const eps = cfgNum(raw, "rms_norm_eps", 1e-6);
  const act = activation(cfgStr(raw, "hidden_act", "silu"));
  const { theta, scaling } = ropeOf(raw);
  const freqs = invFreq(dh, theta, scaling, cfgNum(raw, "max_position_embeddings", 2048), row.seqLen);
  const qkvBias = type === "qwen2" ? true : type === "llama" ? cfgBool(raw, "attention_bias", false) : false;
  const oBias = type === "llama" ? cfgBool(raw, "attention_bias", false) : false;
  const mlpBias = type === "llama" ? cfgBool(raw, "mlp_bias", false) : false;
  const window = (l: number): number | null => {
    if (type === "mistral") return cfgOpt(raw, "sliding_window", 4096);
    if (type === "qwen2") {
      const on = cfgBool(raw, "use_sliding_window", false) && l >= cfgNum(raw, "max_window_layers", 28);
      return on ? cfgOpt(raw, "sliding_window", 4096) : null;
    }
    return null;
  };
  const B = (name: string, on: boolean) => (on ? W.get(name) : undefined);
  let x: Vec[] = embedRows(W, "model.embed_tokens.weight", row.tokens);
  for (let l = 0; l < cfgNum(raw, "num_hidden_layers"); l++) {
    const p = `model.layers.${l}`;
    const a = x.map((h) => rmsNorm(h, W.vec(`${p}.input_layernorm.weight`), eps, false));
    const proj = (n: string, rot: boolean, nh: number) => a.map((h, t) => {
      const r = linear(h, W.get(`${p}.self_attn.${n}.weight`), B(`${p}.self_attn.${n}.bias`, qkvBias));
      if (rot) for (let hh = 0; hh < nh; hh++) rope(r, hh * dh, dh, freqs, row.positions[t]!, false);
      return r;
    });
    const z = attention(proj("q_proj", true, H), proj("k_proj", true, KV), proj("v_proj", false, KV),
      { nHeads: H, nKV: KV, dHead: dh, scale: 1 / Math.sqrt(dh), visible: causal(row, window(l)) });
    x = x.map((h, t) => add(h, linear(z[t]!, W.get(`${p}.self_attn.o_proj.weight`), B(`${p}.self_attn.o_proj.bias`, oBias))));
    x = x.map((h) => {
      const m = rmsNorm(h, W.vec(`${p}.post_attention_layernorm.weight`), eps, false);
      const g = linear(m, W.get(`${p}.mlp.gate_proj.weight`), B(`${p}.mlp.gate_proj.bias`, mlpBias)).map(act);
      const u = linear(m, W.get(`${p}.mlp.up_proj.weight`), B(`${p}.mlp.up_proj.bias`, mlpBias));
      return add(h, linear(g.map((gv, i) => gv * u[i]!), W.get(`${p}.mlp.down_proj.weight`), B(`${p}.mlp.down_proj.bias`, mlpBias)));
    });
  }
  x = x.map((h) => rmsNorm(h, W.vec("model.norm.weight"), eps, false));
  const U = W.get(cfgBool(raw, "tie_word_embeddings", false) ? "model.embed_tokens.weight" : "lm_head.weight");
  return x.map((h) => linear(h, U));
}

/**
 * modeling_gemma2.py: embeddings × sqrt(hidden_size); (1+w) RMSNorm; pre and post norms around
 * attention and MLP; scale query_pre_attn_scalar^-0.5; tanh soft-cap on scores and final logits;
 * sliding window on layer_types (default: even layers).
 */
function gemma2(raw: Raw, W: Weights, row: Row): Vec[] {
  const d = cfgNum(raw, "hidden_size");
  const nL = cfgNum(raw, "num_hidden_layers");
  const H = cfgNum(raw, "num_attention_heads");
  const KV = cfgNum(raw, "num_key_value_heads", 4);
  const dh = cfgNum(raw, "head_dim", 256);
  const eps = cfgNum(raw, "rms_norm_eps", 1e-6);
  const act = activation(cfgStr(raw, "hidden_activation", "gelu_pytorch_tanh"));
  const { theta, scaling } = ropeOf(raw);
  const freqs = invFreq(dh, theta, scaling, cfgNum(raw, "max_position_embeddings", 8192), row.seqLen);
  const scale = cfgNum(raw, "query_pre_attn_scalar", 256) ** -0.5;
  const attnCap = cfgOpt(raw, "attn_logit_softcapping", 50) ?? undefined;
  const finalCap = cfgOpt(raw, "final_logit_softcapping", 30);
  const win = cfgOpt(raw, "sliding_window", 4096);
  const types = (raw.layer_types as string[] | undefined) ??
    Array.from({ length: nL }, (_, i) => ((i + 1) % 2 ? "sliding_attention" : "full_attention"));
  const bias = cfgBool(raw, "attention_bias", false);
  const B = (name: string) => (bias ? W.get(name) : undefined);
  const norm = (h: Vec, name: string) => rmsNorm(h, W.vec(name), eps, true);
  let x: Vec[] = embedRows(W, "model.embed_tokens.weight", row.tokens).map((e) => e.map((v) => v * Math.sqrt(d)));
  for (let l = 0; l < nL; l++) {
    const p = `model.layers.${l}`;
    const a = x.map((h) => norm(h, `${p}.input_layernorm.weight`));
    const proj = (n: string, rot: boolean, nh: number) => a.map((h, t) => {
      const r = linear(h, W.get(`${p}.self_attn.${n}.weight`), B(`${p}.self_attn.${n}.bias`));
      if (rot) for (let hh = 0; hh < nh; hh++) rope(r, hh * dh, dh, freqs, row.positions[t]!, false);
      return r;
    });
    const window = types[l] === "sliding_attention" ? win : null;
    const z = attention(proj("q_proj", true, H), proj("k_proj", true, KV), proj("v_proj", false, KV),
      { nHeads: H, nKV: KV, dHead: dh, scale, softcap: attnCap, visible: causal(row, window) });
    x = x.map((h, t) => add(h, norm(linear(z[t]!, W.get(`${p}.self_attn.o_proj.weight`), B(`${p}.self_attn.o_proj.bias`)),
      `${p}.post_attention_layernorm.weight`)));
    x = x.map((h) => {
      const m = norm(h, `${p}.pre_feedforward_layernorm.weight`);
      const g = linear(m, W.get(`${p}.mlp.gate_proj.weight`)).map(act);
      const u = linear(m, W.get(`${p}.mlp.up_proj.weight`));
      const out = linear(g.map((gv, i) => gv * u[i]!), W.get(`${p}.mlp.down_proj.weight`));
      return add(h, norm(out, `${p}.post_feedforward_layernorm.weight`));
    });
  }
  x = x.map((h) => norm(h, "model.norm.weight"));
  const U = W.get(cfgBool(raw, "tie_word_embeddings", true) ? "model.embed_tokens.weight" : "lm_head.weight");
  return x.map((h) => {
    const z = linear(h, U);
    return finalCap === null ? z : z.map((v) => Math.tanh(v / finalCap) * finalCap);
  });
}

const ARCHS: Record<string, (raw: Raw, W: Weights, row: Row) => Vec[]> = {
  gpt2,
  gpt_neox: gptNeox,
  gptj,
  llama: llamaLike,
  mistral: llamaLike,
  qwen2: llamaLike,
  gemma2,
};

/**
 * Logits [batch][pos] (each a Float64Array over the vocabulary) for `tokens` under the checkpoint
 * described by `config` (raw config.json) and `tensors` (HF names). `attentionMask` [batch][pos]:
 * 1 real, 0 padding.
 */
export function referenceLogits(config: Raw, tensors: RefTensors, tokens: number[][], attentionMask?: number[][]): Float64Array[][] {
  const arch = ARCHS[String(config.model_type)];
  if (!arch) throw new Error(`reference: model_type ${String(config.model_type)}`);
  const W = new Weights(tensors);
  const rows: Row[] = tokens.map((toks, b) => {
    const mask = attentionMask?.[b] ?? toks.map(() => 1);
    let seen = 0;
    const positions = mask.map((m) => (m === 1 ? seen++ : 1));
    return { tokens: toks, mask, positions, seqLen: 0 };
  });
  const seqLen = Math.max(...rows.flatMap((r) => r.positions)) + 1;
  return rows.map((row) => {
    row.seqLen = seqLen;
    const logits = arch(config, W, row);
    return logits.map((z, t) => (row.mask[t] === 1 ? z : new Float64Array(z.length)));
  });
}
