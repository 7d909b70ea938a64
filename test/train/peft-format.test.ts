import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { CheckpointError, ConfigError, ScalpelError, UnsupportedArchitectureError } from "../../src/errors.js";
import type { HostTensor } from "../../src/io/host-tensor.js";
import { openSafetensorsFile, writeSafetensors } from "../../src/io/safetensors-file.js";
import { familyFor } from "../../src/model/families/index.js";
import type { LoraAdapter, LoraFactors } from "../../src/model/modules/lora.js";
import type { ModelConfig } from "../../src/model/types.js";
import { loraDelta } from "../../src/train/lora.js";
import { adapterToPeft, peftPatternKey } from "../../src/train/peft-format.js";
import { loadPeftAdapter, savePeftAdapter } from "../../src/train/peft-files-node.js";
import { Rng } from "../../src/util/rng.js";

const RAW = {
  llama: {
    model_type: "llama", vocab_size: 101, hidden_size: 32, intermediate_size: 40, num_hidden_layers: 2,
    num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64,
  },
  gpt2: { model_type: "gpt2", vocab_size: 97, n_positions: 48, n_embd: 32, n_layer: 2, n_head: 4 },
  gptj: { model_type: "gptj", vocab_size: 79, n_embd: 32, n_layer: 2, n_head: 4, rotary_dim: 4, n_positions: 64 },
  gpt_neox: { model_type: "gpt_neox", vocab_size: 79, hidden_size: 32, intermediate_size: 40, num_hidden_layers: 2, num_attention_heads: 4, max_position_embeddings: 64 },
} as const;

function cfg(kind: keyof typeof RAW): ModelConfig {
  const raw = { ...RAW[kind] } as Record<string, unknown>;
  return familyFor(raw["model_type"], "config.json").parseConfig(raw, "config.json");
}

async function tmp(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), "scalpel-peft-"));
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await tmp();
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function randn(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-0.5, 0.5);
  return a;
}

function factors(rng: Rng, dIn: number, r: number, dOut: number, scale?: number): LoraFactors {
  return {
    A: { shape: [dIn, r], data: randn(rng, dIn * r) },
    B: { shape: [r, dOut], data: randn(rng, r * dOut) },
    ...(scale === undefined ? {} : { scale }),
  };
}

/** Largest |ΔW difference| over the union of targets (a missing target counts as ΔW = 0). */
function maxDeltaDiff(a: LoraAdapter, b: LoraAdapter): number {
  let m = 0;
  for (const name of new Set([...Object.keys(a.targets), ...Object.keys(b.targets)])) {
    const da = a.targets[name] ? loraDelta(a, name).data : undefined;
    const db = b.targets[name] ? loraDelta(b, name).data : undefined;
    const n = (da ?? db)!.length;
    for (let i = 0; i < n; i++) m = Math.max(m, Math.abs((da?.[i] ?? 0) - (db?.[i] ?? 0)));
  }
  return m;
}

function sameAdapter(loaded: LoraAdapter, original: LoraAdapter): void {
  assert.equal(loaded.rank, original.rank);
  assert.equal(loaded.alpha, original.alpha);
  assert.equal(loaded.dropout, original.dropout);
  assert.deepEqual(Object.keys(loaded.targets).sort(), Object.keys(original.targets).sort());
  for (const [name, f] of Object.entries(original.targets)) {
    const g = loaded.targets[name]!;
    assert.deepEqual(g.A.shape, f.A.shape, `${name} A shape`);
    assert.deepEqual(g.B.shape, f.B.shape, `${name} B shape`);
    assert.ok(Buffer.from(g.A.data.buffer, g.A.data.byteOffset, g.A.data.byteLength).equals(Buffer.from(f.A.data.buffer, f.A.data.byteOffset, f.A.data.byteLength)), `${name} A bits`);
    assert.ok(Buffer.from(g.B.data.buffer, g.B.data.byteOffset, g.B.data.byteLength).equals(Buffer.from(f.B.data.buffer, f.B.data.byteOffset, f.B.data.byteLength)), `${name} B bits`);
    assert.equal(g.scale, f.scale, `${name} scale`);
  }
}

