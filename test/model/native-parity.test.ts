/**
 * The native executor (model/native: the forward exported to ONNX, run by onnxruntime-node)
 * against the jax-js forward on every family and structural variant: logits, hook points, an
 * additive intervention and a stopAt, with left padding, to ≤ 1e-5.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np } from "@jax-js/jax";
import { familyFor } from "../../src/model/families/index.js";
import type { F32Tensor } from "../../src/model/families/types.js";
import { createModel } from "../../src/model/model.js";
import { nativeForward } from "../../src/model/native/onnx-node.js";
import type { Model } from "../../src/model/types.js";
import { readF32 } from "../../src/tensor/own.js";
import { buildTensors, type CheckpointSpec } from "./checkpoint-builder.js";
import { maxAbsDiff, stubTokenizer, tinyModel, tokenRows, type Variant } from "./helpers.js";

const TOL = 1e-5;

async function fromSpec(spec: CheckpointSpec): Promise<Model> {
  const { config: raw, tensors } = buildTensors(spec);
  const family = familyFor(raw.model_type, "config.json");
  const config = family.parseConfig(raw, "config.json");
  const host = await family.fromHF(config, { names: () => Object.keys(tensors), has: (n) => n in tensors, get: async (n) => tensors[n] as F32Tensor });
  const params = Object.fromEntries(Object.entries(host).map(([n, t]) => [n, np.array(t.data).reshape(t.shape)]));
  return createModel(config, params, stubTokenizer(config.vocabSize));
}

const base = { dModel: 32, nHeads: 4, nLayers: 2 };
const models: [string, () => Promise<Model> | Model][] = [
  ...(["gpt2", "llama", "mistral", "gemma2", "gptj", "parallel"] as Variant[]).map((v) => [`tiny ${v}`, () => tinyModel(v)] as [string, () => Model]),
  ["gpt2 tied", () => fromSpec({ modelType: "gpt2", ...base })],
  ["gpt_neox (partial rotary, parallel)", () => fromSpec({ modelType: "gpt_neox", ...base, config: { rotary_pct: 0.5 } })],
  ["gptj tied", () => fromSpec({ modelType: "gptj", ...base, tied: true })],
  ["llama biases, tied", () => fromSpec({ modelType: "llama", ...base, bias: true, tied: true })],
  ["qwen2", () => fromSpec({ modelType: "qwen2", ...base, nKVHeads: 2 })],
  ["gemma2 tied", () => fromSpec({ modelType: "gemma2", ...base, nKVHeads: 2, dHead: 12 })],
];

for (const [name, make] of models) {
  test(`native forward = jax-js forward: ${name}`, async () => {
    const model = await make();
    const { vocabSize: V, dModel: d } = model.config;
    const rows = tokenRows(2, 7, V);
    const mask = [[1, 1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1]]; // the second row left-padded
    const hooks = ["blocks.0.hook_resid_post", "blocks.1.attn.hook_pattern", "blocks.1.mlp.hook_post", "ln_final.hook_normalized"];
    const steer = Float32Array.from({ length: d }, (_, i) => Math.sin(i) * 0.5);
    const add = "blocks.0.hook_resid_post";

    const ref = model.forward(rows, { attentionMask: mask, cache: hooks, hooks: { [add]: (x) => x.add(np.array(steer)) } });
    const native = await nativeForward(model, rows, { attentionMask: mask, cache: hooks, additions: { [add]: { data: steer, shape: [d] } } });
    assert.deepEqual(native.logits!.shape, [2, 7, V]);
    const refLogits = await readF32(ref.logits!);
    assert.ok(maxAbsDiff(native.logits!.data, refLogits) <= TOL, `logits differ by ${maxAbsDiff(native.logits!.data, refLogits)}`);
    for (const h of hooks) {
      const want = await readF32(ref.cache[h]!);
      assert.ok(maxAbsDiff(native.cache[h]!.data, want) <= TOL, `${h} differs by ${maxAbsDiff(native.cache[h]!.data, want)}`);
    }
    // Unpatched, last position only, and a pass that stops at a hook point.
    const plain = await readF32(model.forward(rows, { logitsPositions: "last" }).logits!);
    const last = await nativeForward(model, rows, { lastOnly: true });
    assert.deepEqual(last.logits!.shape, [2, 1, V]);
    assert.ok(maxAbsDiff(last.logits!.data, plain) <= TOL);
    const stop = "blocks.0.mlp.hook_post";
    const stopped = await nativeForward(model, rows, { cache: [stop], stopAt: stop });
    assert.equal(stopped.logits, undefined);
    const want = await readF32(model.forward(rows, { cache: [stop], stopAt: stop }).cache[stop]!);
    assert.ok(maxAbsDiff(stopped.cache[stop]!.data, want) <= TOL);
    model.dispose();
  });
}
