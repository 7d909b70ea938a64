/**
 * A Hugging Face checkpoint directory opened for reading (Node): config.json parsed, weights from
 * model.safetensors or a sharded model.safetensors.index.json, tensors read lazily one at a time.
 * Everything a hostile or broken directory can do wrong is a CheckpointError/ConfigError naming the
 * file (see checkpoint-files.ts, shard-index.ts, safetensors-header.ts).
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { CheckpointError, ConfigError } from "../errors.js";
import { findWeights, listCheckpointDir, resolveInside } from "./checkpoint-files.js";
import type { HostTensor } from "./host-tensor.js";
import { isJsonObject, readJsonFile } from "./json.js";
import { openFileSource } from "./node-source.js";
import { openSafetensors, tensorNotFound, type F32HostTensor, type SafetensorsReader, type TensorInfo } from "./safetensors.js";
import { SHARD_INDEX_NAME, parseShardIndex } from "./shard-index.js";

export interface Checkpoint {
  readonly dir: string;
  /** config.json, parsed. */
  readonly configJson: Record<string, unknown>;
  /** The safetensors files the weights are read from. */
  readonly weightFiles: readonly string[];
  /** Tensor names: shard by shard, in data-offset order within each file. */
  tensorNames(): string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  read(name: string): Promise<HostTensor>;
  /** Any float dtype (F16, BF16, F32, F64) as float32. */
  readF32(name: string): Promise<F32HostTensor>;
  close(): Promise<void>;
}

/** Open a checkpoint directory. Only headers are read here; tensors are read on demand. */
export async function openCheckpoint(dir: string): Promise<Checkpoint> {
  const entries = await listCheckpointDir(dir);
  const configJson = await readConfigJson(dir);
  const layout = findWeights(dir, entries);
  const readers: SafetensorsReader[] = [];
  try {
    if (layout.kind === "single") {
      readers.push(await openWeightsFile(dir, path.basename(layout.file), false));
    } else {
      await openShards(dir, layout.index, readers);
    }
  } catch (e) {
    await Promise.all(readers.map((r) => r.close()));
    throw e;
  }
  return new DirCheckpoint(dir, configJson, readers);
}

async function readConfigJson(dir: string): Promise<Record<string, unknown>> {
  const file = path.join(dir, "config.json");
  let json: unknown;
  try {
    json = await readJsonFile(file, { errorClass: ConfigError, what: "config.json" });
  } catch (e) {
    if (e instanceof ConfigError && e.code === "FILE_MISSING") {
      throw new ConfigError("CONFIG_MISSING", "the checkpoint has no config.json", {
        file,
        fix: "add the model's config.json (save_pretrained writes it beside the weights)",
        cause: e,
      });
    }
    throw e;
  }
  if (!isJsonObject(json)) {
    throw new ConfigError("CONFIG_NOT_OBJECT", "config.json must hold a JSON object", { file, fix: "restore the model's config.json" });
  }
  return json;
}

/**
 * Open one weights file. Shard names come from the index (data), so they are confined to the
 * directory (`confine`); model.safetensors is a fixed name, and a user's own symlink to another
 * disk is legitimate, so it is followed wherever it points.
 */
async function openWeightsFile(dir: string, name: string, confine: boolean): Promise<SafetensorsReader> {
  const file = path.join(dir, name);
  const real = confine ? await resolveInside(dir, name, SHARD_INDEX_NAME) : file;
  let source;
  try {
    source = await openFileSource(real);
  } catch (e) {
    throw new CheckpointError("SAFETENSORS_FILE_UNREADABLE", `cannot open ${name} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
      file,
      fix: "check the file's permissions",
      cause: e,
    });
  }
  return openSafetensors(source, file);
}

/** Open every shard named by the index and check that index and shards agree exactly. */
async function openShards(dir: string, indexFile: string, readers: SafetensorsReader[]): Promise<void> {
  let text: string;
  try {
    text = await fs.readFile(indexFile, "utf8");
  } catch (e) {
    throw new CheckpointError("SHARD_INDEX_UNREADABLE", `cannot read the shard index (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
      file: indexFile,
      fix: "check the file's permissions",
      cause: e,
    });
  }
  // A UTF-8 byte order mark is not JSON but carries no meaning; editors add it.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const index = parseShardIndex(text, indexFile);
  if (index.shards.length === 0) {
    throw new CheckpointError("SHARD_INDEX_EMPTY", "weight_map lists no tensors", { file: indexFile, fix: "regenerate the index with save_pretrained" });
  }
  const owner = new Map<string, string>(); // tensor → shard that holds it
  for (const shard of index.shards) {
    const reader = await openWeightsFile(dir, shard, true);
    readers.push(reader);
    for (const name of reader.names()) {
      const first = owner.get(name);
      if (first !== undefined) {
        throw new CheckpointError("SHARD_TENSOR_DUPLICATE", `tensor ${name} is stored in two shards, ${first} and ${shard}`, {
          file: reader.file,
          field: name,
          fix: "remove the copy from one shard so each tensor lives in exactly one",
        });
      }
      owner.set(name, shard);
      const listed = index.weightMap.get(name);
      if (listed !== shard) {
        throw new CheckpointError("SHARD_TENSOR_UNLISTED", `tensor ${name} is in shard ${shard} but the index ${listed === undefined ? "does not list it" : `says it is in ${listed}`}`, {
          file: reader.file,
          field: name,
          fix: `regenerate ${SHARD_INDEX_NAME} so it matches the shards`,
        });
      }
    }
  }
  for (const [name, shard] of index.weightMap) {
    if (owner.get(name) !== shard) {
      throw new CheckpointError("SHARD_TENSOR_MISSING", `the index puts tensor ${name} in ${shard}, but that shard does not contain it`, {
        file: path.join(dir, shard),
        field: name,
        fix: `re-download ${shard} or regenerate ${SHARD_INDEX_NAME}`,
      });
    }
  }
}

class DirCheckpoint implements Checkpoint {
  readonly weightFiles: readonly string[];
  private readonly byName = new Map<string, SafetensorsReader>();

  constructor(
    readonly dir: string,
    readonly configJson: Record<string, unknown>,
    private readonly readers: SafetensorsReader[],
  ) {
    this.weightFiles = readers.map((r) => r.file);
    for (const r of readers) for (const n of r.names()) this.byName.set(n, r);
  }

  tensorNames(): string[] {
    return [...this.byName.keys()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  info(name: string): TensorInfo {
    return this.reader(name).info(name);
  }

  read(name: string): Promise<HostTensor> {
    return this.reader(name).read(name);
  }

  readF32(name: string): Promise<F32HostTensor> {
    return this.reader(name).readF32(name);
  }

  async close(): Promise<void> {
    await Promise.all(this.readers.map((r) => r.close()));
  }

  private reader(name: string): SafetensorsReader {
    const r = this.byName.get(name);
    if (!r) throw tensorNotFound(name, this.tensorNames(), this.dir);
    return r;
  }
}
