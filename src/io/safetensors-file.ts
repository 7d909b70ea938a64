/** safetensors files on disk (Node): open for lazy reading, write atomically and streaming. */
import { CheckpointError } from "../errors.js";
import { writeFileAtomic } from "./atomic.js";
import type { HostTensor } from "./host-tensor.js";
import { openFileSource } from "./node-source.js";
import { openSafetensors, type SafetensorsReader } from "./safetensors.js";
import { planSafetensors, safetensorsChunks, type SafetensorsWriteOptions } from "./safetensors-write.js";

/** Open a .safetensors file; only its header is read now. */
export async function openSafetensorsFile(file: string): Promise<SafetensorsReader> {
  let source;
  try {
    source = await openFileSource(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(
      code === "ENOENT" ? "SAFETENSORS_FILE_MISSING" : "SAFETENSORS_FILE_UNREADABLE",
      code === "ENOENT" ? "safetensors file not found" : `cannot open the safetensors file (${code ?? String(e)})`,
      { file, fix: code === "ENOENT" ? "check the path" : "check the file's permissions", cause: e },
    );
  }
  return openSafetensors(source, file);
}

/**
 * Write tensors to `file` atomically. Tensors are encoded and written one at a time, so the
 * file is never assembled in memory. Returns the number of bytes written.
 */
export async function writeSafetensors(
  file: string,
  tensors: Record<string, HostTensor>,
  metadata?: Record<string, string>,
  options: SafetensorsWriteOptions = {},
): Promise<number> {
  const plan = planSafetensors(tensors, metadata, { ...options, file: options.file ?? file });
  await writeFileAtomic(file, safetensorsChunks(plan));
  return plan.size;
}
