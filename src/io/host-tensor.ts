/**
 * A tensor in host memory, row-major: what checkpoint readers return and writers take. Half
 * precision never appears here: F16/BF16 become float32 on read (no float16 arrays in Node 20,
 * ENGINE-NOTES.md) and are produced again on write only when asked (writeSafetensors floatDtype).
 */
export interface HostTensorArrays {
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
  int16: Int16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  /** One byte per element, 0 or 1. */
  bool: Uint8Array;
}

export type HostDtype = keyof HostTensorArrays;

export type HostTensor = {
  [D in HostDtype]: { dtype: D; shape: number[]; data: HostTensorArrays[D] };
}[HostDtype];

/** The typed-array constructor that holds each host dtype. */
export const HOST_ARRAY = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int16: Int16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  bool: Uint8Array,
} as const;

/** Number of elements of a shape (1 for a scalar, shape []). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
