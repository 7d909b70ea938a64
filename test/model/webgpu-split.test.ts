/**
 * Vocabulary matrices split across WebGPU buffers (model/vocab-split.ts), on whatever adapter
 * exists (lavapipe here, 128 MiB per binding). Two scales:
 *
 * - every family's tiny model with the binding limit capped (capWebGPUBindings) so its
 *   vocabulary of 425 runs as four blocks: logits, padded logits, the embedding hook,
 *   hooked and edited passes, the logit lens and KV-cached greedy decoding against onnxruntime's
 *   CPU forward of the whole matrices (itself pinned to jax-js's Wasm forward by
 *   test/model/native-parity.test.ts), and a ROME edit against the same edit unsplit;
 * - GPT-2 small's real vocabulary matrix (50257 × 768 f32, 154 MB) against the device's own limit,
 *   built on the GPU and loaded through loadModelFrom (which keeps it in host memory).
 *
 * Skips, saying why, when WebGPU finds no adapter.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { grad, numpy as np } from "@jax-js/jax";
import { EngineError } from "../../src/errors.js";
import { wordLevelTokenizer } from "../../src/io/tokenizer/index.js";
import { familyFor } from "../../src/model/families/index.js";
import { EditCaches } from "../../src/edit/caches.js";
import { romeDefaults } from "../../src/edit/hparams.js";
import { romeEdit } from "../../src/edit/rome.js";
import { generate } from "../../src/model/generate.js";
import { logitLens } from "../../src/model/lens.js";
import { loadModelFrom, toHFTensors } from "../../src/model/load.js";
import { createModel } from "../../src/model/model.js";
import { nativeForward } from "../../src/model/native/onnx-node.js";
import { randomParams } from "../../src/model/random-params.js";
import type { Model, ModelConfig, Params } from "../../src/model/types.js";
import { paddedVocab, PAD_LOGIT } from "../../src/model/unembed.js";
import { vocabBlockRows } from "../../src/model/vocab-split.js";
import { initEngine } from "../../src/tensor/engine.js";
import { enableNodeWebGPU } from "../../src/tensor/node-webgpu.js";
import { readF32 } from "../../src/tensor/own.js";
import { capWebGPUBindings, webgpuLimits } from "../../src/tensor/webgpu-guard.js";
import { FAST, REQUESTS, tinyCorpus, WORDS } from "../edit/tiny.js";
import { maxAbsDiff, stubTokenizer, tinyConfig, type Variant } from "./helpers.js";

let skip: string | undefined;

before(async () => {
  try {
    await enableNodeWebGPU();
    const device = await initEngine({ device: "webgpu" });
    if (device !== "webgpu") skip = `the engine started on ${device}`;
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    skip = e.message;
  }
});
after(() => capWebGPUBindings(undefined));

/** The binding limit the tiny models run under: their largest matrix (GPT-2's W_in, 32 × 128 f32) fits, 128 vocabulary rows do. */
const CAP = 128 * 32 * 4;
const VOCAB = 425;
/** Ids on both sides of every block boundary (128, 256, 384) and the last id. */
const ROWS = [[0, 127, 128, 255, 256, 383, 384, 424], [5, 400, 130, 300, 100, 423, 1, 128]];
const MASK = [[1, 1, 1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1, 1]];

