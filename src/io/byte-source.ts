/**
 * Random access to the bytes of a file, so that parsing stays browser-safe and reading one tensor
 * reads only that tensor's bytes. Node adapter: node-source.ts; in a browser a Blob/File or HTTP
 * range requests can implement the same three members.
 */
export interface ByteSource {
  /** Total length in bytes. */
  readonly size: number;
  /** Exactly `length` bytes starting at `offset` (a fresh array the caller owns). */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** A ByteSource over bytes already in memory. Reads return copies, so callers may mutate them. */
export function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    async read(offset: number, length: number): Promise<Uint8Array> {
      checkRange(offset, length, bytes.byteLength);
      return bytes.slice(offset, offset + length);
    },
    async close(): Promise<void> {},
  };
}

/** Programming-error guard shared by ByteSource implementations. */
export function checkRange(offset: number, length: number, size: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new RangeError(`read of ${length} bytes at ${offset} is outside a source of ${size} bytes`);
  }
}
