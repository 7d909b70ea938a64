/**
 * Reading the members of a ZIP archive held in memory (what an .npz is). Browser-safe: inflating
 * uses the web-standard `DecompressionStream("deflate-raw")` (Node ≥ 20 and browsers).
 *
 * Layout (PKWARE APPNOTE.TXT, https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT):
 * local header + data per member, then the central directory, then the end-of-central-directory
 * record (EOCD, §4.3.16), which may be followed by a comment of up to 65535 bytes. Sizes and
 * offsets are taken from the central directory (§4.3.12), which is authoritative even when a
 * member used a data descriptor (flag bit 3) or a ZIP64 local header (numpy's `savez` opens every
 * member with `force_zip64=True`, so its local headers say 0xFFFFFFFF and carry a ZIP64 extra
 * field, §4.5.3). The local header is read only to find where the data starts.
 *
 * Only "stored" (0) and "deflated" (8) members are read; encrypted members, other methods,
 * multi-disk archives, names that escape the archive (`..`, absolute paths) and duplicate names
 * are refused. Every member's CRC-32 is checked, so a truncated or corrupted file never yields
 * plausible-looking numbers.
 */
import { CheckpointError } from "../errors.js";

export interface ZipMember {
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  /** Offset of the member's local header in the archive. */
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const CORRUPT_FIX = "the file is truncated or is not a ZIP/.npz archive: download it again or re-save it with numpy.savez";

function fail(code: string, message: string, file: string, field?: string, fix = CORRUPT_FIX): never {
  throw new CheckpointError(code, message, { file, field, fix });
}

function u64(view: DataView, at: number, file: string, what: string): number {
  const lo = view.getUint32(at, true);
  const hi = view.getUint32(at + 4, true);
  const n = hi * 2 ** 32 + lo;
  if (!Number.isSafeInteger(n)) fail("ZIP_TOO_LARGE", `${what} ${n} is beyond 2^53`, file);
  return n;
}

/** The offset of the EOCD record: the last signature that leaves room for its comment. */
function findEocd(bytes: Uint8Array, view: DataView, file: string): number {
  if (bytes.byteLength < 22) fail("ZIP_TRUNCATED", `file is ${bytes.byteLength} bytes, too short to be a ZIP archive`, file);
  const stop = Math.max(0, bytes.byteLength - 22 - 0xffff);
  for (let at = bytes.byteLength - 22; at >= stop; at--) {
    if (view.getUint32(at, true) === EOCD_SIG && at + 22 + view.getUint16(at + 20, true) === bytes.byteLength) return at;
  }
  return fail("ZIP_NO_DIRECTORY", "no end-of-central-directory record found (not a ZIP archive, or truncated)", file);
}

/** A name that could escape a target folder if the archive were ever extracted. */
function unsafeName(name: string): boolean {
  return name.length === 0 || name.includes("\0") || name.startsWith("/") || /^[A-Za-z]:/.test(name) || name.split(/[/\\]/).includes("..");
}

/** List an archive's members from its central directory. */
export function listZip(bytes: Uint8Array, file: string): ZipMember[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = findEocd(bytes, view, file);
  if (view.getUint16(eocd + 4, true) !== 0 || view.getUint16(eocd + 6, true) !== 0) {
    fail("ZIP_MULTIDISK", "multi-disk (split) ZIP archives are not supported", file, undefined, "join the parts into one archive");
  }
  let count: number = view.getUint16(eocd + 10, true);
  let dirSize: number = view.getUint32(eocd + 12, true);
  let dirOffset: number = view.getUint32(eocd + 16, true);
  if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
    // ZIP64 (§4.3.14–15): a locator just before the EOCD points at the ZIP64 EOCD record.
    const loc = eocd - 20;
    if (loc < 0 || view.getUint32(loc, true) !== ZIP64_LOCATOR_SIG) fail("ZIP64_BROKEN", "ZIP64 fields are set but the ZIP64 locator is missing", file);
    const rec = u64(view, loc + 8, file, "ZIP64 record offset");
    if (rec + 56 > bytes.byteLength || view.getUint32(rec, true) !== ZIP64_EOCD_SIG) fail("ZIP64_BROKEN", "the ZIP64 end-of-central-directory record is missing", file);
    count = u64(view, rec + 32, file, "member count");
    dirSize = u64(view, rec + 40, file, "directory size");
    dirOffset = u64(view, rec + 48, file, "directory offset");
  }
  if (dirOffset + dirSize > bytes.byteLength) fail("ZIP_TRUNCATED", `the central directory (${dirSize} bytes at ${dirOffset}) runs past the end of the ${bytes.byteLength}-byte file`, file);

