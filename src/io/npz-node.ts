/** Reading an .npz file from disk (Node adapter for the browser-safe npz.ts). */
import { promises as fs } from "node:fs";
import { CheckpointError } from "../errors.js";
import type { HostTensor } from "./host-tensor.js";
import { readNpz } from "./npz.js";

/** Read and decode every array of the .npz at `file`. */
export async function readNpzFile(file: string): Promise<Record<string, HostTensor>> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(
      code === "ENOENT" ? "NPZ_FILE_MISSING" : "NPZ_FILE_UNREADABLE",
      code === "ENOENT" ? ".npz file not found" : `cannot read the .npz file (${code ?? String(e)})`,
      { file, fix: code === "ENOENT" ? "check the path" : "check the file's permissions", cause: e },
    );
  }
  return readNpz(bytes, file);
}
