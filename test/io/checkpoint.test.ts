import assert from "node:assert/strict";
import { promises as fsp } from "node:fs";
import { mkdir, readFile, readdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it, mock } from "node:test";
import { CheckpointError, ConfigError } from "../../src/errors.js";
import { openCheckpoint } from "../../src/io/checkpoint.js";
import type { HostTensor } from "../../src/io/host-tensor.js";
import { saveCheckpoint, splitIntoShards } from "../../src/io/save-checkpoint.js";
import { writeSafetensors } from "../../src/io/safetensors-file.js";
import { rejectsWith, tempDir } from "./checkpoint-helpers.js";

const config = { model_type: "gpt2", n_layer: 2, vocab_size: 10 };
const tensors: Record<string, HostTensor> = {
  "h.0.attn.weight": { dtype: "float32", shape: [4, 12], data: Float32Array.from({ length: 48 }, (_, i) => i / 8) },
  "h.1.attn.weight": { dtype: "float32", shape: [4, 12], data: Float32Array.from({ length: 48 }, (_, i) => -i) },
  "wte.weight": { dtype: "float32", shape: [10, 4], data: Float32Array.from({ length: 40 }, (_, i) => i * 0.25) },
  "h.0.attn.bias": { dtype: "bool", shape: [1, 1, 3, 3], data: Uint8Array.from([1, 0, 0, 1, 1, 0, 1, 1, 1]) },
  position_ids: { dtype: "int32", shape: [1, 5], data: Int32Array.from([0, 1, 2, 3, 4]) },
};

let root: string;
let cleanup: () => Promise<void>;
let n = 0;
const fresh = async () => {
  const dir = path.join(root, `c${n++}`);
  await mkdir(dir);
  return dir;
};
before(async () => ({ dir: root, cleanup } = await tempDir()));
after(() => cleanup());

