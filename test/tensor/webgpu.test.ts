/**
 * jax-js's WebGPU backend in Node (tensor/node-webgpu.ts: Dawn through the `webgpu` package): the
 * family parity checks on whatever adapter exists — on a machine without a GPU, Mesa's lavapipe
 * (CPU Vulkan, Mesa ≥ 25; .ci/run installs it from bookworm-backports). Each family's tiny model
 * on WebGPU against the same model on onnxruntime's CPU kernels (the native executor, itself
 * pinned to jax-js's Wasm forward by test/model/native-parity.test.ts). Skips, saying why, when
 * WebGPU finds no adapter.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { EngineError } from "../../src/errors.js";
import { nativeForward } from "../../src/model/native/onnx-node.js";
import { initEngine } from "../../src/tensor/engine.js";
import { enableNodeWebGPU } from "../../src/tensor/node-webgpu.js";
import { readF32 } from "../../src/tensor/own.js";
import { maxAbsDiff, tinyModel, tokenRows, type Variant } from "../model/helpers.js";

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
