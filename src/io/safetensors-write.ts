/**
 * Serializing tensors to the safetensors format, byte for byte as the reference writer does
 * (huggingface/safetensors safetensors/src/tensor.rs, `prepare` / `serialize`):
 *   - tensors sorted by descending dtype (enum order = alignment), then by name, and laid out
 *     back to back in that order, so each starts aligned to its element size;
 *   - header JSON `{"__metadata__":{…},"name":{"dtype":…,"shape":[…],"data_offsets":[b,e]},…}`
 *     with no whitespace, tensors in layout order (scalpel also sorts the metadata keys, which the
 *     reference leaves in hash order);
 *   - the JSON padded with spaces to a multiple of 8 bytes ("Force alignment to 8 bytes"), then
 *     the 8-byte little-endian length N of the padded JSON, the JSON, the data.
 * Browser-safe. The Node file writer (safetensors-file.ts) streams `safetensorsChunks`.
 */
import { CheckpointError } from "../errors.js";
import { HOST_ARRAY, numel, type HostTensor } from "./host-tensor.js";
import { SAFETENSORS_DTYPES, dtypeRank, encodeTensor, storedDtype, type SafetensorsDtype } from "./safetensors-dtypes.js";

export interface SafetensorsWriteOptions {
  /** Store float tensors as this dtype. Default: float32 → F32, float64 → F64. */
  floatDtype?: "F32" | "F16" | "BF16";
  /** Label for error messages (the target path). */
  file?: string;
}

export interface PlannedTensor {
  name: string;
  tensor: HostTensor;
  dtype: SafetensorsDtype;
  begin: number;
  end: number;
}

export interface SafetensorsPlan {
  /** The 8-byte length prefix followed by the padded JSON header. */
  head: Uint8Array;
  tensors: PlannedTensor[];
  /** Total file size in bytes. */
  size: number;
}

/** Rust's String ordering: by UTF-8 bytes, which is the same as by Unicode code points. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

function invalid(code: string, message: string, file: string | undefined, field?: string, fix?: string): never {
  throw new CheckpointError(code, message, { file, field, fix });
}

function checkTensor(name: string, t: HostTensor, file: string | undefined): void {
  if (name === "__metadata__") invalid("TENSOR_NAME_RESERVED", `"__metadata__" is reserved for the header's metadata and cannot name a tensor`, file, name, "rename the tensor");
  const Ctor = HOST_ARRAY[t.dtype as keyof typeof HOST_ARRAY];
  if (!Ctor) invalid("TENSOR_DTYPE", `tensor ${name} has unknown dtype ${JSON.stringify(t.dtype)}`, file, name, `use one of ${Object.keys(HOST_ARRAY).join(", ")}`);
  if (!(t.data instanceof Ctor)) {
    invalid("TENSOR_DTYPE", `tensor ${name} says dtype ${t.dtype} but its data is a ${(t.data as object)?.constructor?.name ?? typeof t.data}`, file, name, `store ${t.dtype} data in a ${Ctor.name}`);
  }
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    invalid("TENSOR_SHAPE", `tensor ${name} has shape ${JSON.stringify(t.shape)}; a shape is a list of non-negative integers`, file, name, "fix the shape");
  }
  if (numel(t.shape) !== t.data.length) {
    invalid("TENSOR_SHAPE", `tensor ${name} has shape [${t.shape.join(", ")}] (${numel(t.shape)} elements) but ${t.data.length} values`, file, name, "make the shape match the data");
  }
}

const utf8 = new TextEncoder();

/** Lay out the file: validate the tensors, order them, build the padded header. */
export function planSafetensors(
  tensors: Record<string, HostTensor>,
  metadata?: Record<string, string>,
  options: SafetensorsWriteOptions = {},
): SafetensorsPlan {
  const file = options.file;
  const items = Object.entries(tensors).map(([name, tensor]) => {
    checkTensor(name, tensor, file);
    return { name, tensor, dtype: storedDtype(tensor, options.floatDtype) };
  });
  items.sort((a, b) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || compareCodePoints(a.name, b.name));

  const parts: string[] = [];
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort(compareCodePoints);
    for (const k of keys) {
      if (typeof metadata[k] !== "string") invalid("SAFETENSORS_METADATA", `metadata value for ${JSON.stringify(k)} is not a string`, file, `__metadata__.${k}`, "convert every metadata value to a string");
    }
    parts.push(`"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(",")}}`);
  }
  const planned: PlannedTensor[] = [];
  let offset = 0;
  for (const it of items) {
    const nbytes = it.tensor.data.length * SAFETENSORS_DTYPES[it.dtype];
    planned.push({ ...it, begin: offset, end: offset + nbytes });
    parts.push(`${JSON.stringify(it.name)}:{"dtype":"${it.dtype}","shape":[${it.tensor.shape.join(",")}],"data_offsets":[${offset},${offset + nbytes}]}`);
    offset += nbytes;
  }
  const json = utf8.encode(`{${parts.join(",")}}`);
  const n = json.byteLength + ((8 - (json.byteLength % 8)) % 8);
  const head = new Uint8Array(8 + n).fill(0x20, 8 + json.byteLength);
  new DataView(head.buffer).setBigUint64(0, BigInt(n), true);
  head.set(json, 8);
  return { head, tensors: planned, size: head.byteLength + offset };
}

/** The file's bytes as a sequence of chunks: the head, then each tensor, encoded one at a time. */
export function* safetensorsChunks(plan: SafetensorsPlan): Generator<Uint8Array> {
  yield plan.head;
  for (const t of plan.tensors) yield encodeTensor(t.tensor, t.dtype);
}

/** The whole file in one buffer (for small files, tests and browsers). */
export function serializeSafetensors(
  tensors: Record<string, HostTensor>,
  metadata?: Record<string, string>,
  options: SafetensorsWriteOptions = {},
): Uint8Array {
  const plan = planSafetensors(tensors, metadata, options);
  const out = new Uint8Array(plan.size);
  let at = 0;
  for (const chunk of safetensorsChunks(plan)) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
