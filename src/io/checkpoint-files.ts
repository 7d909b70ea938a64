/**
 * What a checkpoint directory holds, decided from file names alone (Node). Pickle files are
 * recognised by name and never opened: unpickling runs arbitrary code, and even reading their
 * bytes is not needed to refuse them.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { CheckpointError } from "../errors.js";
import { SHARD_INDEX_NAME } from "./shard-index.js";

export const SINGLE_WEIGHTS_NAME = "model.safetensors";

/** PyTorch pickle checkpoints: torch.save output and its sharded index. */
const PICKLE = /(\.bin|\.pt|\.pth|\.ckpt|\.pkl|\.pickle)$|^pytorch_model\.bin\.index\.json$/;
/** Other frameworks' weights that scalpel does not read. */
const OTHER = /(\.h5|\.msgpack|\.gguf|\.onnx)$/;

export type WeightsLayout = { kind: "single"; file: string } | { kind: "sharded"; index: string };

/** The directory's entries, with typed errors for a missing path or a file where a dir belongs. */
export async function listCheckpointDir(dir: string): Promise<string[]> {
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch (e) {
    throw new CheckpointError("CHECKPOINT_DIR_MISSING", "checkpoint directory not found", {
      file: dir,
      fix: "pass the directory that holds config.json and model.safetensors (a Hugging Face checkpoint)",
      cause: e,
    });
  }
  if (!stat.isDirectory()) {
    throw new CheckpointError("CHECKPOINT_NOT_DIR", "expected a checkpoint directory but found a file", {
      file: dir,
      fix: `pass the directory that contains it (${path.dirname(dir)})`,
    });
  }
  return (await fs.readdir(dir)).sort();
}

/**
 * Pick the weights: model.safetensors first, then the sharded index (the order transformers'
 * from_pretrained uses). Pickle-only directories are refused with PICKLE_REFUSED.
 */
export function findWeights(dir: string, entries: readonly string[]): WeightsLayout {
  if (entries.includes(SINGLE_WEIGHTS_NAME)) return { kind: "single", file: path.join(dir, SINGLE_WEIGHTS_NAME) };
  if (entries.includes(SHARD_INDEX_NAME)) return { kind: "sharded", index: path.join(dir, SHARD_INDEX_NAME) };
  const pickles = entries.filter((e) => PICKLE.test(e));
  if (pickles.length > 0) {
    throw new CheckpointError(
      "PICKLE_REFUSED",
      `the checkpoint's weights are PyTorch pickle files (${pickles.slice(0, 4).join(", ")}${pickles.length > 4 ? ", …" : ""}); scalpel never unpickles, because loading a pickle can run arbitrary code, so it did not open them`,
      {
        file: dir,
        fix:
          `convert the checkpoint to safetensors with Python, if you trust its source: ` +
          `python -c "from transformers import AutoModelForCausalLM as M; M.from_pretrained('${dir}').save_pretrained('${dir}', safe_serialization=True)"`,
      },
    );
  }
  const others = entries.filter((e) => OTHER.test(e));
  const strays = entries.filter((e) => e.endsWith(".safetensors"));
  throw new CheckpointError("CHECKPOINT_NO_WEIGHTS", `no ${SINGLE_WEIGHTS_NAME} or ${SHARD_INDEX_NAME} in the directory` +
    (strays.length ? ` (found ${strays.join(", ")}, but not under the standard names)` : "") +
    (others.length ? ` (found ${others.join(", ")}, a format scalpel does not read)` : ""), {
    file: dir,
    fix: strays.length === 1
      ? `rename ${strays[0]} to ${SINGLE_WEIGHTS_NAME}`
      : "save the model with save_pretrained(dir, safe_serialization=True) so the directory holds model.safetensors",
  });
}

/**
 * Resolve `name` inside `dir`, following symlinks, and refuse a result outside the directory.
 * One exception keeps the Hugging Face hub cache working: in `<repo>/snapshots/<rev>/`, files are
 * symlinks into `<repo>/blobs/`, which is therefore allowed too.
 */
export async function resolveInside(dir: string, name: string, label: string): Promise<string> {
  const realDir = await fs.realpath(dir);
  const target = path.join(dir, name);
  let real: string;
  try {
    real = await fs.realpath(target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError("SHARD_MISSING", `${name} ${code === "ENOENT" ? "does not exist" : `cannot be resolved (${code})`}`, {
      file: target,
      field: name,
      fix: `restore ${name} (re-download the checkpoint) or regenerate ${label}`,
      cause: e,
    });
  }
  const roots = [realDir];
  if (path.basename(path.dirname(realDir)) === "snapshots") roots.push(path.join(path.dirname(path.dirname(realDir)), "blobs"));
  const inside = roots.some((root) => {
    const rel = path.relative(root, real);
    return rel !== "" && rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
  });
  if (!inside) {
    throw new CheckpointError("SHARD_PATH_ESCAPES", `${name} resolves to ${real}, outside the checkpoint directory`, {
      file: target,
      field: name,
      fix: "copy the real file into the checkpoint directory instead of linking outside it",
    });
  }
  return real;
}
