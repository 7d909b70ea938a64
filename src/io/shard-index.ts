/**
 * The index of a sharded Hugging Face checkpoint, `model.safetensors.index.json`:
 * `{"metadata": {"total_size": bytes}, "weight_map": {tensor name: shard file name}}`
 * (written by transformers' save_pretrained; sharding by huggingface_hub's
 * split_state_dict_into_shards). Validation of the JSON shape and of shard names is here and
 * browser-safe; checks against the file system live in checkpoint.ts.
 */
import { CheckpointError } from "../errors.js";
import { JsonDuplicateKeyError, JsonSyntaxError, isJsonObject, parseJsonStrict } from "./json-parse.js";

export const SHARD_INDEX_NAME = "model.safetensors.index.json";

export interface ShardIndex {
  /** metadata.total_size when present. */
  totalSize?: number;
  /** Other metadata fields, as given. */
  metadata: Record<string, unknown>;
  /** Tensor name → shard file name. */
  weightMap: Map<string, string>;
  /** Distinct shard file names in order of first appearance. */
  shards: string[];
}

const INDEX_FIX = "regenerate the index (save_pretrained writes it) or correct it by hand";

/** Parse and validate the index text. Duplicate keys in weight_map are refused (SHARD_TENSOR_DUPLICATE). */
export function parseShardIndex(text: string, file: string): ShardIndex {
  let json: unknown;
  try {
    json = parseJsonStrict(text);
  } catch (e) {
    if (e instanceof JsonDuplicateKeyError && e.path === "$.weight_map") {
      throw new CheckpointError("SHARD_TENSOR_DUPLICATE", `tensor ${e.key} is listed twice in weight_map (line ${e.line}, column ${e.column})`, {
        file,
        field: e.key,
        fix: INDEX_FIX,
      });
    }
    if (e instanceof JsonSyntaxError || e instanceof JsonDuplicateKeyError) {
      throw new CheckpointError("SHARD_INDEX_JSON", `the shard index is not valid JSON: ${e.message}`, {
        file,
        fix: `correct the JSON at line ${e.line}, column ${e.column}, or ${INDEX_FIX}`,
      });
    }
    throw e;
  }
  if (!isJsonObject(json)) throw new CheckpointError("SHARD_INDEX_NOT_OBJECT", "the shard index must be a JSON object with a weight_map", { file, fix: INDEX_FIX });
  const rawMeta = json.metadata ?? {};
  if (!isJsonObject(rawMeta)) throw new CheckpointError("SHARD_INDEX_METADATA", "metadata must be an object", { file, field: "metadata", fix: INDEX_FIX });
  const totalSize = rawMeta.total_size;
  if (totalSize !== undefined && !(typeof totalSize === "number" && Number.isFinite(totalSize) && totalSize >= 0)) {
    throw new CheckpointError("SHARD_INDEX_METADATA", `metadata.total_size must be a non-negative number, got ${JSON.stringify(totalSize)}`, {
      file,
      field: "metadata.total_size",
      fix: INDEX_FIX,
    });
  }
  const wm = json.weight_map;
  if (!isJsonObject(wm)) {
    throw new CheckpointError("SHARD_INDEX_WEIGHT_MAP", `weight_map must be an object mapping tensor names to shard files, got ${wm === undefined ? "nothing" : JSON.stringify(wm).slice(0, 40)}`, {
      file,
      field: "weight_map",
      fix: INDEX_FIX,
    });
  }
  const weightMap = new Map<string, string>();
  const shards: string[] = [];
  const seen = new Set<string>();
  for (const [tensor, shard] of Object.entries(wm)) {
    if (typeof shard !== "string") {
      throw new CheckpointError("SHARD_INDEX_WEIGHT_MAP", `weight_map entry for ${tensor} must be a shard file name (a string), got ${JSON.stringify(shard)}`, {
        file,
        field: `weight_map.${tensor}`,
        fix: INDEX_FIX,
      });
    }
    checkShardName(shard, file, tensor);
    weightMap.set(tensor, shard);
    if (!seen.has(shard)) {
      seen.add(shard);
      shards.push(shard);
    }
  }
  return { totalSize: totalSize as number | undefined, metadata: rawMeta, weightMap, shards };
}

/**
 * A shard must be a plain file name inside the checkpoint directory: no absolute path, no
 * directory separators, no "." / "..", no NUL, and a .safetensors file.
 */
export function checkShardName(shard: string, file: string, tensor?: string): void {
  const unsafe =
    shard === "" ||
    shard === "." ||
    shard === ".." ||
    shard.includes("/") ||
    shard.includes("\\") ||
    shard.includes("\0") ||
    /^[A-Za-z]:/.test(shard); // a Windows drive ("C:x"); POSIX and UNC absolutes contain a separator
  if (unsafe) {
    throw new CheckpointError("SHARD_PATH_UNSAFE", `shard ${JSON.stringify(shard)} is not a plain file name in the checkpoint directory`, {
      file,
      field: tensor && `weight_map.${tensor}`,
      fix: "shards must be named like model-00001-of-00002.safetensors and lie beside the index",
    });
  }
  if (!shard.endsWith(".safetensors")) {
    throw new CheckpointError("SHARD_NOT_SAFETENSORS", `shard ${JSON.stringify(shard)} is not a .safetensors file`, {
      file,
      field: tensor && `weight_map.${tensor}`,
      fix: "convert the checkpoint to safetensors (save_pretrained(..., safe_serialization=True))",
    });
  }
}