/** A tiny model of `variant` with a 425-word vocabulary, run as four blocks (128, 128, 128, 41 rows) under CAP. */
function splitModel(variant: Variant): Model {
  const config: ModelConfig = { ...tinyConfig(variant), vocabSize: VOCAB };
  capWebGPUBindings(CAP);
  const model = createModel(config, randomParams(config, 3, { std: 0.2, biasStd: 0.1, normStd: 0.1 }), stubTokenizer(VOCAB));
  assert.equal(vocabBlockRows(config), 128);
  return model;
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => assert.ok(maxAbsDiff(a, b) <= 1e-4, `${what} differ by ${maxAbsDiff(a, b)}`);

for (const variant of ["gpt2", "llama", "mistral", "gemma2", "gptj", "parallel"] as Variant[]) {
  test(`webgpu split vocabulary: ${variant} logits, padded logits and hook_embed equal the CPU forward of the whole matrices`, async (t) => {
    if (skip) return t.skip(skip);
    const model = splitModel(variant);
    try {
      const cpu = await nativeForward(model, ROWS, { attentionMask: MASK, cache: ["hook_embed"] });
      const out = model.forward(ROWS, { attentionMask: MASK, cache: ["hook_embed"] });
      close(await readF32(out.logits!), cpu.logits!.data, "logits");
      close(await readF32(out.cache["hook_embed"]!), cpu.cache["hook_embed"]!.data, "hook_embed");
      // The compiled plain pass and the padded logits (padding only in the last block).
      close(await readF32(model.forward(ROWS, { attentionMask: MASK }).logits!), cpu.logits!.data, "compiled logits");
      const padded = model.forward(ROWS, { attentionMask: MASK, paddedLogits: true }).logits!;
      const P = paddedVocab(VOCAB);
      assert.deepEqual(padded.shape, [2, 8, P]);
      const p = await readF32(padded);
      for (let r = 0; r < 16; r++) {
        close(p.subarray(r * P, r * P + VOCAB), cpu.logits!.data.subarray(r * VOCAB, (r + 1) * VOCAB), `padded row ${r}`);
        assert.ok(p.subarray(r * P + VOCAB, (r + 1) * P).every((x) => x === PAD_LOGIT));
      }
    } finally {
      model.dispose();
      capWebGPUBindings(undefined);
    }
  });
}

test("webgpu split vocabulary: KV-cached greedy decoding gives the CPU forward's tokens", async (t) => {
  if (skip) return t.skip(skip);
  for (const variant of ["gpt2", "llama"] as Variant[]) {
    const model = splitModel(variant);
    try {
      const prompt = [7, 390, 130, 260];
      const got = await generate(model, [prompt], { maxNewTokens: 6, eosTokenId: null });
      const ids = prompt.slice();
      for (let i = 0; i < 6; i++) {
        const logits = (await nativeForward(model, [ids], { lastOnly: true })).logits!.data;
        ids.push(logits.indexOf(Math.max(...logits)));
      }
      assert.deepEqual(got.tokens[0], ids.slice(prompt.length), variant);
    } finally {
      model.dispose();
      capWebGPUBindings(undefined);
    }
  }
});

test("webgpu split vocabulary: an edited block weight runs; a replaced or differentiated vocabulary matrix is refused with a typed error", async (t) => {
  if (skip) return t.skip(skip);
  const model = splitModel("gpt2");
  try {
    const W = model.params["blocks.1.mlp.W_out"]!;
    const edited = model.withParams({ "blocks.1.mlp.W_out": W.ref.mul(1.5) });
    const cpu = await nativeForward(edited, ROWS);
    close(await readF32(edited.forward(ROWS).logits!), cpu.logits!.data, "edited logits");
    // The logit lens reads out through the same blocks: its last point is the model's own next-token choice.
    const lens = await logitLens(edited, ROWS[0]!);
    const argmax = (t: number) => {
      const row = cpu.logits!.data.subarray(t * VOCAB, (t + 1) * VOCAB);
      return row.indexOf(Math.max(...row));
    };
    assert.deepEqual(lens.top.at(-1)!.map((k) => k[0]!.id), ROWS[0]!.map((_, t) => argmax(t)));
    edited.dispose();

    const own = (): Params => Object.fromEntries(Object.entries(model.params).map(([k, v]) => [k, v.ref]));
    const isSplitError = (e: Error) => e instanceof EngineError && e.code === "WEBGPU_SPLIT_VOCAB" && /embed\.W_E/.test(e.message);
    const replaced = own();
    replaced["embed.W_E"]!.dispose();
    replaced["embed.W_E"] = model.params["embed.W_E"]!.ref.mul(2);
    assert.throws(() => model.apply(replaced, ROWS), isSplitError);
    const loss = (E: np.Array) => model.apply({ ...own(), "embed.W_E": E }, ROWS).logits!.sum();
    assert.throws(() => grad(loss)(model.params["embed.W_E"]!.ref), isSplitError);
  } finally {
    model.dispose();
    capWebGPUBindings(undefined);
  }
});

test("webgpu split vocabulary: a ROME edit of a split model gives the patch it gives with whole matrices", async (t) => {
  if (skip) return t.skip(skip);
  // test/edit's tiny Llama with 100 more words: a 141-word vocabulary, three 64-row blocks under the cap.
  const words = [...WORDS, ...Array.from({ length: 100 }, (_, i) => `w${i}`)];
  const raw = {
    model_type: "llama", vocab_size: words.length + 3, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 3, num_attention_heads: 4,
    num_key_value_heads: 2, max_position_embeddings: 64, tie_word_embeddings: false, bos_token_id: words.length, eos_token_id: words.length + 1,
  };
  const config = familyFor("llama", "config.json").parseConfig(raw, "config.json");
  const tokenizer = wordLevelTokenizer(words, { bos: "<s>", eos: "</s>", unk: "<unk>", addBos: true });
  const edit = async (cap: number | undefined) => {
    capWebGPUBindings(cap);
    const model = createModel(config, randomParams(config, 7, { std: 0.3, normStd: 0.05 }), tokenizer);
    try {
      assert.equal(vocabBlockRows(config), cap && 64);
      const hp = { ...romeDefaults(config), ...FAST, layer: 1, mom2NSamples: 24, vNumGradSteps: 5, contextTemplateLengthParams: [[2, 1]] as [number, number][] };
      const patch = await romeEdit(model, [REQUESTS[0]!], hp, { caches: new EditCaches().registerCorpus("tiny", tinyCorpus(24)) });
      return patch.deltas["blocks.1.mlp.W_out"]!.data;
    } finally {
      model.dispose();
      capWebGPUBindings(undefined);
    }
  };
  const whole = await edit(undefined);
  const split = await edit(64 * 4 * 32);
  let num = 0;
  let den = 0;
  whole.forEach((w, i) => ((num += (w - split[i]!) ** 2), (den += w ** 2)));
  assert.ok(den > 0 && Math.sqrt(num / den) < 1e-3, `the two patches differ by ${Math.sqrt(num / den)} (relative)`);
});

test("webgpu split vocabulary: a non-vocabulary weight over the binding limit is still refused, naming it", async (t) => {
  if (skip) return t.skip(skip);
  const config: ModelConfig = { ...tinyConfig("gpt2"), vocabSize: VOCAB };
  capWebGPUBindings(4 * config.dModel * config.dMlp - 4);
  try {
    assert.throws(
      () => createModel(config, randomParams(config, 1), stubTokenizer(VOCAB)),
      (e: Error) => e instanceof EngineError && e.code === "WEBGPU_BUFFER_LIMIT" && /blocks\.0\.mlp\.W_in/.test(e.message) && /vocabulary matrices/.test(e.message),
    );
  } finally {
    capWebGPUBindings(undefined);
  }
});

test("webgpu split vocabulary: GPT-2 small's 154 MB embedding over the device's own binding limit, built on the GPU or loaded into host memory", async (t) => {
  if (skip) return t.skip(skip);
  const limit = webgpuLimits()!.maxStorageBufferBindingSize;
  if (limit >= 50257 * 768 * 4) return t.skip(`this device binds ${limit} bytes in one buffer: GPT-2 small's embedding needs no split here`);
  const configJson = { model_type: "gpt2", vocab_size: 50257, n_embd: 768, n_layer: 1, n_head: 12, n_positions: 64 };
  const config = familyFor("gpt2", "config.json").parseConfig(configJson, "config.json");
  const tokenizer = wordLevelTokenizer(["a", "b"], { unk: "a" });
  // Ids on both sides of the block boundary (43648 rows per block under 128 MiB) and at both ends.
  const rows = [[0, 50256, 25000, 43647, 43648, 11], [50200, 1, 2, 43649, 43646, 50256]];
  const built = createModel(config, randomParams(config, 5, { std: 0.02 }), tokenizer);
  const loaded = await loadModelFrom(configJson, hfSource(await toHFTensors(built)), tokenizer);
  try {
    assert.equal(built.params["embed.W_E"]!.device, "webgpu");
    assert.equal(loaded.params["embed.W_E"]!.device, "cpu", "the loader keeps the split matrix in host memory");
    if (limit === 2 ** 27) assert.equal(vocabBlockRows(config), 43648);
    else assert.ok(vocabBlockRows(config)! < 50257);
    const cpu = await nativeForward(built, rows);
    for (const [name, model] of [["built", built], ["loaded", loaded]] as const) {
      const logits = await readF32(model.forward(rows).logits!);
      close(logits, cpu.logits!.data, `${name} logits`);
    }
  } finally {
    built.dispose();
    loaded.dispose();
  }
});

function hfSource(tensors: Record<string, { data: Float32Array; shape: number[] }>) {
  return { names: () => Object.keys(tensors), has: (n: string) => n in tensors, get: async (n: string) => tensors[n]! };
}
