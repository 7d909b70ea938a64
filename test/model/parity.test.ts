/**
 * Parity: for each architecture variant, build a random Hugging Face checkpoint on disk
 * (checkpoint-builder.ts), load it with loadModel, run model.forward, and compare the logits to
 * the independent float64 reference (reference.ts) computed from the HF tensors and raw config.
 * Tolerance 1e-4 absolute on float32 logits of O(1).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { openSafetensorsFile } from "../../src/io/safetensors-file.js";
import { loadModel } from "../../src/model/load.js";
import { readF32 } from "../../src/tensor/own.js";
import { buildCheckpoint, type CheckpointSpec } from "./checkpoint-builder.js";
import { referenceLogits } from "./reference.js";

const TOL = 1e-4;
const tmp = await mkdtemp(path.join(os.tmpdir(), "scalpel-parity-"));
after(() => rm(tmp, { recursive: true, force: true }));

/** Deterministic token rows in [0, vocab). */
function tokens(batch: number, len: number, vocab: number, seed = 7): number[][] {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  return Array.from({ length: batch }, () => Array.from({ length: len }, () => Math.floor(next() * vocab)));
}

/** Largest |got − want| over real (unmasked) positions, and where it is. */
function worst(got: Float32Array, want: Float64Array[][], mask?: number[][]) {
  let max = 0;
  let at = "";
  let scale = 0;
  const V = want[0]![0]!.length;
  want.forEach((row, b) =>
    row.forEach((z, t) => {
      if (mask && mask[b]![t] !== 1) return;
      for (let v = 0; v < V; v++) {
        const g = got[(b * row.length + t) * V + v]!;
        const d = Math.abs(g - z[v]!);
        scale = Math.max(scale, Math.abs(z[v]!));
        if (!(d <= max)) {
          max = d;
          at = `batch ${b} pos ${t} vocab ${v}: got ${g}, reference ${z[v]}`;
        }
      }
    }),
  );
  return { max, at, scale };
}

async function parity(name: string, spec: CheckpointSpec, opts: { batch?: number; len?: number; mask?: number[][] } = {}) {
  const dir = path.join(tmp, name);
  const built = await buildCheckpoint(dir, spec);
  if (spec.dtype) {
    const reader = await openSafetensorsFile(path.join(dir, "model.safetensors"));
    const stored = new Set(reader.names().map((n) => reader.info(n).dtype));
    await reader.close();
    assert.deepEqual([...stored], [spec.dtype], "checkpoint not stored in the requested dtype");
  }
  const V = built.config.vocab_size as number;
  const mask = opts.mask;
  const toks = tokens(mask?.length ?? opts.batch ?? 2, mask?.[0]!.length ?? opts.len ?? 10, V);
  const model = await loadModel(dir);
  try {
    const { logits } = model.forward(toks, mask ? { attentionMask: mask } : {});
    assert.ok(logits, "forward returned no logits");
    assert.deepEqual(logits.shape, [toks.length, toks[0]!.length, V]);
    const got = await readF32(logits);
    const want = referenceLogits(built.config, built.tensors, toks, mask);
    const w = worst(got, want, mask);
    // Random weights must give logits that actually vary, or agreement would prove little.
    assert.ok(w.scale > 0.3, `reference logits are degenerate (max |logit| ${w.scale})`);
    assert.ok(w.max < TOL, `${name}: max |diff| ${w.max.toExponential(3)} at ${w.at}`);
  } finally {
    model.dispose();
  }
}

const base = { dModel: 32, nHeads: 4, nLayers: 2 };

test("gpt2, tied embeddings", () => parity("gpt2", { modelType: "gpt2", ...base }));
test("gpt2, untied lm_head", () => parity("gpt2-untied", { modelType: "gpt2", ...base, tied: false }));

test("gpt_neox, parallel residual, biases, untied", () =>
  parity("neox-par", { modelType: "gpt_neox", ...base, config: { use_parallel_residual: true } }));
test("gpt_neox, sequential residual, no attention bias, tied", () =>
  parity("neox-seq", { modelType: "gpt_neox", ...base, tied: true, bias: false, config: { use_parallel_residual: false } }));
test("gpt_neox, rope_scaling linear, rotary_pct 0.25", () =>
  parity("neox-linear", { modelType: "gpt_neox", ...base, config: { rotary_pct: 0.25, rope_scaling: { type: "linear", factor: 2 } } }));

test("gptj, partial interleaved rotary, untied lm_head with bias", () => parity("gptj", { modelType: "gptj", ...base }));
test("gptj, tied embeddings (lm_head bias kept), full-head rotary", () =>
  parity("gptj-tied", { modelType: "gptj", ...base, tied: true, config: { rotary_dim: 8 } }));