  const utf8 = new TextDecoder("utf-8");
  const members: ZipMember[] = [];
  const seen = new Set<string>();
  let at = dirOffset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > dirOffset + dirSize || view.getUint32(at, true) !== CENTRAL_SIG) fail("ZIP_DIRECTORY", `central directory entry ${i} is damaged`, file);
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc32 = view.getUint32(at + 16, true);
    let compressedSize: number = view.getUint32(at + 20, true);
    let size: number = view.getUint32(at + 24, true);
    const nameLen = view.getUint16(at + 28, true);
    const extraLen = view.getUint16(at + 30, true);
    const commentLen = view.getUint16(at + 32, true);
    let localHeaderOffset: number = view.getUint32(at + 42, true);
    const end = at + 46 + nameLen + extraLen + commentLen;
    if (end > dirOffset + dirSize) fail("ZIP_DIRECTORY", `central directory entry ${i} runs past the directory`, file);
    const name = utf8.decode(bytes.subarray(at + 46, at + 46 + nameLen));
    // ZIP64 extended information (§4.5.3): only the fields whose 32-bit value is 0xFFFFFFFF, in order.
    for (let e = at + 46 + nameLen; e + 4 <= at + 46 + nameLen + extraLen; ) {
      const id = view.getUint16(e, true);
      const len = view.getUint16(e + 2, true);
      if (id === 0x0001) {
        let p = e + 4;
        const take = (what: string) => {
          if (p + 8 > e + 4 + len) fail("ZIP64_BROKEN", `the ZIP64 extra field of ${name} is too short for its ${what}`, file, name);
          const v = u64(view, p, file, what);
          p += 8;
          return v;
        };
        if (size === 0xffffffff) size = take("size");
        if (compressedSize === 0xffffffff) compressedSize = take("compressed size");
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take("header offset");
      }
      e += 4 + len;
    }
    if (unsafeName(name)) {
      fail("ZIP_UNSAFE_NAME", `member name ${JSON.stringify(name)} escapes the archive (absolute path or "..")`, file, name, "refusing a hostile archive: re-create it with plain member names");
    }
    if (seen.has(name)) fail("ZIP_DUPLICATE_NAME", `member ${JSON.stringify(name)} appears twice`, file, name, "refusing an ambiguous archive: re-create it with unique member names");
    seen.add(name);
    if (flags & 0x1) fail("ZIP_ENCRYPTED", `member ${name} is encrypted`, file, name, "decrypt the archive first");
    if (method !== 0 && method !== 8) {
      fail("ZIP_METHOD", `member ${name} uses compression method ${method}; only stored (0) and deflated (8) are supported`, file, name, "re-save it with numpy.savez or numpy.savez_compressed");
    }
    members.push({ name, method, compressedSize, size, crc32, localHeaderOffset });
    at = end;
  }
  return members;
}

/** A member's uncompressed bytes, CRC-checked. */
export async function readZipMember(bytes: Uint8Array, m: ZipMember, file: string): Promise<Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = m.localHeaderOffset;
  if (h + 30 > bytes.byteLength || view.getUint32(h, true) !== LOCAL_SIG) fail("ZIP_LOCAL_HEADER", `the local header of member ${m.name} is missing or damaged`, file, m.name);
  const start = h + 30 + view.getUint16(h + 26, true) + view.getUint16(h + 28, true);
  if (start + m.compressedSize > bytes.byteLength) {
    fail("ZIP_TRUNCATED", `member ${m.name} (${m.compressedSize} bytes at ${start}) runs past the end of the ${bytes.byteLength}-byte file`, file, m.name);
  }
  const raw = bytes.subarray(start, start + m.compressedSize);
  let data: Uint8Array;
  if (m.method === 0) {
    if (m.compressedSize !== m.size) fail("ZIP_SIZE", `stored member ${m.name} has compressed size ${m.compressedSize} ≠ size ${m.size}`, file, m.name);
    data = new Uint8Array(raw); // a copy even when `bytes` is a Node Buffer (whose slice() is a view)
  } else {
    data = await inflateRaw(raw, m.size, m.name, file);
  }
  if (crc32(data) !== m.crc32) fail("ZIP_CRC", `member ${m.name} fails its CRC-32 check (corrupted)`, file, m.name);
  return data;
}

/** Inflate raw DEFLATE data that must expand to exactly `size` bytes (a bomb stops at size + 1). */
async function inflateRaw(raw: Uint8Array, size: number, name: string, file: string): Promise<Uint8Array> {
  const ds = new DecompressionStream("deflate-raw");
  const writer = ds.writable.getWriter();
  // Errors surface on the reading side; these promises must not reject unhandled.
  writer.write(raw as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const reader = ds.readable.getReader();
  const out = new Uint8Array(size);
  let done = 0;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      if (done + r.value.byteLength > size) {
        await reader.cancel().catch(() => {});
        fail("ZIP_SIZE", `member ${name} inflates to more than its declared ${size} bytes`, file, name);
      }
      out.set(r.value, done);
      done += r.value.byteLength;
    }
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError("ZIP_INFLATE", `member ${name} is not valid DEFLATE data (${(e as Error).message})`, { file, field: name, fix: CORRUPT_FIX, cause: e });
  }
  if (done !== size) fail("ZIP_SIZE", `member ${name} inflates to ${done} bytes, not its declared ${size}`, file, name);
  return out;
}

let CRC_TABLE: Uint32Array | undefined;

/** CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320), as ZIP stores it. */
export function crc32(data: Uint8Array): number {
  if (!CRC_TABLE) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
