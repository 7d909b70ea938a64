/** Atomic file writes: write a temporary sibling, fsync, then rename over the target. */
import { promises as fs } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";

// One write(2) call moves at most 2^31 - 1 bytes (Node's kIoMaxLength).
const MAX_WRITE = 1 << 30;

export type AtomicData = string | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/**
 * Write `data` to `file` so that readers see either the old file or the complete new one, never a
 * torn one. Chunked data (a sync or async iterable) is written chunk by chunk, so a large file is
 * never held in memory whole.
 */
export async function writeFileAtomic(file: string, data: AtomicData): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const handle = await fs.open(tmp, "w");
  try {
    if (typeof data === "string" || data instanceof Uint8Array) await handle.writeFile(data);
    else {
      let position = 0;
      for await (const chunk of data) {
        // write() may move fewer bytes than asked; loop until the chunk is down.
        let done = 0;
        while (done < chunk.byteLength) {
          const { bytesWritten } = await handle.write(chunk, done, Math.min(chunk.byteLength - done, MAX_WRITE), position);
          done += bytesWritten;
          position += bytesWritten;
        }
      }
    }
    await handle.sync();
  } catch (e) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  await fs.rename(tmp, file);
}
