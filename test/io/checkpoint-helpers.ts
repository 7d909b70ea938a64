/** Shared helpers for the io tests. */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { memorySource, type ByteSource } from "../../src/io/byte-source.js";
import { ScalpelError } from "../../src/errors.js";

/** A ByteSource that records every read (offset, length) and whether it was closed. */
export function spySource(bytes: Uint8Array): ByteSource & { reads: [number, number][]; closed: boolean } {
  const inner = memorySource(bytes);
  const spy = {
    size: inner.size,
    reads: [] as [number, number][],
    closed: false,
    read(offset: number, length: number) {
      spy.reads.push([offset, length]);
      return inner.read(offset, length);
    },
    async close() {
      spy.closed = true;
    },
  };
  return spy;
}

/** Assert `fn` rejects with `Cls`, the given code, and a message naming `file`. */
export async function rejectsWith(
  fn: () => Promise<unknown>,
  Cls: abstract new (...args: never[]) => ScalpelError,
  code: string,
  file: string,
  alsoMentions: string[] = [],
): Promise<ScalpelError> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof Cls, `expected ${Cls.name} ${code}, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  const err = caught as ScalpelError;
  assert.equal(err.code, code, `code (message: ${err.message})`);
  assert.ok(err.message.includes(file), `message should name ${file}: ${err.message}`);
  assert.ok(err.fix && err.fix.length > 0, "error carries a fix");
  for (const s of alsoMentions) assert.ok(err.message.includes(s), `message should mention ${s}: ${err.message}`);
  return err;
}

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), "scalpel-io-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Build a raw safetensors file from a header object (or raw header text) and a data buffer. */
export function rawSafetensors(header: unknown, data: Uint8Array | number = 0, declaredLength?: bigint): Uint8Array {
  const text = typeof header === "string" ? header : JSON.stringify(header);
  const json = new TextEncoder().encode(text);
  const body = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.byteLength + body.byteLength);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(body, 8 + json.byteLength);
  return out;
}
