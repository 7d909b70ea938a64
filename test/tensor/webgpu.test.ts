/**
 * jax-js's WebGPU backend in Node (tensor/node-webgpu.ts: Dawn through the `webgpu` package): the
 * family parity checks on whatever adapter exists — on a machine without a GPU, Mesa's lavapipe
 * (CPU Vulkan, Mesa ≥ 25; .ci/run installs it from bookworm-backports). Each family's tiny model
 * on WebGPU against the same model on onnxruntime's CPU kernels (the native executor, itself
 * pinned to jax-js's Wasm forward by test/model/native-parity.test.ts); and the buffer-limit
 * guard on activations (tensor/webgpu-guard.ts); weights over the limit are in
 * test/model/webgpu-split.test.ts. Skips, saying why, when WebGPU finds no adapter.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { EngineError } from "../../src/errors.js";
import { nativeForward } from "../../src/model/native/onnx-node.js";
import { initEngine } from "../../src/tensor/engine.js";
import { enableNodeWebGPU } from "../../src/tensor/node-webgpu.js";
import { readF32 } from "../../src/tensor/own.js";
import { maxAbsDiff, tinyModel, tokenRows, type Variant } from "../model/helpers.js";
import { wordLevelTokenizer } from "../../src/io/tokenizer/index.js";
import { familyFor } from "../../src/model/families/index.js";
import { createModel } from "../../src/model/model.js";
import { randomParams } from "../../src/model/random-params.js";
import { webgpuLimits } from "../../src/tensor/webgpu-guard.js";

let skip: string | undefined;

before(async () => {
  try {
    const adapter = await enableNodeWebGPU();
    const device = await initEngine({ device: "webgpu" });
    if (device !== "webgpu") skip = `the engine started on ${device}`;
    else console.log(`WebGPU adapter: ${adapter}`);
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    skip = e.message;
  }
});

for (const variant of ["gpt2", "llama", "mistral", "gemma2", "gptj", "parallel"] as Variant[]) {
  test(`webgpu: ${variant} logits equal the CPU forward`, async (t) => {
    if (skip) return t.skip(skip);
    const model = tinyModel(variant);
    const rows = tokenRows(2, 7, model.config.vocabSize);
    const mask = [[1, 1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1]];
    const gpu = await readF32(model.forward(rows, { attentionMask: mask }).logits!);
    const cpu = await nativeForward(model, rows, { attentionMask: mask });
    assert.ok(maxAbsDiff(gpu, cpu.logits!.data) <= 1e-4, `logits differ by ${maxAbsDiff(gpu, cpu.logits!.data)}`);
    model.dispose();
  });
}

/** A one-layer GPT-2 of the given vocabulary and width, on the engine's device. */
function wideModel(vocab: number, d: number, positions: number) {
  const config = familyFor("gpt2", "config.json").parseConfig({ model_type: "gpt2", vocab_size: vocab, n_embd: d, n_layer: 1, n_head: 4, n_positions: positions }, "config.json");
  return createModel(config, randomParams(config, 1, { std: 0.02 }), wordLevelTokenizer(["a", "b"], { unk: "a" }));
}

test("webgpu: an activation over the binding limit throws at readback instead of returning zeros; the device works after", async (t) => {
  if (skip) return t.skip(skip);
  const limit = webgpuLimits()!.maxStorageBufferBindingSize;
  if (limit > 2 ** 28) return t.skip(`this device binds ${limit} bytes: logits over it would be too slow to compute here`);
  // Logits of 1 × 900 positions × vocab (f32) just over the limit; the weights stay under it.
  const vocab = Math.ceil(limit / (4 * 900)) + 64;
  const model = wideModel(vocab, 32, 1024);
  const long = [Array.from({ length: 900 }, (_, i) => i % 100)];
  await assert.rejects(readF32(model.forward(long).logits!), (e: Error) => e instanceof EngineError && e.code === "WEBGPU_ERROR" && /binding size/i.test(e.message));
  const ok = await readF32(model.forward([[1, 2, 3]]).logits!);
  assert.ok(ok.some((x) => x !== 0), "a forward within the limits still works");
  model.dispose();
});
