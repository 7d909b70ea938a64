/**
 * Parsing and validating a safetensors header. Browser-safe.
 *
 * Layout: 8-byte little-endian u64 N, N bytes of UTF-8 JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}`, then the data
 * buffer; offsets are relative to the buffer's start.
 *
 * Validation follows the reference, huggingface/safetensors safetensors/src/tensor.rs
 * (`SafeTensors::read_metadata` and `Metadata::validate`):
 *   - N > 100_000_000 (MAX_HEADER_SIZE) → HeaderTooLarge; 8 + N beyond the file → InvalidHeaderLength;
 *   - the header must be UTF-8 (InvalidHeader) JSON (InvalidHeaderDeserialization) object
 *     (InvalidHeaderStart: must start with '{');
 *   - tensors sorted by data_offsets must tile the buffer exactly: each begins where the previous
 *     ended, starting at 0 (InvalidOffset), so no overlaps and no gaps; end - begin must equal
 *     product(shape) × dtype size, with overflow refused (TensorInvalidInfo, ValidationOverflow);
 *   - the last end must be the end of the file (MetadataIncompleteBuffer).
 * scalpel is stricter where the reference is silent or lenient: duplicate tensor names are refused
 * (serde would keep one), and each failure gets its own code and a message naming file and tensor.
 */
import { CheckpointError } from "../errors.js";
import { JsonDuplicateKeyError, JsonSyntaxError, isJsonObject, parseJsonStrict } from "./json-parse.js";
import { SAFETENSORS_DTYPES, isSafetensorsDtype, type SafetensorsDtype } from "./safetensors-dtypes.js";

/** The reference's MAX_HEADER_SIZE (tensor.rs). */
export const MAX_HEADER_SIZE = 100_000_000;

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte offsets relative to the start of the data buffer, [begin, end). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** N, the JSON header's byte length (padding included). */
  headerSize: number;
  /** File offset of the data buffer: 8 + N. */
  dataStart: number;
  /** Tensors by name, in data-offset order. */
  tensors: Map<string, TensorEntry>;
  /** The `__metadata__` map, when the file has one. */
  metadata?: Record<string, string>;
}

const CORRUPT_FIX = "the file is corrupt or was not written by a safetensors writer: re-download it or save it again (safetensors.torch.save_file / save_pretrained)";

function fail(code: string, message: string, file: string, field?: string, fix = CORRUPT_FIX): never {
  throw new CheckpointError(code, message, { file, field, fix });
}

/**
 * Read N from the first 8 bytes and check it against the limit and the file size.
 * `first8` may be shorter than 8 only when the file is.
 */
export function readHeaderSize(first8: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8 || first8.byteLength < 8) {
    fail("SAFETENSORS_TOO_SMALL", `file is ${fileSize} bytes, shorter than the 8-byte header length of a safetensors file`, file);
  }
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const n = hi * 2 ** 32 + lo;
  if (hi !== 0 || n > MAX_HEADER_SIZE) {
    fail("SAFETENSORS_HEADER_TOO_LARGE", `header length ${hi === 0 ? n : `≥ 2^32 (${n})`} exceeds the limit of ${MAX_HEADER_SIZE} bytes`, file);
  }
  if (8 + n > fileSize) {
    fail("SAFETENSORS_HEADER_LENGTH", `header length ${n} runs past the end of the ${fileSize}-byte file (truncated?)`, file);
  }
  return n;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Parse and validate the N header bytes of a file of `fileSize` bytes. */