test("llama, GQA (4 query heads, 2 kv heads)", () => parity("llama-gqa", { modelType: "llama", ...base, nKVHeads: 2 }));
test("llama, rope_scaling llama3, biases on, tied", () =>
  parity("llama3", {
    modelType: "llama", ...base, nKVHeads: 2, bias: true, tied: true,
    config: { rope_scaling: { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8 }, rope_theta: 500000 },
  }));
test("llama, rope_scaling dynamic past max_position_embeddings", () =>
  parity("llama-dyn", { modelType: "llama", ...base, nCtx: 6, config: { rope_scaling: { type: "dynamic", factor: 2 } } }, { len: 10 }));
test("qwen2, q/k/v biases", () => parity("qwen2", { modelType: "qwen2", ...base, nKVHeads: 2 }));
test("mistral, sliding window 3 < sequence 10", () =>
  parity("mistral", { modelType: "mistral", ...base, nKVHeads: 2, config: { sliding_window: 3 } }));

const gemmaCaps = { attn_logit_softcapping: 1.5, final_logit_softcapping: 2.5, sliding_window: 3, query_pre_attn_scalar: 12 };
test("gemma2, sliding window 3 < sequence 10, both soft-caps biting, GQA, tied", () =>
  parity("gemma2", { modelType: "gemma2", ...base, nLayers: 3, nKVHeads: 2, config: gemmaCaps }));
test("gemma2, untied, attention bias, no soft-caps", () =>
  parity("gemma2-untied", {
    modelType: "gemma2", ...base, nKVHeads: 1, tied: false, bias: true,
    config: { attn_logit_softcapping: null, final_logit_softcapping: null, sliding_window: 4 },
  }));

test("gpt_neox, transformers-v5 rope_parameters (overrides rotary_pct / rotary_emb_base)", () =>
  parity("neox-v5", { modelType: "gpt_neox", ...base, config: { rope_parameters: { rope_type: "default", rope_theta: 1000, partial_rotary_factor: 0.25 } } }));
test("gpt_neox, rope_scaling dynamic past max_position_embeddings", () =>
  parity("neox-dyn", { modelType: "gpt_neox", ...base, nCtx: 6, config: { rope_scaling: { type: "dynamic", factor: 3 } } }));
test("llama, head_dim != hidden_size / heads", () => parity("llama-hd", { modelType: "llama", ...base, nKVHeads: 2, dHead: 12 }));
test("llama, transformers-v5 rope_parameters with linear scaling", () =>
  parity("llama-v5", { modelType: "llama", ...base, config: { rope_theta: undefined, rope_scaling: undefined, rope_parameters: { rope_type: "linear", factor: 3, rope_theta: 100 } } }));
test("qwen2, use_sliding_window on layers >= max_window_layers", () =>
  parity("qwen2-win", { modelType: "qwen2", ...base, nKVHeads: 2, config: { use_sliding_window: true, sliding_window: 3, max_window_layers: 1 } }));
test("gemma2, head_dim != hidden_size / heads", () =>
  parity("gemma2-hd", { modelType: "gemma2", ...base, nKVHeads: 2, dHead: 12, config: { sliding_window: 2 } }));
test("gemma2, explicit layer_types", () =>
  parity("gemma2-lt", { modelType: "gemma2", ...base, nLayers: 3,
    config: { sliding_window: 2, layer_types: ["full_attention", "sliding_attention", "sliding_attention"] } }));

test("gemma2, deeper and wider (4 layers, d 64, 8 heads / 4 kv, head 16, 24 tokens)", () =>
  parity("gemma2-big", { modelType: "gemma2", dModel: 64, nHeads: 8, nKVHeads: 4, dHead: 16, nLayers: 4,
    config: { sliding_window: 5, attn_logit_softcapping: 5, final_logit_softcapping: 10 } }, { batch: 1, len: 24 }));
test("bfloat16 checkpoint (gemma2) loads and matches the reference on the rounded weights", () =>
  parity("gemma2-bf16", { modelType: "gemma2", ...base, nKVHeads: 2, dtype: "BF16", config: gemmaCaps }));
test("float16 checkpoint (gpt_neox) loads and matches the reference on the rounded weights", () =>
  parity("neox-f16", { modelType: "gpt_neox", ...base, dtype: "F16" }));

