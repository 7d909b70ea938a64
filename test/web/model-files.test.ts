/** The page's checkpoint loader (web/ui/model-files.ts) run in Node over in-memory files: the same model as loadModel. */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { CheckpointError } from "../../src/errors.js";
import { saveCheckpoint } from "../../src/io/save-checkpoint.js";
import { loadModel } from "../../src/model/load.js";
import { readF32 } from "../../src/tensor/own.js";
import { filesGetter, loadModelFromFiles } from "../../src/web/ui/model-files.js";
import { buildTensors, tokenizerJson } from "../model/checkpoint-builder.js";

/** A folder's files as the page sees a dropped folder: relative path → File. */
function folderFiles(dir: string): Map<string, File> {
  return new Map(readdirSync(dir).map((n) => [n, new File([readFileSync(path.join(dir, n))], n)]));
}

async function logitsOf(model: Awaited<ReturnType<typeof loadModel>>): Promise<Float32Array> {
  const { logits } = model.forward([[3, 14, 15, 92, 6]]);
  return readF32(logits!);
}

test("a sharded checkpoint loads in the page's loader exactly as loadModel reads it", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "scalpel-page-load-"));
  const built = buildTensors({ modelType: "llama", seed: 3 });
  const tensors = Object.fromEntries(Object.entries(built.tensors).map(([k, v]) => [k, { dtype: "float32" as const, shape: v.shape, data: v.data }]));
  await saveCheckpoint(dir, { configJson: built.config, tensors, tokenizerJson: tokenizerJson(built.config.vocab_size as number), maxShardBytes: 20_000 });
  assert.ok(readdirSync(dir).includes("model.safetensors.index.json"), "the fixture is sharded");
  const [inPage, onDisk] = [await loadModelFromFiles(filesGetter(folderFiles(dir)), "ckpt"), await loadModel(dir)];
  assert.deepEqual(await logitsOf(inPage), await logitsOf(onDisk));
  inPage.dispose();
  onDisk.dispose();
});

test("a folder without tokenizer.json is a typed error naming the file", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "scalpel-page-load-"));
  const built = buildTensors({ modelType: "gpt2" });
  const tensors = Object.fromEntries(Object.entries(built.tensors).map(([k, v]) => [k, { dtype: "float32" as const, shape: v.shape, data: v.data }]));
  await saveCheckpoint(dir, { configJson: built.config, tensors });
  await assert.rejects(loadModelFromFiles(filesGetter(folderFiles(dir)), "ckpt"), (e: unknown) => e instanceof CheckpointError && /ckpt\/tokenizer\.json/.test(String((e as CheckpointError).file)));
});