/** A sharded checkpoint written by hand: shards given as {file: tensors}, index as given. */
async function handSharded(shards: Record<string, Record<string, HostTensor>>, weightMap: unknown): Promise<string> {
  const dir = await fresh();
  await writeFile(path.join(dir, "config.json"), JSON.stringify(config));
  for (const [file, ts] of Object.entries(shards)) await writeSafetensors(path.join(dir, file), ts);
  await writeFile(path.join(dir, "model.safetensors.index.json"), typeof weightMap === "string" ? weightMap : JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  return dir;
}
const t1 = (v: number): HostTensor => ({ dtype: "float32", shape: [1], data: Float32Array.from([v]) });

describe("saveCheckpoint / openCheckpoint", () => {
  it("round-trips a single-file checkpoint with config, tokenizer and extra files", async () => {
    const dir = await fresh();
    const saved = await saveCheckpoint(dir, {
      configJson: config,
      tensors,
      tokenizerJson: { model: { type: "BPE" } },
      extraJsonFiles: { "generation_config.json": { do_sample: false } },
    });
    assert.equal(saved.totalSize, 48 * 4 * 2 + 40 * 4 + 9 + 5 * 4);
    assert.deepEqual((await readdir(dir)).sort(), ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json"]);
    assert.deepEqual(JSON.parse(await readFile(path.join(dir, "tokenizer.json"), "utf8")), { model: { type: "BPE" } });
    const ck = await openCheckpoint(dir);
    assert.deepEqual(ck.configJson, config);
    assert.deepEqual(ck.weightFiles, [path.join(dir, "model.safetensors")]);
    assert.deepEqual(ck.tensorNames().sort(), Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) assert.deepEqual(await ck.read(name), t, name);
    assert.deepEqual(ck.info("wte.weight"), { dtype: "F32", shape: [10, 4] });
    assert.deepEqual(await ck.readF32("wte.weight"), { shape: [10, 4], data: (tensors["wte.weight"] as { data: Float32Array }).data });
    await rejectsWith(async () => ck.read("wte.weigth"), CheckpointError, "TENSOR_NOT_FOUND", dir, ["wte.weight"]);
    await ck.close();
  });

  it("stores half precision on request, with metadata format=pt as transformers expects", async () => {
    const dir = await fresh();
    await saveCheckpoint(dir, { configJson: config, tensors, floatDtype: "BF16" });
    const ck = await openCheckpoint(dir);
    assert.equal(ck.info("wte.weight").dtype, "BF16");
    assert.equal(ck.info("position_ids").dtype, "I32");
    // i * 0.25 for i < 40 is exact in bfloat16.
    assert.deepEqual((await ck.readF32("wte.weight")).data, (tensors["wte.weight"] as { data: Float32Array }).data);
    await ck.close();
    const head = await readFile(path.join(dir, "model.safetensors"));
    assert.ok(head.subarray(8, 60).toString().startsWith('{"__metadata__":{"format":"pt"}'));
  });

  it("shards over maxShardBytes, writes the index, and reads every tensor back", async () => {
    const dir = await fresh();
    const saved = await saveCheckpoint(dir, { configJson: config, tensors, maxShardBytes: 201 });
    const index = JSON.parse(await readFile(path.join(dir, "model.safetensors.index.json"), "utf8"));
    // Sorted names: h.0.attn.bias (9 B), h.0.attn.weight (192), h.1.attn.weight (192), position_ids (20), wte.weight (160).
    assert.deepEqual(index, {
      metadata: { total_size: saved.totalSize },
      weight_map: {
        "h.0.attn.bias": "model-00001-of-00003.safetensors",
        "h.0.attn.weight": "model-00001-of-00003.safetensors",
        "h.1.attn.weight": "model-00002-of-00003.safetensors",
        position_ids: "model-00003-of-00003.safetensors",
        "wte.weight": "model-00003-of-00003.safetensors",
      },
    });
    assert.ok(!(await readdir(dir)).includes("model.safetensors"));
    const ck = await openCheckpoint(dir);
    assert.equal(ck.weightFiles.length, 3);
    for (const [name, t] of Object.entries(tensors)) assert.deepEqual(await ck.read(name), t, name);
    await ck.close();

    // Saving again as one file removes the index and the old shards, and vice versa.
    await saveCheckpoint(dir, { configJson: config, tensors });
    assert.deepEqual((await readdir(dir)).sort(), ["config.json", "model.safetensors"]);
    await saveCheckpoint(dir, { configJson: config, tensors, maxShardBytes: 400 });
    assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith("model")).sort(), [
      "model-00001-of-00002.safetensors",
      "model-00002-of-00002.safetensors",
      "model.safetensors.index.json",
    ]);
  });

  it("splits shards as huggingface_hub does", () => {
    const sizes: Record<string, number> = { a: 4, b: 4, c: 11, d: 3, e: 5, f: 1 };
    // c alone (over the limit); a+b fill 8; d+e = 8; f starts a new shard after e tips over? 8 + 1 > 8 → yes.
    assert.deepEqual(splitIntoShards(["a", "b", "c", "d", "e", "f"], (x) => sizes[x]!, 8), [["c"], ["a", "b"], ["d", "e"], ["f"]]);
    assert.deepEqual(splitIntoShards([], () => 0, 8), [[]]);
  });
});