// Left padding: row 0 has 3 pad tokens, row 1 none, row 2 one. Positions count real tokens only.
const padMask = [
  [0, 0, 0, 1, 1, 1, 1, 1, 1, 1],
  [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
  [0, 1, 1, 1, 1, 1, 1, 1, 1, 1],
];
for (const [name, spec] of [
  ["gpt2", { modelType: "gpt2", ...base }],
  ["gpt_neox", { modelType: "gpt_neox", ...base }],
  ["gptj", { modelType: "gptj", ...base }],
  ["llama", { modelType: "llama", ...base, nKVHeads: 2 }],
  ["gemma2", { modelType: "gemma2", ...base, nKVHeads: 2, config: gemmaCaps }],
] as [string, CheckpointSpec][]) {
  test(`left-padded batch with attention mask: ${name}`, () => parity(`pad-${name}`, spec, { mask: padMask }));
}

/**
 * KV-cached decoding: forward the first `split` tokens with returnKV, then the rest one call at
 * a time through the cache; every step's logits must match the reference's logits of the full
 * sequence (left-padded rows included, sliding windows reaching into the cache).
 */
async function cachedParity(name: string, spec: CheckpointSpec, mask: number[][], split: number) {
  const dir = path.join(tmp, name);
  const built = await buildCheckpoint(dir, spec);
  const V = built.config.vocab_size as number;
  const toks = tokens(mask.length, mask[0]!.length, V, 11);
  const want = referenceLogits(built.config, built.tensors, toks, mask);
  const model = await loadModel(dir);
  try {
    let res = model.forward(toks.map((r) => r.slice(0, split)), { attentionMask: mask.map((r) => r.slice(0, split)), returnKV: true });
    const steps = [{ from: 0, logits: await readF32(res.logits!), len: split }];
    for (let t = split; t < toks[0]!.length; t++) {
      res = model.forward(toks.map((r) => [r[t]!]), { attentionMask: mask.map((r) => [r[t]!]), kv: res.kv, returnKV: true });
      steps.push({ from: t, logits: await readF32(res.logits!), len: 1 });
    }
    for (const kv of res.kv!.layers) {
      kv.k.dispose();
      kv.v.dispose();
    }
    for (const s of steps) {
      const part = want.map((row) => row.slice(s.from, s.from + s.len));
      const w = worst(s.logits, part, mask.map((r) => r.slice(s.from, s.from + s.len)));
      assert.ok(w.max < TOL, `${name}: step at position ${s.from}: max |diff| ${w.max.toExponential(3)} at ${w.at}`);
    }
  } finally {
    model.dispose();
  }
}

for (const [name, spec] of [
  ["gpt2", { modelType: "gpt2", ...base }],
  ["gpt_neox", { modelType: "gpt_neox", ...base, config: { use_parallel_residual: false } }],
  ["gptj", { modelType: "gptj", ...base }],
  ["mistral", { modelType: "mistral", ...base, nKVHeads: 2, config: { sliding_window: 3 } }],
  ["gemma2", { modelType: "gemma2", ...base, nKVHeads: 2, config: gemmaCaps }],
] as [string, CheckpointSpec][]) {
  test(`KV-cached decoding of a left-padded batch: ${name}`, () => cachedParity(`kv-${name}`, spec, padMask, 5));
}

test("negative control: reading NeoX's fused q/k/v as [all q | all k | all v] is caught", async () => {
  const dir = path.join(tmp, "neox-control");
  const built = await buildCheckpoint(dir, { modelType: "gpt_neox", ...base });
  const toks = tokens(1, 10, built.config.vocab_size as number);
  // What GPT-2's c_attn layout would mean: rows [q(all heads) | k | v]. Re-lay the true per-head
  // rows that way, so a reference that misreads the layout is simulated exactly.
  const H = 4;
  const dh = 8;
  const d = 32;
  const wrong = { ...built.tensors };
  for (let l = 0; l < 2; l++) {
    for (const [suffix, width] of [["weight", d], ["bias", 1]] as const) {
      const name = `gpt_neox.layers.${l}.attention.query_key_value.${suffix}`;
      const w = built.tensors[name]!;
      const out = new Float32Array(w.data.length);
      for (let part = 0; part < 3; part++) {
        for (let h = 0; h < H; h++) {
          for (let e = 0; e < dh; e++) {
            const from = h * 3 * dh + part * dh + e;
            out.set(w.data.subarray(from * width, (from + 1) * width), (part * d + h * dh + e) * width);
          }
        }
      }
      wrong[name] = { shape: w.shape, data: out };
    }
  }
  const model = await loadModel(dir);
  try {
    const got = await readF32(model.forward(toks).logits!);
    const w = worst(got, referenceLogits(built.config, wrong, toks));
    assert.ok(w.max > 1e-2, `a mislaid q/k/v went unnoticed (max diff ${w.max})`);
  } finally {
    model.dispose();
  }
});
