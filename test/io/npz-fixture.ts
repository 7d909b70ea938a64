/**
 * A tiny .npy/.npz writer for tests, written from NEP 1 and APPNOTE.TXT independently of the
 * reader (src/io/zip.ts, npy.ts) so that the two check each other. It mimics numpy.savez: each
 * member `<name>.npy`, local headers in ZIP64 form (numpy opens members with force_zip64=True),
 * header dicts padded to 64 bytes with a trailing newline.
 */
import { crc32, deflateRawSync } from "node:zlib";

export interface NpyOptions {
  fortran?: boolean;
  /** Format major version (1, 2 or 3). */
  version?: number;
  /** Replace the whole header dict text (for hostile cases). */
  header?: string;
}

/** Raw little-endian bytes of a typed array. */
export const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** A .npy file: descr like "<f4", shape, and the data bytes already in the order to store. */
export function npy(descr: string, shape: number[], data: Uint8Array, opts: NpyOptions = {}): Uint8Array {
  const version = opts.version ?? 1;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = opts.header ?? `{'descr': '${descr}', 'fortran_order': ${opts.fortran ? "True" : "False"}, 'shape': ${shapeText}, }`;
  const pre = 8 + (version === 1 ? 2 : 4);
  const enc = new TextEncoder().encode(dict);
  const pad = (64 - ((pre + enc.length + 1) % 64)) % 64;
  dict = dict + " ".repeat(pad) + "\n";
  const head = version === 3 ? new TextEncoder().encode(dict) : Uint8Array.from(dict, (c) => c.charCodeAt(0));
  const out = new Uint8Array(pre + head.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const v = new DataView(out.buffer);
  if (version === 1) v.setUint16(8, head.length, true);
  else v.setUint32(8, head.length, true);
  out.set(head, pre);
  out.set(data, pre + head.length);
  return out;
}

export interface ZipEntry {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
  /** Write the local header the way numpy's force_zip64 does (sizes 0xFFFFFFFF + ZIP64 extra). */
  zip64Local?: boolean;
}

/** A ZIP archive of the entries. */
export function zip(entries: ZipEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = new TextEncoder().encode(e.name);
    const body = e.deflate ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    const crc = crc32(e.data) >>> 0;
    const extra = e.zip64Local ? 20 : 0;
    const local = new Uint8Array(30 + name.length + extra);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, e.zip64Local ? 45 : 20, true);
    lv.setUint16(8, e.deflate ? 8 : 0, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, e.zip64Local ? 0xffffffff : body.length, true);
    lv.setUint32(22, e.zip64Local ? 0xffffffff : e.data.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, extra, true);
    local.set(name, 30);
    if (e.zip64Local) {
      lv.setUint16(30 + name.length, 1, true);
      lv.setUint16(32 + name.length, 16, true);
      lv.setBigUint64(34 + name.length, BigInt(e.data.length), true);
      lv.setBigUint64(42 + name.length, BigInt(body.length), true);
    }
    const c = new Uint8Array(46 + name.length);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, e.deflate ? 8 : 0, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, e.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    c.set(name, 46);
    central.push(c);
    parts.push(local, body);
    offset += local.length + body.length;
  }
  const dirSize = central.reduce((s, c) => s + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, dirSize, true);
  ev.setUint32(16, offset, true);
  const all = [...parts, ...central, eocd];
  const out = new Uint8Array(all.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** An .npz of float32 arrays, as numpy.savez(**arrays) would write (deflate = savez_compressed). */
export function npzF32(arrays: Record<string, { shape: number[]; data: Float32Array }>, deflate = false): Uint8Array {
  return zip(Object.entries(arrays).map(([k, a]) => ({ name: `${k}.npy`, data: npy("<f4", a.shape, bytesOf(a.data)), deflate, zip64Local: true })));
}
