/**
 * Host-side (Float32Array) tensor helpers for the families' name and layout mapping. Loading and
 * saving happen once, so these favour clarity; they never alias their inputs.
 */
import { CheckpointError } from "../../errors.js";
import type { F32Tensor, HFTensorSource } from "./types.js";

/** Transpose a 2-D tensor: HF Linear weights are [out, in], scalpel matrices are [in, out]. */
export function transpose2d(t: F32Tensor): F32Tensor {
  const [r, c] = t.shape as [number, number];
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j]!;
  return { shape: [c, r], data: out };
}

/** Columns [start, end) of a 2-D tensor, or elements [start, end) of a 1-D one. */
export function sliceLast(t: F32Tensor, start: number, end: number): F32Tensor {
  if (t.shape.length === 1) return { shape: [end - start], data: t.data.slice(start, end) };
  const [r, c] = t.shape as [number, number];
  const w = end - start;
  const out = new Float32Array(r * w);
  for (let i = 0; i < r; i++) out.set(t.data.subarray(i * c + start, i * c + end), i * w);
  return { shape: [r, w], data: out };
}

/** Concatenate along the last axis (inverse of sliceLast). */
export function concatLast(ts: F32Tensor[]): F32Tensor {
  if (ts[0]!.shape.length === 1) {
    const n = ts.reduce((a, t) => a + t.data.length, 0);
    const out = new Float32Array(n);
    let o = 0;
    for (const t of ts) {
      out.set(t.data, o);
      o += t.data.length;
    }
    return { shape: [n], data: out };
  }
  const r = ts[0]!.shape[0]!;
  const widths = ts.map((t) => t.shape[1]!);
  const c = widths.reduce((a, b) => a + b, 0);
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) {
    let o = 0;
    ts.forEach((t, k) => {
      out.set(t.data.subarray(i * widths[k]!, (i + 1) * widths[k]!), i * c + o);
      o += widths[k]!;
    });
  }
  return { shape: [r, c], data: out };
}

export function copy(t: F32Tensor): F32Tensor {
  return { shape: t.shape.slice(), data: t.data.slice() };
}

/** Fetch a tensor that must exist, checking its shape. */
export async function need(source: HFTensorSource, name: string, shape: number[], file = "model.safetensors"): Promise<F32Tensor> {
  if (!source.has(name)) {
    throw new CheckpointError("MISSING_TENSOR", `tensor '${name}' is missing from the checkpoint`, {
      file,
      field: name,
      fix: "use a complete checkpoint whose config.json matches its weights",
    });
  }
  const t = await source.get(name);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new CheckpointError("BAD_TENSOR_SHAPE", `tensor '${name}' has shape [${t.shape}], expected [${shape}] from config.json`, {
      file,
      field: name,
      fix: "check that config.json belongs to these weights",
    });
  }
  return t;
}
