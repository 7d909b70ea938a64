/**
 * safetensors dtypes: element sizes, the writer's ordering, and conversion between a tensor's
 * little-endian bytes and a HostTensor. Browser-safe.
 *
 * Reference: huggingface/safetensors, safetensors/src/tensor.rs, `enum Dtype` ("They MUST be in
 * increasing alignment order") and `Dtype::size()`; the writer sorts tensors by descending dtype in
 * that order, then by name, so every tensor's data starts aligned to its element size.
 */
import { CheckpointError } from "../errors.js";
import { bf16ToF32, f16ToF32, f32ToBf16Bits, f32ToF16Bits } from "../tensor/dtypes.js";
import type { HostDtype, HostTensor } from "./host-tensor.js";

/** Every dtype name of the reference, in its enum (alignment) order, with its size in bytes. */
export const SAFETENSORS_DTYPES = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
} as const;

export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPES;

const ORDER: readonly string[] = Object.keys(SAFETENSORS_DTYPES);

export function isSafetensorsDtype(s: string): s is SafetensorsDtype {
  return Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPES, s);
}

/** Position in the reference's enum order (the writer sorts by descending rank). */
export function dtypeRank(d: SafetensorsDtype): number {
  return ORDER.indexOf(d);
}

/** Dtypes whose values are floating point (readF32 accepts these). */
export const FLOAT_DTYPES: ReadonlySet<SafetensorsDtype> = new Set(["F16", "BF16", "F32", "F64"]);