// ─── Round trips ─────────────────────────────────────────────────────────────────────────────────

test("llama: save → load is bit-identical (per-target rank and scale survive via rank_pattern / alpha_pattern)", async () => {
  const config = cfg("llama");
  const rng = new Rng(7);
  const d = 32, q = 32, kv = 16, m = 40;
  const adapter: LoraAdapter = {
    rank: 4,
    alpha: 8,
    dropout: 0.05,
    targets: {
      "blocks.0.attn.W_Q": factors(rng, d, 4, q),
      "blocks.0.attn.W_V": factors(rng, d, 4, kv),
      "blocks.1.attn.W_K": factors(rng, d, 4, kv, 0.75),
      "blocks.1.attn.W_O": factors(rng, q, 6, d),
      "blocks.0.mlp.W_gate": factors(rng, d, 4, m),
      "blocks.1.mlp.W_in": factors(rng, d, 2, m, 3),
      "blocks.1.mlp.W_out": factors(rng, m, 4, d),
    },
  };
  await withDir(async (dir) => {
    await savePeftAdapter(dir, adapter, config, { baseModel: "meta-llama/Llama-3.2-1B" });
    assert.deepEqual((await readdir(dir)).sort(), ["adapter_config.json", "adapter_model.safetensors"]);
    const json = JSON.parse(await readFile(path.join(dir, "adapter_config.json"), "utf8"));
    assert.equal(json.peft_type, "LORA");
    assert.equal(json.task_type, "CAUSAL_LM");
    assert.equal(json.r, 4);
    assert.equal(json.lora_alpha, 8);
    assert.equal(json.lora_dropout, 0.05);
    assert.equal(json.bias, "none");
    assert.equal(json.fan_in_fan_out, false);
    assert.equal(json.use_rslora, false);
    assert.equal(json.use_dora, false);
    assert.equal(json.inference_mode, true);
    assert.equal(json.init_lora_weights, true);
    assert.equal(json.modules_to_save, null);
    assert.equal(json.layers_to_transform, null);
    assert.equal(json.base_model_name_or_path, "meta-llama/Llama-3.2-1B");
    assert.deepEqual(json.target_modules, ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]);
    // W_O has rank 6 (scale α/rank = 2 → alpha 12); W_K scale 0.75 (alpha 3); W_in rank 2, scale 3 (alpha 6).
    assert.deepEqual(json.rank_pattern, { "layers.1.self_attn.o_proj": 6, "layers.1.mlp.up_proj": 2 });
    assert.deepEqual(json.alpha_pattern, { "layers.1.self_attn.k_proj": 3, "layers.1.self_attn.o_proj": 12, "layers.1.mlp.up_proj": 6 });

    const reader = await openSafetensorsFile(path.join(dir, "adapter_model.safetensors"));
    try {
      assert.deepEqual(reader.metadata, { format: "pt" });
      assert.deepEqual(reader.info("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"), { dtype: "F32", shape: [4, d] });
      assert.deepEqual(reader.info("base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight"), { dtype: "F32", shape: [kv, 4] });
      assert.deepEqual(reader.info("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight"), { dtype: "F32", shape: [4, m] });
      assert.equal(reader.names().length, 14);
      // lora_A.weight = Aᵀ: element [k, i] is A[i, k].
      const a = await reader.readF32("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
      const A = adapter.targets["blocks.0.attn.W_Q"]!.A.data;
      assert.equal(a.data[1 * d + 5], A[5 * 4 + 1]);
    } finally {
      await reader.close();
    }

    const loaded = await loadPeftAdapter(dir, config);
    sameAdapter(loaded, adapter);
    assert.deepEqual(loaded.info, { method: "lora", format: "peft", baseModel: "meta-llama/Llama-3.2-1B" });
    assert.equal(maxDeltaDiff(loaded, adapter), 0);
  });
});

