/** ByteSource over a file on disk (Node): positional reads through one fs.FileHandle. */
import { promises as fs } from "node:fs";
import { checkRange, type ByteSource } from "./byte-source.js";

// One read(2) call moves at most 2^31 - 1 bytes (Node's kIoMaxLength); tensors can be larger.
const MAX_READ = 1 << 30;

/** Open `file` for random-access reads. Throws Node's own error (ENOENT …); callers add context. */
export async function openFileSource(file: string): Promise<ByteSource> {
  const handle = await fs.open(file, "r");
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (e) {
    await handle.close();
    throw e;
  }
  let closed = false;
  return {
    size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      if (closed) throw new Error(`read from closed file ${file}`);
      checkRange(offset, length, size);
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, Math.min(MAX_READ, length - done), offset + done);
        if (bytesRead === 0) throw new Error(`${file} ended after ${offset + done} bytes (was it truncated while open?)`);
        done += bytesRead;
      }
      return out;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}