export function parseHeader(headerBytes: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  const headerSize = headerBytes.byteLength;
  const dataStart = 8 + headerSize;
  const bufferSize = fileSize - dataStart;

  let text: string;
  try {
    text = utf8.decode(headerBytes);
  } catch {
    fail("SAFETENSORS_HEADER_UTF8", "header is not valid UTF-8 text", file);
  }
  // The reference's InvalidHeaderStart: the JSON must open with '{' at byte 0.
  if (!text.startsWith("{")) fail("SAFETENSORS_HEADER_NOT_OBJECT", "header does not start with '{' (it must be a JSON object)", file);
  let json: unknown;
  try {
    json = parseJsonStrict(text);
  } catch (e) {
    if (e instanceof JsonDuplicateKeyError && e.path === "$") {
      fail("SAFETENSORS_DUPLICATE_NAME", `tensor name ${JSON.stringify(e.key)} appears twice in the header`, file, e.key);
    }
    if (e instanceof JsonSyntaxError || e instanceof JsonDuplicateKeyError) {
      fail("SAFETENSORS_HEADER_JSON", `header is not valid JSON: ${e.message}`, file);
    }
    throw e;
  }
  if (!isJsonObject(json)) fail("SAFETENSORS_HEADER_NOT_OBJECT", "header is JSON but not an object", file);

  let metadata: Record<string, string> | undefined;
  const entries: TensorEntry[] = [];
  for (const [name, raw] of Object.entries(json)) {
    if (name === "__metadata__") metadata = parseMetadata(raw, file);
    else entries.push(parseEntry(name, raw, file));
  }

  // Tile check, in data-offset order as the reference does (it sorts by (begin, end)).
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const t of entries) {
    const where = `tensor ${t.name} (data_offsets [${t.begin}, ${t.end}])`;
    if (t.end > bufferSize) {
      fail("SAFETENSORS_OFFSET_OUT_OF_BOUNDS", `${where} ends past the ${bufferSize}-byte data buffer (file truncated?)`, file, t.name);
    }
    if (t.begin < expected) {
      fail("SAFETENSORS_OVERLAP", `${where} overlaps the previous tensor, which ends at ${expected}`, file, t.name);
    }
    if (t.begin > expected) {
      fail("SAFETENSORS_GAP", `${where} leaves unused bytes [${expected}, ${t.begin}) before it; tensors must be contiguous`, file, t.name);
    }
    const nbytes = byteLength(t, file);
    if (t.end - t.begin !== nbytes) {
      fail(
        "SAFETENSORS_BYTE_LENGTH",
        `${where} spans ${t.end - t.begin} bytes but shape [${t.shape.join(", ")}] of ${t.dtype} needs ${nbytes}`,
        file,
        t.name,
      );
    }
    expected = t.end;
  }
  if (expected !== bufferSize) {
    fail("SAFETENSORS_TRAILING_BYTES", `tensors cover ${expected} bytes but the data buffer has ${bufferSize}; the last tensor must end at the end of the file`, file);
  }

  const tensors = new Map<string, TensorEntry>();
  for (const t of entries) tensors.set(t.name, t);
  return { headerSize, dataStart, tensors, metadata };
}

/** product(shape) × element size, refusing results beyond 2^53 (the reference's ValidationOverflow). */
export function byteLength(t: { dtype: SafetensorsDtype; shape: readonly number[]; name: string }, file: string): number {
  let n = SAFETENSORS_DTYPES[t.dtype];
  for (const d of t.shape) {
    n *= d;
    if (!Number.isSafeInteger(n)) fail("SAFETENSORS_SHAPE", `tensor ${t.name} has shape [${t.shape.join(", ")}], whose byte size overflows`, file, t.name);
  }
  return n;
}

function parseMetadata(raw: unknown, file: string): Record<string, string> | undefined {
  // serde reads `Option<HashMap<String, String>>`: null is "no metadata".
  if (raw === null) return undefined;
  if (!isJsonObject(raw)) fail("SAFETENSORS_METADATA", "__metadata__ must be an object of string values", file, "__metadata__");
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== "string") {
      fail("SAFETENSORS_METADATA", `__metadata__ value for ${JSON.stringify(k)} is ${v === null ? "null" : typeof v}, but every value must be a string`, file, `__metadata__.${k}`);
    }
    out[k] = v;
  }
  return out;
}

function parseEntry(name: string, raw: unknown, file: string): TensorEntry {
  if (!isJsonObject(raw)) fail("SAFETENSORS_TENSOR_ENTRY", `tensor ${name} must be an object {dtype, shape, data_offsets}`, file, name);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== "string") fail("SAFETENSORS_TENSOR_ENTRY", `tensor ${name} has no string "dtype"`, file, name);
  if (!isSafetensorsDtype(dtype)) {
    fail("SAFETENSORS_DTYPE", `tensor ${name} has unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(SAFETENSORS_DTYPES).join(", ")})`, file, name,
      "convert the tensor to a standard dtype (F32, F16, BF16, I64, …) and save the file again");
  }
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)) {
    fail("SAFETENSORS_SHAPE", `tensor ${name} has shape ${JSON.stringify(shape)}; a shape is a list of non-negative integers`, file, name);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => typeof o === "number" && Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    fail("SAFETENSORS_OFFSETS", `tensor ${name} has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] with 0 ≤ begin ≤ end`, file, name);
  }
  return { name, dtype, shape: shape as number[], begin: offsets[0] as number, end: offsets[1] as number };
}