test("gpt2: Q/K/V sharing one A become one c_attn LoRA of rank r, and come back bit-identical", async () => {
  const config = cfg("gpt2");
  const rng = new Rng(11);
  const d = 32;
  const A = randn(rng, d * 4);
  const qkv = (b: number) => ({ A: { shape: [d, 4], data: Float32Array.from(A) }, B: { shape: [4, d], data: randn(rng, 4 * d) } }) satisfies LoraFactors;
  const adapter: LoraAdapter = {
    rank: 4,
    alpha: 16,
    dropout: 0,
    targets: {
      "blocks.1.attn.W_Q": qkv(0),
      "blocks.1.attn.W_K": qkv(1),
      "blocks.1.attn.W_V": qkv(2),
      "blocks.0.attn.W_O": factors(rng, d, 4, d),
      "blocks.0.mlp.W_in": factors(rng, d, 4, 128),
      "blocks.1.mlp.W_out": factors(rng, 128, 4, d),
    },
  };
  const files = adapterToPeft(adapter, config);
  assert.deepEqual(files.tensors["base_model.model.transformer.h.1.attn.c_attn.lora_A.weight"]!.shape, [4, d]);
  assert.deepEqual(files.tensors["base_model.model.transformer.h.1.attn.c_attn.lora_B.weight"]!.shape, [3 * d, 4]);
  assert.deepEqual(files.config["rank_pattern"], {});
  assert.deepEqual(files.config["alpha_pattern"], {});
  assert.equal(files.config["fan_in_fan_out"], true);
  assert.deepEqual(files.config["target_modules"], ["c_attn", "c_proj", "c_fc"]);
  await withDir(async (dir) => {
    await savePeftAdapter(dir, adapter, config);
    const loaded = await loadPeftAdapter(dir, config);
    sameAdapter(loaded, adapter);
    assert.equal(loaded.info, undefined);
  });
});

test("gpt2: separate Q/V (distinct A) become a block c_attn of rank 2r that loads back as the same targets", async () => {
  const config = cfg("gpt2");
  const rng = new Rng(12);
  const d = 32;
  const adapter: LoraAdapter = {
    rank: 4,
    alpha: 8,
    dropout: 0.1,
    targets: { "blocks.0.attn.W_Q": factors(rng, d, 4, d), "blocks.0.attn.W_V": factors(rng, d, 4, d), "blocks.0.attn.W_O": factors(rng, d, 4, d) },
  };
  const files = adapterToPeft(adapter, config);
  // Block construction: A stacked [8, d], B block-diagonal [3d, 8] with a zero K block.
  const B = files.tensors["base_model.model.transformer.h.0.attn.c_attn.lora_B.weight"]!;
  assert.deepEqual(B.shape, [3 * d, 8]);
  for (let j = 0; j < 3 * d; j++) {
    for (let k = 0; k < 8; k++) {
      const block = j < d ? 0 : j < 2 * d ? -1 : 1; // which rank block feeds this output row
      if (block !== Math.floor(k / 4)) assert.equal(B.data[j * 8 + k], 0, `B[${j}, ${k}]`);
    }
  }
  assert.deepEqual(files.config["rank_pattern"], { "h.0.attn.c_attn": 8 });
  assert.deepEqual(files.config["alpha_pattern"], { "h.0.attn.c_attn": 16 });
  assert.deepEqual(files.config["target_modules"], ["c_attn", "attn.c_proj"]);
  assert.equal(peftPatternKey(["h.0.attn.c_attn"], "transformer.h.0.attn.c_attn"), "h.0.attn.c_attn");
  assert.equal(peftPatternKey(["h.0.attn.c_attn"], "transformer.h.10.attn.c_attn"), undefined);
  await withDir(async (dir) => {
    await savePeftAdapter(dir, adapter, config);
    sameAdapter(await loadPeftAdapter(dir, config), adapter);
  });
});

