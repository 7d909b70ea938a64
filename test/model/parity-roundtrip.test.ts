/**
 * Family name/layout mappings: toHF(fromHF(x)) reproduces the checkpoint's tensors bit for bit
 * (same names, shapes, values), fromHF(toHF(p)) reproduces the normalised params, and the
 * mapping puts each HF weight element where model/types.ts says it belongs (checked by hand for
 * GPT-NeoX's per-head fused q/k/v, the easiest layout to get wrong); and through the real files:
 * loadModel → saveModel writes the same HF tensors and reloads to identical logits.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { CheckpointError } from "../../src/errors.js";
import { openSafetensorsFile } from "../../src/io/safetensors-file.js";
import { familyFor } from "../../src/model/families/index.js";
import type { F32Tensor, HFTensorSource } from "../../src/model/families/types.js";
import { loadModel, saveModel } from "../../src/model/load.js";
import { readF32 } from "../../src/tensor/own.js";
import { buildCheckpoint, buildTensors, type CheckpointSpec } from "./checkpoint-builder.js";

function source(t: Record<string, F32Tensor>): HFTensorSource {
  return { names: () => Object.keys(t), has: (n) => n in t, get: async (n) => t[n]! };
}

function sameTensors(a: Record<string, F32Tensor>, b: Record<string, F32Tensor>, what: string): void {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), `${what}: tensor names differ`);
  for (const k of Object.keys(a)) {
    assert.deepEqual(a[k]!.shape, b[k]!.shape, `${what}: shape of ${k}`);
    assert.ok(Buffer.from(a[k]!.data.buffer, a[k]!.data.byteOffset, a[k]!.data.byteLength)
      .equals(Buffer.from(b[k]!.data.buffer, b[k]!.data.byteOffset, b[k]!.data.byteLength)), `${what}: values of ${k}`);
  }
}

const base = { dModel: 32, nHeads: 4, nLayers: 2 };
const specs: [string, CheckpointSpec][] = [
  ["gpt2 tied", { modelType: "gpt2", ...base }],
  ["gpt2 untied", { modelType: "gpt2", ...base, tied: false }],
  ["gpt_neox untied, biases", { modelType: "gpt_neox", ...base }],
  ["gpt_neox tied, no attention bias", { modelType: "gpt_neox", ...base, tied: true, bias: false }],
  ["gptj untied", { modelType: "gptj", ...base }],
  ["gptj tied", { modelType: "gptj", ...base, tied: true }],
  ["llama GQA", { modelType: "llama", ...base, nKVHeads: 2 }],
  ["llama biases, tied", { modelType: "llama", ...base, bias: true, tied: true }],
  ["mistral", { modelType: "mistral", ...base, nKVHeads: 1 }],
  ["qwen2", { modelType: "qwen2", ...base, nKVHeads: 2 }],
  ["gemma2 tied", { modelType: "gemma2", ...base, nKVHeads: 2, dHead: 12 }],
  ["gemma2 untied, attention bias", { modelType: "gemma2", ...base, tied: false, bias: true }],
];

for (const [name, spec] of specs) {
  test(`round trip HF → params → HF and back: ${name}`, async () => {
    const { config: raw, tensors } = buildTensors(spec);
    const family = familyFor(raw.model_type, "config.json");
    const config = family.parseConfig(raw, "config.json");
    const params = await family.fromHF(config, source(tensors));
    const hf = family.toHF(config, params);
    sameTensors(hf, tensors, "toHF(fromHF(x))");
    sameTensors(await family.fromHF(config, source(hf)), params, "fromHF(toHF(p))");
  });
}

test("gpt_neox: fused query_key_value rows are per-head [q, k, v] chunks", async () => {
  const H = 4;
  const dh = 8;
  const d = H * dh;
  const { config: raw, tensors } = buildTensors({ modelType: "gpt_neox", dModel: d, nHeads: H, nLayers: 1 });
  const family = familyFor("gpt_neox", "config.json");
  const p = await family.fromHF(family.parseConfig(raw, "config.json"), source(tensors));
  const W = tensors["gpt_neox.layers.0.attention.query_key_value.weight"]!; // [3d, d], rows = outputs
  const B = tensors["gpt_neox.layers.0.attention.query_key_value.bias"]!;
  // modeling_gpt_neox.py: qkv.view(..., H, 3*dh); q = [..., :dh], k = [..., dh:2dh], v = [..., 2dh:].
  const names = ["W_Q", "W_K", "W_V"] as const;
  const biases = ["b_Q", "b_K", "b_V"] as const;
  for (let part = 0; part < 3; part++) {
    const M = p[`blocks.0.attn.${names[part]}`]!; // [d, H*dh]: column h*dh+e is output (h, e)
    const b = p[`blocks.0.attn.${biases[part]}`]!;
    assert.deepEqual(M.shape, [d, d]);
    for (let h = 0; h < H; h++) {
      for (let e = 0; e < dh; e++) {
        const row = h * 3 * dh + part * dh + e;
        assert.equal(b.data[h * dh + e], B.data[row]);
        for (let i = 0; i < d; i++) assert.equal(M.data[i * d + h * dh + e], W.data[row * d + i]);
      }
    }
  }
});

test("fromHF: a missing or mis-shaped tensor is a CheckpointError naming it", async () => {
  for (const [type, victim] of [
    ["gpt_neox", "gpt_neox.layers.1.attention.query_key_value.weight"],
    ["gptj", "lm_head.bias"],
    ["gemma2", "model.layers.0.post_feedforward_layernorm.weight"],
  ] as const) {
    const { config: raw, tensors } = buildTensors({ modelType: type, ...base });
    const family = familyFor(type, "config.json");
    const config = family.parseConfig(raw, "config.json");
    const missing = { ...tensors };
    delete missing[victim];
    await assert.rejects(family.fromHF(config, source(missing)), (e: unknown) =>
      e instanceof CheckpointError && e.field === victim && e.message.includes(victim));
    const t = tensors[victim]!;
    const wrong = { ...tensors, [victim]: { shape: [...t.shape, 1], data: t.data } };
    await assert.rejects(family.fromHF(config, source(wrong)), (e: unknown) => e instanceof CheckpointError && e.field === victim);
  }
});

test("loadModel → saveModel → loadModel: same HF tensors on disk, same logits", async () => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), "scalpel-roundtrip-"));
  try {
    for (const [name, spec] of specs.filter(([n]) => /neox|gptj|gemma2/.test(n))) {
      const a = path.join(tmp, `${name}-a`.replace(/\W+/g, "_"));
      const b = path.join(tmp, `${name}-b`.replace(/\W+/g, "_"));
      const built = await buildCheckpoint(a, spec);
      const m1 = await loadModel(a);
      await saveModel(m1, b);
      const reader = await openSafetensorsFile(path.join(b, "model.safetensors"));
      const saved: Record<string, F32Tensor> = {};
      for (const n of reader.names()) saved[n] = await reader.readF32(n);
      await reader.close();
      sameTensors(saved, built.tensors, `${name}: saved checkpoint`);
      const m2 = await loadModel(b);
      const toks = [[3, 1, 4, 1, 5, 9, 2, 6]];
      const l1 = await readF32(m1.forward(toks).logits!);
      const l2 = await readF32(m2.forward(toks).logits!);
      assert.deepEqual(l2, l1, `${name}: logits changed after save/load`);
      m1.dispose();
      m2.dispose();
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test("fromHF ignores the non-parameter buffers older NeoX / GPT-J checkpoints carry", async () => {
  const extras: Record<string, (l: number) => string[]> = {
    gpt_neox: (l) => [`gpt_neox.layers.${l}.attention.bias`, `gpt_neox.layers.${l}.attention.masked_bias`, `gpt_neox.layers.${l}.attention.rotary_emb.inv_freq`],
    gptj: (l) => [`transformer.h.${l}.attn.bias`, `transformer.h.${l}.attn.masked_bias`],
  };
  for (const [type, names] of Object.entries(extras)) {
    const { config: raw, tensors } = buildTensors({ modelType: type as "gpt_neox" | "gptj", ...base });
    const family = familyFor(type, "config.json");
    const config = family.parseConfig(raw, "config.json");
    const withBuffers = { ...tensors };
    for (let l = 0; l < 2; l++) for (const n of names(l)) withBuffers[n] = { shape: [1], data: new Float32Array([1]) };
    sameTensors(await family.fromHF(config, source(withBuffers)), await family.fromHF(config, source(tensors)), `${type} with buffers`);
  }
});
