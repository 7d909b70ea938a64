/**
 * Reading safetensors files through a ByteSource: the header is parsed and validated once
 * (safetensors-header.ts), then each `read(name)` fetches only that tensor's bytes, so a large
 * checkpoint streams tensor by tensor and is never held in memory twice. Browser-safe.
 */
import { CheckpointError } from "../errors.js";
import { closest } from "../util/closest.js";
import { memorySource, type ByteSource } from "./byte-source.js";
import type { HostTensor } from "./host-tensor.js";
import { parseHeader, readHeaderSize, type SafetensorsHeader } from "./safetensors-header.js";
import { FLOAT_DTYPES, decodeTensor, type SafetensorsDtype } from "./safetensors-dtypes.js";

export interface TensorInfo {
  /** The dtype as stored in the file (read() may widen or narrow it, see HOST_DTYPE_OF). */
  dtype: SafetensorsDtype;
  shape: number[];
}

/** A float tensor in host memory. */
export interface F32HostTensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsReader {
  /** The label used in error messages (usually the path). */
  readonly file: string;
  readonly header: SafetensorsHeader;
  /** `__metadata__`, when present. */
  readonly metadata?: Record<string, string>;
  /** Tensor names in data-offset order. */
  names(): string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  /** The tensor's raw little-endian bytes (exactly its data_offsets range). */
  readBytes(name: string): Promise<Uint8Array>;
  read(name: string): Promise<HostTensor>;
  /** Any float dtype as float32; a CheckpointError (TENSOR_NOT_FLOAT) for integer/bool tensors. */
  readF32(name: string): Promise<F32HostTensor>;
  close(): Promise<void>;
}

/**
 * Parse a safetensors file's header from `source` and return a lazy reader. The reader owns the
 * source: it is closed by `close()`, or at once when the header is invalid.
 */
export async function openSafetensors(source: ByteSource, file: string): Promise<SafetensorsReader> {
  let header: SafetensorsHeader;
  try {
    const n = readHeaderSize(await source.read(0, Math.min(8, source.size)), source.size, file);
    header = parseHeader(await source.read(8, n), source.size, file);
  } catch (e) {
    await source.close();
    throw e;
  }
  return new Reader(source, file, header);
}

/** Decode a whole in-memory safetensors file (e.g. from serializeSafetensors or a fetch). */
export async function parseSafetensors(
  bytes: Uint8Array,
  file: string,
): Promise<{ metadata?: Record<string, string>; tensors: Record<string, HostTensor> }> {
  const reader = await openSafetensors(memorySource(bytes), file);
  const tensors: Record<string, HostTensor> = {};
  for (const name of reader.names()) tensors[name] = await reader.read(name);
  await reader.close();
  return { metadata: reader.metadata, tensors };
}

/** TENSOR_NOT_FOUND with a "did you mean" when a known name is close. */
export function tensorNotFound(name: string, known: readonly string[], file: string): CheckpointError {
  const guess = closest(name, known);
  return new CheckpointError("TENSOR_NOT_FOUND", `no tensor named ${JSON.stringify(name)}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ""}`, {
    file,
    field: name,
    fix: "use one of the checkpoint's tensor names (Checkpoint.tensorNames())",
  });
}

/** Convert a decoded tensor to float32, refusing non-float tensors. */
export function toF32(t: HostTensor, name: string, stored: SafetensorsDtype, file: string): F32HostTensor {
  if (!FLOAT_DTYPES.has(stored)) throw notFloat(name, stored, file);
  if (t.dtype === "float32") return { shape: t.shape, data: t.data };
  return { shape: t.shape, data: Float32Array.from(t.data as Float64Array) };
}

class Reader implements SafetensorsReader {
  readonly metadata?: Record<string, string>;
  private closed = false;

  constructor(
    private readonly source: ByteSource,
    readonly file: string,
    readonly header: SafetensorsHeader,
  ) {
    this.metadata = header.metadata;
  }

  names(): string[] {
    return [...this.header.tensors.keys()];
  }

  has(name: string): boolean {
    return this.header.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.entry(name);
    return { dtype: t.dtype, shape: [...t.shape] };
  }

  async readBytes(name: string): Promise<Uint8Array> {
    const t = this.entry(name);
    if (this.closed) throw new Error(`safetensors reader for ${this.file} is closed`);
    return this.source.read(this.header.dataStart + t.begin, t.end - t.begin);
  }

  async read(name: string): Promise<HostTensor> {
    const t = this.entry(name);
    return decodeTensor(t.dtype, [...t.shape], await this.readBytes(name), { file: this.file, name });
  }

  async readF32(name: string): Promise<F32HostTensor> {
    const t = this.entry(name);
    if (!FLOAT_DTYPES.has(t.dtype)) throw notFloat(name, t.dtype, this.file);
    return toF32(await this.read(name), name, t.dtype, this.file);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.source.close();
  }

  private entry(name: string) {
    const t = this.header.tensors.get(name);
    if (!t) throw tensorNotFound(name, this.names(), this.file);
    return t;
  }
}

function notFloat(name: string, stored: SafetensorsDtype, file: string): CheckpointError {
  return new CheckpointError("TENSOR_NOT_FLOAT", `tensor ${name} is ${stored}, not a float tensor`, {
    file,
    field: name,
    fix: "read it with read(), which keeps integer and bool dtypes",
  });
}