test("gpt2: separate Q/K/V with different scales and ranks keep their ΔW to float rounding", async () => {
  const config = cfg("gpt2");
  const rng = new Rng(13);
  const d = 32;
  const adapter: LoraAdapter = {
    rank: 4,
    alpha: 4,
    dropout: 0,
    targets: {
      "blocks.1.attn.W_Q": factors(rng, d, 4, d, 0.3),
      "blocks.1.attn.W_K": factors(rng, d, 2, d),
      "blocks.1.attn.W_V": factors(rng, d, 3, d, 2.5),
    },
  };
  const files = adapterToPeft(adapter, config);
  assert.deepEqual(files.config["rank_pattern"], { "h.1.attn.c_attn": 9 });
  await withDir(async (dir) => {
    await savePeftAdapter(dir, adapter, config);
    const loaded = await loadPeftAdapter(dir, config);
    assert.deepEqual(Object.keys(loaded.targets).sort(), Object.keys(adapter.targets).sort());
    assert.deepEqual(loaded.targets["blocks.1.attn.W_K"]!.A.shape, [d, 2]);
    const diff = maxDeltaDiff(loaded, adapter);
    assert.ok(diff <= 1e-6, `max |ΔW difference| ${diff}`);
  });
});

// ─── Hand-built PEFT fixtures ────────────────────────────────────────────────────────────────────

/** adapter_config.json as PEFT 0.17's LoraConfig.save_pretrained writes it, scalpel-ignored fields included. */
function peftConfigJson(over: Record<string, unknown>): Record<string, unknown> {
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
    bias: "none",
    corda_config: null,
    eva_config: null,
    exclude_modules: null,
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: 16,
    lora_bias: false,
    lora_dropout: 0.05,
    megatron_config: null,
    megatron_core: "megatron.core",
    modules_to_save: null,
    peft_type: "LORA",
    qalora_group_size: 16,
    r: 2,
    rank_pattern: {},
    revision: null,
    target_modules: ["v_proj", "q_proj"],
    target_parameters: null,
    task_type: "CAUSAL_LM",
    trainable_token_indices: null,
    use_dora: false,
    use_qalora: false,
    use_rslora: false,
    ...over,
  };
}

/** A [rows, cols] tensor with small exactly-representable (in bfloat16) values from a formula. */
function grid(rows: number, cols: number, f: (i: number, j: number) => number): HostTensor {
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] = f(i, j);
  return { dtype: "float32", shape: [rows, cols], data };
}

async function writeFixture(dir: string, json: Record<string, unknown>, tensors: Record<string, HostTensor>, floatDtype?: "BF16" | "F16"): Promise<void> {
  await writeFile(path.join(dir, "adapter_config.json"), JSON.stringify(json, null, 2));
  await writeSafetensors(path.join(dir, "adapter_model.safetensors"), tensors, { format: "pt" }, floatDtype ? { floatDtype } : {});
}

/** ΔW[i, j] (scalpel layout [in, out]) = scaling · Σ_k lora_A[k, i] · lora_B[row0 + j, k], by hand. */
function handDelta(A: HostTensor, B: HostTensor, scaling: number, row0: number, width: number): Float32Array {
  const [r, dIn] = A.shape as [number, number];
  const out = new Float32Array(dIn * width);
  for (let i = 0; i < dIn; i++) {
    for (let j = 0; j < width; j++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += A.data[k * dIn + i]! * B.data[(row0 + j) * r + k]!;
      out[i * width + j] = scaling * s;
    }
  }
  return out;
}