describe("openCheckpoint refusals", () => {
  it("a missing directory, or a file instead of one", async () => {
    const missing = path.join(root, "does-not-exist");
    await rejectsWith(() => openCheckpoint(missing), CheckpointError, "CHECKPOINT_DIR_MISSING", missing);
    const file = path.join(await fresh(), "config.json");
    await writeFile(file, "{}");
    await rejectsWith(() => openCheckpoint(file), CheckpointError, "CHECKPOINT_NOT_DIR", file);
  });

  it("config.json missing, not JSON (line and column), or not an object", async () => {
    const dir = await fresh();
    await writeSafetensors(path.join(dir, "model.safetensors"), { a: t1(1) });
    const cfg = path.join(dir, "config.json");
    await rejectsWith(() => openCheckpoint(dir), ConfigError, "CONFIG_MISSING", cfg);
    await writeFile(cfg, '{\n  "n_layer": 2,\n  "vocab_size": 10,\n}\n');
    await rejectsWith(() => openCheckpoint(dir), ConfigError, "JSON_SYNTAX", cfg, ["line 4, column 1"]);
    await writeFile(cfg, "[1]");
    await rejectsWith(() => openCheckpoint(dir), ConfigError, "CONFIG_NOT_OBJECT", cfg);
  });

  it("a directory with no weights", async () => {
    const dir = await fresh();
    await writeFile(path.join(dir, "config.json"), "{}");
    await writeFile(path.join(dir, "tf_model.h5"), "x");
    await rejectsWith(() => openCheckpoint(dir), CheckpointError, "CHECKPOINT_NO_WEIGHTS", dir, ["tf_model.h5"]);
  });

  it("refuses pickle checkpoints without ever opening them", async () => {
    const dir = await fresh();
    await writeFile(path.join(dir, "config.json"), JSON.stringify(config));
    await writeFile(path.join(dir, "pytorch_model.bin"), "PK\x03\x04 not really a zip");
    await writeFile(path.join(dir, "extra.pth"), "x");
    const opened: string[] = [];
    const spies = (["open", "readFile", "stat", "lstat", "realpath"] as const).map((m) => {
      const original = fsp[m] as (...a: unknown[]) => unknown;
      return mock.method(fsp, m, (...args: unknown[]) => {
        opened.push(String(args[0]));
        return original.apply(fsp, args);
      });
    });
    let err: CheckpointError;
    try {
      err = (await rejectsWith(() => openCheckpoint(dir), CheckpointError, "PICKLE_REFUSED", dir, ["pytorch_model.bin", "arbitrary code"])) as CheckpointError;
    } finally {
      for (const s of spies) s.mock.restore();
    }
    assert.ok(opened.length > 0, "the spy saw the file system calls");
    assert.deepEqual(opened.filter((p) => /\.(bin|pth)$/.test(p)), [], "no pickle file was touched");
    assert.match(err.fix!, /save_pretrained\('.*', safe_serialization=True\)/);
    assert.ok(err.fix!.includes(dir));
  });

  it("ignores pickle files beside safetensors weights", async () => {
    const dir = await fresh();
    await saveCheckpoint(dir, { configJson: config, tensors: { a: t1(1) } });
    await writeFile(path.join(dir, "training_args.bin"), "pickle");
    const ck = await openCheckpoint(dir);
    assert.deepEqual(ck.tensorNames(), ["a"]);
    await ck.close();
  });
});

