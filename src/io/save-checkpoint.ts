/**
 * Writing a Hugging Face checkpoint directory (Node): config.json, model.safetensors or shards
 * plus model.safetensors.index.json, tokenizer.json and any extra JSON files, each atomically.
 *
 * Sharding follows huggingface_hub's split_state_dict_into_shards (used by transformers'
 * save_pretrained): tensors in order; one larger than the limit gets a shard of its own; a tensor
 * that would push the current shard over the limit starts a new one. Shards are named
 * model-00001-of-0000N.safetensors; a single shard is plain model.safetensors with no index. The
 * index is written as transformers does: {"metadata": {"total_size"}, "weight_map"}, keys sorted.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { CheckpointError } from "../errors.js";
import { SINGLE_WEIGHTS_NAME } from "./checkpoint-files.js";
import type { HostTensor } from "./host-tensor.js";
import { writeJsonFile } from "./json.js";
import { SAFETENSORS_DTYPES, storedDtype } from "./safetensors-dtypes.js";
import { writeSafetensors } from "./safetensors-file.js";
import { compareCodePoints } from "./safetensors-write.js";
import { SHARD_INDEX_NAME, parseShardIndex } from "./shard-index.js";

/** transformers' default max_shard_size, "5GB" (decimal gigabytes). */
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

export interface SaveCheckpointOptions {
  configJson: Record<string, unknown>;
  tensors: Record<string, HostTensor>;
  tokenizerJson?: unknown;
  /** More JSON files by plain file name, e.g. {"generation_config.json": {...}}. */
  extraJsonFiles?: Record<string, unknown>;
  maxShardBytes?: number;
  floatDtype?: "F32" | "F16" | "BF16";
  /** safetensors __metadata__; default {format: "pt"}, which transformers expects. */
  metadata?: Record<string, string>;
}

export interface SavedCheckpoint {
  /** Paths written, weights first. */
  files: string[];
  /** Bytes of tensor data (the index's total_size). */
  totalSize: number;
}

const SHARD_NAME = /^model-\d{5}-of-\d{5}\.safetensors$/;

export async function saveCheckpoint(dir: string, options: SaveCheckpointOptions): Promise<SavedCheckpoint> {
  const { tensors, floatDtype } = options;
  const maxShardBytes = options.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
  if (!(Number.isFinite(maxShardBytes) && maxShardBytes > 0)) {
    throw new CheckpointError("SAVE_SHARD_SIZE", `maxShardBytes must be a positive number, got ${maxShardBytes}`, { file: dir, field: "maxShardBytes", fix: "pass a size in bytes, e.g. 5e9" });
  }
  for (const name of Object.keys(options.extraJsonFiles ?? {})) checkPlainName(name, dir);
  const metadata = options.metadata ?? { format: "pt" };
  await fs.mkdir(dir, { recursive: true });
  const stale = await previousShards(dir);

  const names = Object.keys(tensors).sort(compareCodePoints);
  const sizeOf = (n: string) => tensors[n]!.data.length * SAFETENSORS_DTYPES[storedDtype(tensors[n]!, floatDtype)];
  const groups = splitIntoShards(names, sizeOf, maxShardBytes);
  const totalSize = names.reduce((s, n) => s + sizeOf(n), 0);

  const files: string[] = [];
  if (groups.length <= 1) {
    const file = path.join(dir, SINGLE_WEIGHTS_NAME);
    await writeSafetensors(file, tensors, metadata, { floatDtype });
    files.push(file);
    await fs.rm(path.join(dir, SHARD_INDEX_NAME), { force: true });
  } else {
    const weightMap: Record<string, string> = {};
    const written = new Set<string>();
    for (const [i, group] of groups.entries()) {
      const shard = `model-${pad5(i + 1)}-of-${pad5(groups.length)}.safetensors`;
      const part: Record<string, HostTensor> = {};
      for (const n of group) {
        part[n] = tensors[n]!;
        weightMap[n] = shard;
      }
      const file = path.join(dir, shard);
      await writeSafetensors(file, part, metadata, { floatDtype });
      files.push(file);
      written.add(shard);
    }
    // A stale single file would win over the index (openCheckpoint's order): remove it first.
    await fs.rm(path.join(dir, SINGLE_WEIGHTS_NAME), { force: true });
    const index = path.join(dir, SHARD_INDEX_NAME);
    await writeJsonFile(index, { metadata: { total_size: totalSize }, weight_map: sortedObject(weightMap) });
    files.push(index);
    for (const s of written) stale.delete(s);
  }
  for (const s of stale) await fs.rm(path.join(dir, s), { force: true });

  const jsonFiles: [string, unknown][] = [["config.json", options.configJson]];
  if (options.tokenizerJson !== undefined) jsonFiles.push(["tokenizer.json", options.tokenizerJson]);
  for (const [name, value] of Object.entries(options.extraJsonFiles ?? {})) jsonFiles.push([name, value]);
  for (const [name, value] of jsonFiles) {
    const file = path.join(dir, name);
    await writeJsonFile(file, value);
    files.push(file);
  }
  return { files, totalSize };
}

/** huggingface_hub's greedy split, on tensors in the given order. */
export function splitIntoShards(names: readonly string[], sizeOf: (name: string) => number, maxShardBytes: number): string[][] {
  const shards: string[][] = [];
  let current: string[] = [];
  let currentSize = 0;
  for (const n of names) {
    const size = sizeOf(n);
    if (size > maxShardBytes) {
      shards.push([n]);
      continue;
    }
    if (currentSize + size > maxShardBytes && current.length > 0) {
      shards.push(current);
      current = [];
      currentSize = 0;
    }
    current.push(n);
    currentSize += size;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);
  return shards;
}

/** Shards named by an existing index that a new save may leave behind (standard names only). */
async function previousShards(dir: string): Promise<Set<string>> {
  const out = new Set<string>();
  try {
    const index = parseShardIndex(await fs.readFile(path.join(dir, SHARD_INDEX_NAME), "utf8"), SHARD_INDEX_NAME);
    for (const s of index.shards) if (SHARD_NAME.test(s)) out.add(s);
  } catch {
    // No index, or a broken one: nothing we can safely call ours to delete.
  }
  return out;
}

function checkPlainName(name: string, dir: string): void {
  if (name === "" || name === "." || name === ".." || /[\/\\\0]/.test(name) || ["config.json", "tokenizer.json", SHARD_INDEX_NAME].includes(name)) {
    throw new CheckpointError("SAVE_FILE_NAME", `extra JSON file name ${JSON.stringify(name)} is not a plain file name, or collides with a file saveCheckpoint writes itself`, {
      file: dir,
      field: `extraJsonFiles.${name}`,
      fix: "use a plain name like generation_config.json; pass config and tokenizer through configJson / tokenizerJson",
    });
  }
}

function pad5(n: number): string {
  return String(n).padStart(5, "0");
}

function sortedObject(o: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(o).sort(compareCodePoints)) out[k] = o[k]!;
  return out;
}
