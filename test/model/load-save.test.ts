import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { CheckpointError, ConfigError, UnsupportedArchitectureError } from "../../src/errors.js";
import { wordLevelTokenizer } from "../../src/io/tokenizer/index.js";
import { familyFor } from "../../src/model/families/index.js";
import { loadModel, saveModel } from "../../src/model/load.js";
import { createModel, paramCount } from "../../src/model/model.js";
import { randomParams } from "../../src/model/random-params.js";
import { readF32Sync } from "../../src/tensor/own.js";
import { maxAbsDiff, RAW, tokenRows } from "./helpers.js";

async function tmp(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), "scalpel-model-"));
}

for (const variant of ["gpt2", "llama", "mistral"] as const) {
  test(`${variant}: saveModel then loadModel gives the same logits, tokenizer and config`, async () => {
    const raw = { ...RAW[variant] } as Record<string, unknown>;
    const config = familyFor(raw["model_type"], "config.json").parseConfig(raw, "config.json");
    const words = Array.from({ length: config.vocabSize - 1 }, (_, i) => `w${i}`);
    words.length -= 2; // room for the specials, which are appended after the words
    const tokenizer = wordLevelTokenizer(words, { unk: "<unk>", bos: "<s>", pad: "<pad>" });
    const model = createModel(config, randomParams(config, 11, { biasStd: 0.1, normStd: 0.1, std: 0.1 }), tokenizer);
    const dir = await tmp();
    try {
      await saveModel(model, dir);
      const files = (await readdir(dir)).sort();
      assert.deepEqual(files, ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]);
      const savedConfig = JSON.parse(await readFile(path.join(dir, "config.json"), "utf8"));
      assert.equal(savedConfig.model_type, raw["model_type"]);
      const loaded = await loadModel(dir);
      assert.deepEqual({ ...loaded.config, raw: undefined }, { ...model.config, raw: undefined });
      assert.equal(paramCount(loaded), paramCount(model));
      assert.deepEqual(loaded.tokenizer.encode("w3 w7 w1").ids, [3, 7, 1]);
      // Special-token ids live in tokenizer_config.json, not tokenizer.json: they must survive saving.
      assert.deepEqual([loaded.tokenizer.bosId, loaded.tokenizer.padId], [model.tokenizer.bosId, model.tokenizer.padId]);
      assert.notEqual(loaded.tokenizer.bosId, undefined);
      const tokens = tokenRows(2, 6, config.vocabSize);
      const a = readF32Sync(model.forward(tokens).logits!);
      const b = readF32Sync(loaded.forward(tokens).logits!);
      assert.equal(maxAbsDiff(a, b), 0);
      loaded.dispose();

      // Half precision on disk: close, not equal.
      await saveModel(model, dir, { floatDtype: "BF16" });
      const half = await loadModel(dir);
      const c = readF32Sync(half.forward(tokens).logits!);
      const d = maxAbsDiff(a, c);
      assert.ok(d > 0 && d < 0.1, `bf16 logits differ by ${d}`);
      half.dispose();
    } finally {
      model.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test("loadModel errors name the file: missing dir, unknown architecture, missing tensor", async () => {
  const dir = await tmp();
  try {
    await assert.rejects(loadModel(path.join(dir, "nope")), (e: unknown) => e instanceof CheckpointError || e instanceof ConfigError);
    const raw = { ...RAW.gpt2 } as Record<string, unknown>;
    const config = familyFor("gpt2", "config.json").parseConfig(raw, "config.json");
    const tokenizer = wordLevelTokenizer(Array.from({ length: 96 }, (_, i) => `w${i}`), { unk: "<unk>" });
    const model = createModel(config, randomParams(config, 1), tokenizer);
    await saveModel(model, dir);
    model.dispose();
    const { writeFile } = await import("node:fs/promises");
    await writeFile(path.join(dir, "config.json"), JSON.stringify({ ...raw, model_type: "gpt3" }));
    await assert.rejects(loadModel(dir), (e: unknown) => e instanceof UnsupportedArchitectureError && e.file !== undefined && /config\.json/.test(e.file));
    await writeFile(path.join(dir, "config.json"), JSON.stringify({ ...raw, n_layer: 3 }));
    await assert.rejects(loadModel(dir), (e: unknown) => e instanceof CheckpointError && /h\.2\./.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