describe("sharded checkpoint refusals", () => {
  const S1 = "model-00001-of-00002.safetensors";
  const S2 = "model-00002-of-00002.safetensors";
  const index = (dir: string) => path.join(dir, "model.safetensors.index.json");

  it("accepts a consistent hand-made index", async () => {
    const dir = await handSharded({ [S1]: { a: t1(1) }, [S2]: { b: t1(2), c: t1(3) } }, { a: S1, b: S2, c: S2 });
    const ck = await openCheckpoint(dir);
    assert.deepEqual((await ck.read("c")).data, Float32Array.from([3]));
    await ck.close();
  });

  it("an index that is not valid JSON, with line and column", async () => {
    const dir = await handSharded({ [S1]: { a: t1(1) } }, '{\n  "weight_map": {\n    "a": "x" "b"\n  }\n}');
    await rejectsWith(() => openCheckpoint(dir), CheckpointError, "SHARD_INDEX_JSON", index(dir), ["line 3, column 14"]);
  });

  it("a weight_map that is missing or not an object of strings", async () => {
    const d1 = await handSharded({ [S1]: { a: t1(1) } }, JSON.stringify({ metadata: {} }));
    await rejectsWith(() => openCheckpoint(d1), CheckpointError, "SHARD_INDEX_WEIGHT_MAP", index(d1));
    const d2 = await handSharded({ [S1]: { a: t1(1) } }, { a: 1 });
    await rejectsWith(() => openCheckpoint(d2), CheckpointError, "SHARD_INDEX_WEIGHT_MAP", index(d2), ["a"]);
    const d3 = await handSharded({ [S1]: { a: t1(1) } }, "[]");
    await rejectsWith(() => openCheckpoint(d3), CheckpointError, "SHARD_INDEX_NOT_OBJECT", index(d3));
  });

  it("shard names that leave the directory", async () => {
    for (const bad of ["/etc/x.safetensors", "../x.safetensors", "sub/x.safetensors", "a\\b.safetensors", "..", "C:x.safetensors"]) {
      const dir = await handSharded({ [S1]: { a: t1(1) } }, { a: bad });
      await rejectsWith(() => openCheckpoint(dir), CheckpointError, "SHARD_PATH_UNSAFE", index(dir), [JSON.stringify(bad)]);
    }
  });

  it("a shard that is not a safetensors file", async () => {
    const dir = await handSharded({ [S1]: { a: t1(1) } }, { a: "pytorch_model-00001-of-00002.bin" });
    await rejectsWith(() => openCheckpoint(dir), CheckpointError, "SHARD_NOT_SAFETENSORS", index(dir));
  });

  it("a shard symlink resolving outside the directory (but links inside are fine)", async () => {
    const outside = path.join(root, `outside-${n++}.safetensors`);
    await writeSafetensors(outside, { a: t1(1) });
    const dir = await handSharded({}, { a: S1 });
    await symlink(outside, path.join(dir, S1));
    await rejectsWith(() => openCheckpoint(dir), CheckpointError, "SHARD_PATH_ESCAPES", path.join(dir, S1));

    const ok = await handSharded({ "real.safetensors": { a: t1(1) } }, { a: S1 });
    await symlink("real.safetensors", path.join(ok, S1));
    // real.safetensors is not in the index, so it must not be opened as a shard: only S1 is.
    const ck = await openCheckpoint(ok);
    assert.deepEqual(ck.tensorNames(), ["a"]);
    await ck.close();
  });

  it("a user's model.safetensors symlink to another disk is followed (its name is not data)", async () => {
    const outside = path.join(root, `elsewhere-${n++}.safetensors`);
    await writeSafetensors(outside, { a: t1(5) });
    const dir = await fresh();
    await writeFile(path.join(dir, "config.json"), "{}");
    await symlink(outside, path.join(dir, "model.safetensors"));
    const ck = await openCheckpoint(dir);
    assert.deepEqual((await ck.read("a")).data, Float32Array.from([5]));
    await ck.close();
  });

  it("the Hugging Face hub cache layout (snapshot symlinks into blobs) is allowed", async () => {
    const repo = await fresh();
    const snap = path.join(repo, "snapshots", "abc123");
    await mkdir(snap, { recursive: true });
    await mkdir(path.join(repo, "blobs"));
    await writeSafetensors(path.join(repo, "blobs", "f00d"), { a: t1(4) });
    await writeFile(path.join(repo, "blobs", "beef"), JSON.stringify({ weight_map: { a: S1 } }));
    await symlink("../../blobs/f00d", path.join(snap, S1));
    await symlink("../../blobs/beef", path.join(snap, "model.safetensors.index.json"));
    await writeFile(path.join(snap, "config.json"), "{}");
    const ck = await openCheckpoint(snap);
    assert.deepEqual((await ck.read("a")).data, Float32Array.from([4]));
    await ck.close();
  });

  it("a missing shard file", async () => {
    const dir = await handSharded({ [S1]: { a: t1(1) } }, { a: S1, b: S2 });
    await rejectsWith(() => openCheckpoint(dir), CheckpointError, "SHARD_MISSING", path.join(dir, S2));
  });

  it("a tensor in the index that its shard does not contain", async () => {
    const dir = await handSharded({ [S1]: { a: t1(1) }, [S2]: { b: t1(2) } }, { a: S1, b: S2, c: S2 });
    await rejectsWith(() => openCheckpoint(dir), CheckpointError, "SHARD_TENSOR_MISSING", path.join(dir, S2), ["c"]);
  });

  it("a shard tensor the index does not list", async () => {
    const dir = await handSharded({ [S1]: { a: t1(1), z: t1(9) }, [S2]: { b: t1(2) } }, { a: S1, b: S2 });
    await rejectsWith(() => openCheckpoint(dir), CheckpointError, "SHARD_TENSOR_UNLISTED", path.join(dir, S1), ["z"]);
  });

  it("the same tensor in two shards, or twice in weight_map", async () => {
    const dir = await handSharded({ [S1]: { a: t1(1) }, [S2]: { a: t1(1), b: t1(2) } }, { a: S1, b: S2 });
    await rejectsWith(() => openCheckpoint(dir), CheckpointError, "SHARD_TENSOR_DUPLICATE", path.join(dir, S2), [S1, S2]);
    const d2 = await handSharded({ [S1]: { a: t1(1) } }, `{"weight_map": {"a": "${S1}", "a": "${S2}"}}`);
    await rejectsWith(() => openCheckpoint(d2), CheckpointError, "SHARD_TENSOR_DUPLICATE", index(d2), ["a"]);
  });

  it("a corrupt shard is reported with the shard's path", async () => {
    const dir = await handSharded({ [S1]: { a: t1(1) } }, { a: S1 });
    const shard = path.join(dir, S1);
    const bytes = await readFile(shard);
    await writeFile(shard, bytes.subarray(0, bytes.length - 2));
    await rejectsWith(() => openCheckpoint(dir), CheckpointError, "SAFETENSORS_OFFSET_OUT_OF_BOUNDS", shard);
  });
});