function assertClose(actual: Float32Array, expected: Float32Array, tol: number, label: string): void {
  assert.equal(actual.length, expected.length, label);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `${label}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

test("a hand-built PEFT llama adapter (bf16, rank_pattern, alpha_pattern) loads with PEFT's ΔW", async () => {
  const config = cfg("llama");
  const P = "base_model.model.model.layers.";
  // Values k/8 − 1 etc. are exact in bfloat16.
  const A0q = grid(2, 32, (k, i) => ((i + 3 * k) % 7) / 8 - 0.375);
  const B0q = grid(32, 2, (j, k) => ((2 * j + k) % 5) / 4 - 0.5);
  const A1v = grid(4, 32, (k, i) => ((i * k + 1) % 3) / 2 - 0.5);
  const B1v = grid(16, 4, (j, k) => ((j + k) % 4) / 8);
  const A1q = grid(2, 32, (k, i) => (k === 0 ? 0.25 : -0.125) * ((i % 3) - 1));
  const B1q = grid(32, 2, (j, k) => (j === k ? 1 : 0));
  const json = peftConfigJson({
    // Full module name (what newer PEFT writes) and a bare suffix: both are PEFT pattern keys.
    rank_pattern: { "model.layers.1.self_attn.v_proj": 4 },
    alpha_pattern: { v_proj: 2 },
  });
  await withDir(async (dir) => {
    await writeFixture(dir, json, {
      [`${P}0.self_attn.q_proj.lora_A.weight`]: A0q,
      [`${P}0.self_attn.q_proj.lora_B.weight`]: B0q,
      [`${P}1.self_attn.v_proj.lora_A.weight`]: A1v,
      [`${P}1.self_attn.v_proj.lora_B.weight`]: B1v,
      [`${P}1.self_attn.q_proj.lora_A.weight`]: A1q,
      [`${P}1.self_attn.q_proj.lora_B.weight`]: B1q,
    }, "BF16");
    const loaded = await loadPeftAdapter(dir, config);
    assert.equal(loaded.rank, 2);
    assert.equal(loaded.alpha, 16);
    assert.equal(loaded.dropout, 0.05);
    assert.deepEqual(Object.keys(loaded.targets).sort(), ["blocks.0.attn.W_Q", "blocks.1.attn.W_Q", "blocks.1.attn.W_V"]);
    // q_proj: scaling 16 / 2 = 8 (the adapter's own α/r: no per-target scale).
    assert.equal(loaded.targets["blocks.0.attn.W_Q"]!.scale, undefined);
    assertClose(loraDelta(loaded, "blocks.0.attn.W_Q").data, handDelta(A0q, B0q, 8, 0, 32), 1e-6, "layer 0 W_Q");
    assertClose(loraDelta(loaded, "blocks.1.attn.W_Q").data, handDelta(A1q, B1q, 8, 0, 32), 1e-6, "layer 1 W_Q");
    // v_proj: r 4 from rank_pattern, alpha 2 from alpha_pattern → scaling 0.5.
    assert.equal(loaded.targets["blocks.1.attn.W_V"]!.scale, 0.5);
    assert.deepEqual(loaded.targets["blocks.1.attn.W_V"]!.A.shape, [32, 4]);
    assertClose(loraDelta(loaded, "blocks.1.attn.W_V").data, handDelta(A1v, B1v, 0.5, 0, 16), 1e-6, "layer 1 W_V");
    // A spot value by hand: ΔW_V[1, 0] = 0.5 · Σ_k A1v[k, 1] · B1v[0, k] = 0.5 · (0·0 + 0.5·⅛ + (−0.5)·²⁄₈ + 0·⅜).
    assert.equal(loraDelta(loaded, "blocks.1.attn.W_V").data[1 * 16 + 0], 0.5 * (0.5 / 8 - 0.5 * (2 / 8)));
  });
});

test("a hand-built PEFT gpt2 adapter (fused c_attn, use_rslora) splits into W_Q/W_K/W_V", async () => {
  const config = cfg("gpt2");
  const d = 32;
  const P = "base_model.model.transformer.h.";
  const Ac = grid(4, d, (k, i) => ((i + k) % 5) / 4 - 0.5);
  const Bc = grid(3 * d, 4, (j, k) => ((j * 3 + k) % 7) / 8 - 0.25);
  const Ao = grid(4, 128, (k, i) => (k + i) % 2);
  const Bo = grid(d, 4, (j, k) => (j % 4 === k ? 0.5 : 0));
  const json = peftConfigJson({
    base_model_name_or_path: "openai-community/gpt2",
    fan_in_fan_out: true,
    r: 4,
    lora_alpha: 8,
    use_rslora: true,
    target_modules: ["c_attn", "c_proj"],
  });
  await withDir(async (dir) => {
    await writeFixture(dir, json, {
      [`${P}1.attn.c_attn.lora_A.weight`]: Ac,
      [`${P}1.attn.c_attn.lora_B.weight`]: Bc,
      [`${P}0.mlp.c_proj.lora_A.weight`]: Ao,
      [`${P}0.mlp.c_proj.lora_B.weight`]: Bo,
    });
    const loaded = await loadPeftAdapter(dir, config);
    const scaling = 8 / Math.sqrt(4); // rsLoRA
    assert.deepEqual(Object.keys(loaded.targets).sort(), ["blocks.0.mlp.W_out", "blocks.1.attn.W_K", "blocks.1.attn.W_Q", "blocks.1.attn.W_V"]);
    for (const [i, n] of (["Q", "K", "V"] as const).entries()) {
      const f = loaded.targets[`blocks.1.attn.W_${n}`]!;
      assert.equal(f.scale, scaling);
      assertClose(loraDelta(loaded, `blocks.1.attn.W_${n}`).data, handDelta(Ac, Bc, scaling, i * d, d), 1e-6, `W_${n}`);
    }
    // W_out: mlp.c_proj is [in 128, out 32]; here in is d_mlp = 128.
    assert.deepEqual(loaded.targets["blocks.0.mlp.W_out"]!.A.shape, [128, 4]);
    assertClose(loraDelta(loaded, "blocks.0.mlp.W_out").data, handDelta(Ao, Bo, scaling, 0, d), 1e-6, "W_out");
  });
});

// ─── Refusals ────────────────────────────────────────────────────────────────────────────────────

function llamaTensors(): Record<string, HostTensor> {
  const P = "base_model.model.model.layers.0.self_attn.q_proj.";
  return { [`${P}lora_A.weight`]: grid(2, 32, () => 0.5), [`${P}lora_B.weight`]: grid(32, 2, () => 0.25) };
}

async function refuses(
  json: Record<string, unknown> | string,
  tensors: Record<string, HostTensor>,
  expect: { cls: new (...a: never[]) => ScalpelError; code: string; field?: string; file: string; text: RegExp },
  config: ModelConfig = cfg("llama"),
): Promise<void> {
  await withDir(async (dir) => {
    await writeFile(path.join(dir, "adapter_config.json"), typeof json === "string" ? json : JSON.stringify(json));
    await writeSafetensors(path.join(dir, "adapter_model.safetensors"), tensors, { format: "pt" });
    await assert.rejects(loadPeftAdapter(dir, config), (e: unknown) => {
      assert.ok(e instanceof expect.cls, `expected ${expect.cls.name}, got ${String(e)}`);
      assert.equal(e.code, expect.code, e.message);
      if (expect.field !== undefined) assert.equal(e.field, expect.field);
      assert.ok(e.file?.endsWith(expect.file), `file ${e.file}`);
      assert.match(e.message, expect.text);
      assert.match(e.message, /Fix: /);
      return true;
    });
  });
}

test("load refuses non-LoRA, DoRA, bias, modules_to_save and malformed configs with typed errors", async () => {
  const t = llamaTensors();
  const cfgErr = (field: string, text: RegExp) => ({ cls: ConfigError, code: "PEFT_CONFIG", field, file: "adapter_config.json", text });
  await refuses(peftConfigJson({ peft_type: "LOHA" }), t, cfgErr("peft_type", /"LOHA".*only LoRA/));
  await refuses(peftConfigJson({ peft_type: undefined }), t, cfgErr("peft_type", /peft_type is null/));
  await refuses(peftConfigJson({ use_dora: true }), t, cfgErr("use_dora", /DoRA/));
  await refuses(peftConfigJson({ bias: "lora_only" }), t, cfgErr("bias", /"lora_only"/));
  await refuses(peftConfigJson({ lora_bias: true }), t, cfgErr("lora_bias", /lora_bias/));
  await refuses(peftConfigJson({ modules_to_save: ["lm_head"] }), t, cfgErr("modules_to_save", /lm_head/));
  await refuses(peftConfigJson({ r: 0 }), t, cfgErr("r", /positive integer/));
  await refuses(peftConfigJson({ r: "8" }), t, cfgErr("r", /positive integer/));
  await refuses(peftConfigJson({ lora_alpha: null, use_rslora: "yes" }), t, cfgErr("use_rslora", /true or false/));
  await refuses(peftConfigJson({ rank_pattern: ["q_proj"] }), t, cfgErr("rank_pattern", /object/));
  await refuses(peftConfigJson({ rank_pattern: { q_proj: 2.5 } }), t, cfgErr("rank_pattern.q_proj", /positive integer/));
  await refuses(peftConfigJson({ alpha_pattern: { "(?P<x>q)_proj": 4 } }), t, cfgErr("alpha_pattern.(?P<x>q)_proj", /regular expression/));
  await refuses([1, 2] as unknown as Record<string, unknown>, t, cfgErr("$", /JSON object/));
  await refuses('{"peft_type": "LORA",', t, { cls: ConfigError, code: "JSON_SYNTAX", file: "adapter_config.json", text: /line 1/ });
  // Harmless unknown fields are ignored.
  await withDir(async (dir) => {
    await writeFixture(dir, peftConfigJson({ some_future_field: { a: 1 }, modules_to_save: [] }), t);
    assert.deepEqual(Object.keys((await loadPeftAdapter(dir, cfg("llama"))).targets), ["blocks.0.attn.W_Q"]);
  });
});

test("load refuses tensors for missing modules, wrong shapes, lone factors and foreign keys", async () => {
  const json = peftConfigJson({});
  const P = "base_model.model.model.layers.";
  const tErr = (field: string, text: RegExp) => ({ cls: CheckpointError, code: "PEFT_TENSOR", field, file: "adapter_model.safetensors", text });
  const t = llamaTensors();
  const aKey = `${P}0.self_attn.q_proj.lora_A.weight`;
  const bKey = `${P}0.self_attn.q_proj.lora_B.weight`;
  // A module the model lacks: layer 5 of a 2-layer model; lm_head.
  await refuses(json, { ...t, [`${P}5.mlp.up_proj.lora_A.weight`]: grid(2, 32, () => 1), [`${P}5.mlp.up_proj.lora_B.weight`]: grid(40, 2, () => 1) }, tErr(`${P}5.mlp.up_proj.lora_A.weight`, /model\.layers\.5\.mlp\.up_proj, which this llama model \(2 layers\) does not have/));
  await refuses(json, { ...t, "base_model.model.lm_head.lora_A.weight": grid(2, 32, () => 1) }, tErr("base_model.model.lm_head.lora_A.weight", /lm_head/));
  // Wrong shapes: in_features, and r disagreeing with the config.
  await refuses(json, { ...t, [aKey]: grid(2, 31, () => 1) }, tErr(aKey, /shape \[2,31\]; expected \[2,32\]/));
  await refuses(peftConfigJson({ r: 3 }), t, tErr(aKey, /expected \[3,32\]/));
  await refuses(json, { ...t, [bKey]: grid(16, 2, () => 1) }, tErr(bKey, /expected \[32,2\]/));
  // An A without its B, and the reverse.
  await refuses(json, { [aKey]: t[aKey]! }, tErr(bKey, /no matching .*lora_B/));
  await refuses(json, { [bKey]: t[bKey]! }, tErr(aKey, /no matching .*lora_A/));
  // DoRA magnitudes, biases, adapter names left in keys, foreign tensors, nothing at all.
  await refuses(json, { ...t, [`${P}0.self_attn.q_proj.lora_magnitude_vector`]: grid(1, 32, () => 1) }, tErr(`${P}0.self_attn.q_proj.lora_magnitude_vector`, /DoRA/));
  await refuses(json, { ...t, [`${P}0.self_attn.q_proj.lora_B.bias`]: grid(1, 32, () => 1) }, tErr(`${P}0.self_attn.q_proj.lora_B.bias`, /bias/));
  await refuses(json, { [`${P}0.self_attn.q_proj.lora_A.default.weight`]: t[aKey]! }, tErr(`${P}0.self_attn.q_proj.lora_A.default.weight`, /adapter name/));
  await refuses(json, { ...t, "base_model.model.model.embed_tokens.weight": grid(101, 32, () => 1) }, tErr("base_model.model.model.embed_tokens.weight", /not a LoRA factor/));
  await refuses(json, {}, tErr("$", /no LoRA tensors/));
  // A missing adapter_model.safetensors next to a pickle.
  await withDir(async (dir) => {
    await writeFile(path.join(dir, "adapter_config.json"), JSON.stringify(json));
    await writeFile(path.join(dir, "adapter_model.bin"), "not read");
    await assert.rejects(loadPeftAdapter(dir, cfg("llama")), (e: unknown) => e instanceof CheckpointError && e.code === "PEFT_PICKLE" && /safe_serialization/.test(e.message));
  });
});

test("gpt_neox and gptj are refused on save and load, naming the supported families", async () => {
  for (const kind of ["gpt_neox", "gptj"] as const) {
    const config = cfg(kind);
    const adapter: LoraAdapter = { rank: 1, alpha: 1, dropout: 0, targets: { "blocks.0.attn.W_Q": factors(new Rng(1), 32, 1, 32) } };
    await withDir(async (dir) => {
      const check = (e: unknown) => {
        assert.ok(e instanceof UnsupportedArchitectureError, String(e));
        assert.equal(e.code, "PEFT_UNSUPPORTED_FAMILY");
        assert.match(e.message, new RegExp(`"${kind}".*llama, mistral, qwen2, gemma2, gpt2`));
        return true;
      };
      await assert.rejects(savePeftAdapter(dir, adapter, config), check);
      assert.deepEqual(await readdir(dir), [], "nothing written");
      await writeFixture(dir, peftConfigJson({}), llamaTensors());
      await assert.rejects(loadPeftAdapter(dir, config), check);
    });
  }
});

test("save refuses targets PEFT cannot name and factors of the wrong shape", () => {
  const rng = new Rng(3);
  const bad = (targets: Record<string, LoraFactors>, config: ModelConfig, text: RegExp) =>
    assert.throws(() => adapterToPeft({ rank: 2, alpha: 2, dropout: 0, targets }, config), (e: unknown) => e instanceof ConfigError && e.code === "PEFT_TARGET" && text.test(e.message) && /Fix: /.test(e.message));
  bad({ "unembed.W_U": factors(rng, 32, 2, 101) }, cfg("llama"), /unembed\.W_U has no PEFT module/);
  bad({}, cfg("llama"), /no targets/);
  bad({ "blocks.2.attn.W_Q": factors(rng, 32, 2, 32) }, cfg("llama"), /blocks\.2\.attn\.W_Q/);
  bad({ "blocks.0.mlp.W_gate": factors(rng, 32, 2, 128) }, cfg("gpt2"), /W_gate has no PEFT module/);
  bad({ "blocks.0.attn.W_K": factors(rng, 32, 2, 32) }, cfg("llama"), /needs A \[32, r\] and B \[r, 16\]/);
});