/** What each stored dtype becomes in memory (I64/U64 narrow to 32 bits when every value fits). */
export const HOST_DTYPE_OF: Partial<Record<SafetensorsDtype, HostDtype>> = {
  BOOL: "bool",
  U8: "uint8",
  I8: "int8",
  I16: "int16",
  U16: "uint16",
  F16: "float32",
  BF16: "float32",
  I32: "int32",
  U32: "uint32",
  F32: "float32",
  F64: "float64",
  I64: "int32",
  U64: "uint32",
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes viewed as elements of `size` bytes, copying only when misaligned or on big-endian hosts. */
function aligned(bytes: Uint8Array, size: number): ArrayBuffer {
  let b = bytes;
  if (b.byteOffset % size !== 0 || b.byteLength !== b.buffer.byteLength) b = b.slice();
  if (!LITTLE_ENDIAN && size > 1) {
    if (b === bytes) b = b.slice();
    for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
  }
  return b.buffer as ArrayBuffer;
}

/** Where a tensor came from, for error messages. */
export interface TensorLabel {
  file: string;
  name: string;
}

/**
 * Decode one tensor's bytes (already length-checked against shape × size) into a HostTensor.
 * `bytes` must be owned by the caller (a ByteSource read): U8/BOOL results keep them without copying.
 * F16/BF16 → float32; I64/U64 → int32/uint32 or a CheckpointError when a value does not fit.
 */
export function decodeTensor(dtype: SafetensorsDtype, shape: number[], bytes: Uint8Array, where: TensorLabel): HostTensor {
  switch (dtype) {
    case "BOOL":
      return { dtype: "bool", shape, data: bytes };
    case "U8":
      return { dtype: "uint8", shape, data: bytes };
    case "I8":
      return { dtype: "int8", shape, data: new Int8Array(aligned(bytes, 1)) };
    case "I16":
      return { dtype: "int16", shape, data: new Int16Array(aligned(bytes, 2)) };
    case "U16":
      return { dtype: "uint16", shape, data: new Uint16Array(aligned(bytes, 2)) };
    case "F16":
      return { dtype: "float32", shape, data: f16ToF32(bytes) };
    case "BF16":
      return { dtype: "float32", shape, data: bf16ToF32(bytes) };
    case "I32":
      return { dtype: "int32", shape, data: new Int32Array(aligned(bytes, 4)) };
    case "U32":
      return { dtype: "uint32", shape, data: new Uint32Array(aligned(bytes, 4)) };
    case "F32":
      return { dtype: "float32", shape, data: new Float32Array(aligned(bytes, 4)) };
    case "F64":
      return { dtype: "float64", shape, data: new Float64Array(aligned(bytes, 8)) };
    case "I64":
      return { dtype: "int32", shape, data: narrow64(bytes, true, where) as Int32Array };
    case "U64":
      return { dtype: "uint32", shape, data: narrow64(bytes, false, where) as Uint32Array };
    case "F8_E5M2":
    case "F8_E4M3":
      throw new CheckpointError("SAFETENSORS_DTYPE_UNSUPPORTED", `tensor ${where.name} is stored as ${dtype}, which scalpel cannot read`, {
        file: where.file,
        field: where.name,
        fix: "convert the checkpoint to F32, F16 or BF16 (e.g. load it in PyTorch, .to(torch.float16), save_pretrained)",
      });
  }
}

/** 64-bit integers → 32-bit, refusing (not wrapping) any value outside the 32-bit range. */
function narrow64(bytes: Uint8Array, signed: boolean, where: TensorLabel): Int32Array | Uint32Array {
  const n = bytes.byteLength / 8;
  const words = new Uint32Array(aligned(bytes, 4));
  const out = signed ? new Int32Array(n) : new Uint32Array(n);
  // The file is little-endian, so each value is (low word, high word); aligned() byte-swapped each
  // 4-byte word on big-endian hosts, which keeps that word order.
  for (let i = 0; i < n; i++) {
    const lo = words[2 * i]!;
    const hi = words[2 * i + 1]!;
    const fits = signed ? hi === (lo & 0x80000000 ? 0xffffffff : 0) : hi === 0;
    if (!fits) {
      const value = signed ? (BigInt(hi | 0) << 32n) + BigInt(lo) : (BigInt(hi) << 32n) + BigInt(lo);
      throw new CheckpointError(
        "SAFETENSORS_INT64_RANGE",
        `tensor ${where.name} (${signed ? "I64" : "U64"}) holds ${value} at flat index ${i}, outside the 32-bit range scalpel computes in`,
        { file: where.file, field: where.name, fix: "store this tensor as I32 (values must fit in 32 bits) or drop it from the checkpoint" },
      );
    }
    out[i] = lo;
  }
  return out;
}

/** The stored dtype for a host tensor; floats follow `floatDtype` when given. */
export function storedDtype(t: HostTensor, floatDtype?: "F32" | "F16" | "BF16"): SafetensorsDtype {
  switch (t.dtype) {
    case "float32":
      return floatDtype ?? "F32";
    case "float64":
      return floatDtype ?? "F64";
    case "int32":
      return "I32";
    case "int16":
      return "I16";
    case "int8":
      return "I8";
    case "uint8":
      return "U8";
    case "uint16":
      return "U16";
    case "uint32":
      return "U32";
    case "bool":
      return "BOOL";
  }
}

/** Little-endian bytes of `t` stored as `dtype` (one of storedDtype's results). */
export function encodeTensor(t: HostTensor, dtype: SafetensorsDtype): Uint8Array {
  if (dtype === "F16" || dtype === "BF16") {
    const toBits = dtype === "F16" ? f32ToF16Bits : f32ToBf16Bits;
    const src = t.data;
    const out = new Uint8Array(src.length * 2);
    for (let i = 0; i < src.length; i++) {
      const h = toBits(src[i]!);
      out[2 * i] = h & 0xff;
      out[2 * i + 1] = h >>> 8;
    }
    return out;
  }
  if (dtype === "F32" && t.dtype === "float64") return encodeTensor({ dtype: "float32", shape: t.shape, data: Float32Array.from(t.data) }, "F32");
  const d = t.data;
  const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  if (LITTLE_ENDIAN || d.BYTES_PER_ELEMENT === 1) return bytes;
  const out = bytes.slice();
  for (let i = 0; i < out.length; i += d.BYTES_PER_ELEMENT) out.subarray(i, i + d.BYTES_PER_ELEMENT).reverse();
  return out;
}
