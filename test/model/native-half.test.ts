/**
 * Half-precision weights in the native executor: a checkpoint stored as F16 (or BF16, where its
 * values fit float16) keeps its weight matrices in float16 inside onnxruntime (memory ×0.5 for them,
 * measured in bench/README.md), and the results still equal the jax-js forward, which holds the
 * same values widened to float32.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { generate } from "../../src/model/generate.js";
import { loadModel, saveModel } from "../../src/model/load.js";
import { enableNativeExecutor } from "../../src/model/native/enable-node.js";
import { halfWeightsOf, markHalfWeights, setNativeExecutor } from "../../src/model/native/executor.js";
import { hostParams, nativeForward, nativeWeightBytes } from "../../src/model/native/onnx-node.js";
import type { Model } from "../../src/model/types.js";
import { readF32 } from "../../src/tensor/own.js";
import { maxAbsDiff, stubTokenizer, tinyModel, tokenRows, type Variant } from "./helpers.js";

const dirs: string[] = [];
after(async () => {
  setNativeExecutor(undefined);
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A tiny model saved with `floatDtype` and loaded back. */
async function roundTrip(variant: Variant, floatDtype: "F32" | "F16" | "BF16"): Promise<Model> {
  const model = tinyModel(variant);
  const dir = await mkdtemp(path.join(tmpdir(), "scalpel-half-"));
  dirs.push(dir);
  await saveModel(model, dir, { floatDtype });
  model.dispose();
  return loadModel(dir, { tokenizer: stubTokenizer(model.config.vocabSize) });
}

/** Native logits and hook points equal jax-js's on the same (left-padded) rows. */
async function assertParity(model: Model): Promise<void> {
  const rows = tokenRows(2, 7, model.config.vocabSize);
  const mask = [[1, 1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1]];
  const hooks = ["blocks.0.hook_resid_post", "blocks.1.mlp.hook_post"];
  const ref = model.forward(rows, { attentionMask: mask, cache: hooks });
  const native = await nativeForward(model, rows, { attentionMask: mask, cache: hooks });
  const diff = maxAbsDiff(native.logits!.data, await readF32(ref.logits!));
  assert.ok(diff <= 1e-5, `logits differ by ${diff}`);
  for (const h of hooks) assert.ok(maxAbsDiff(native.cache[h]!.data, await readF32(ref.cache[h]!)) <= 1e-5, h);
}

for (const [variant, dtype] of [["gpt2", "F16"], ["llama", "F16"], ["gemma2", "F16"], ["gptj", "F16"], ["mistral", "BF16"]] as const) {
  test(`${variant} stored as ${dtype}: the executor keeps its matrices in half precision and matches jax-js`, async () => {
    const model = await roundTrip(variant, dtype);
    assert.equal(halfWeightsOf(model), dtype === "F16" ? "float16" : "bfloat16");
    const host = await hostParams(model);
    for (const [name, a] of Object.entries(model.params)) {
      const t = host[name]!;
      if (a.ndim < 2) assert.ok("data" in t, `${name} (a vector) stays float32`);
      // F16 values are float16 by construction; a BF16 matrix is float16 where every value fits.
      else if (dtype === "F16" || "half" in t) assert.ok("half" in t && t.half.length === a.size, `${name} should be float16`);
      else assert.ok(!Array.from(t.data).every((v) => Math.abs(v) >= 2 ** -14 && Math.abs(v) < 65504), `${name}: float32 though its bfloat16 values fit float16`);
    }
    if (dtype === "BF16") assert.ok(Object.values(host).some((t) => "half" in t), "some BF16 matrix was kept as float16");
    await assertParity(model);
    const halfBytes = Object.values(host).reduce((n, t) => n + ("half" in t ? t.half.byteLength : t.data.byteLength), 0);
    assert.equal(await nativeWeightBytes(model), halfBytes, "the executor holds the half copy");
    // KV-cached greedy decoding on the half-precision session gives jax-js's tokens.
    setNativeExecutor(undefined);
    const jax = await generate(model, ["abc", "hello there"], { maxNewTokens: 10, eosTokenId: null });
    enableNativeExecutor();
    const native = await generate(model, ["abc", "hello there"], { maxNewTokens: 10, eosTokenId: null });
    setNativeExecutor(undefined);
    assert.deepEqual(native.tokens, jax.tokens);
    model.dispose();
  });
}

test("an F32 checkpoint is not marked, and its weights stay float32", async () => {
  const model = await roundTrip("llama", "F32");
  assert.equal(halfWeightsOf(model), undefined);
  assert.ok(Object.values(await hostParams(model)).every((t) => "data" in t));
  model.dispose();
});

test("SCALPEL_NATIVE_WEIGHTS=float32 keeps a half checkpoint's weights in float32", async () => {
  const model = await roundTrip("gpt2", "F16");
  process.env.SCALPEL_NATIVE_WEIGHTS = "float32";
  try {
    assert.ok(Object.values(await hostParams(model)).every((t) => "data" in t));
  } finally {
    delete process.env.SCALPEL_NATIVE_WEIGHTS;
  }
  model.dispose();
});

test("a matrix whose values do not survive the round trip stays float32 (results are never rounded)", async () => {
  const model = tinyModel("llama"); // random float32 values: not float16-representable
  markHalfWeights(model, "float16");
  assert.ok(Object.values(await hostParams(model)).every((t) => "data" in t));
  await assertParity(model);
  model.dispose();
});
