/**
 * Blocks of a float32 matrix as separate arrays on the WebGPU device, made without any kernel
 * binding the whole matrix. A WebGPU kernel cannot read a buffer larger than the device's
 * maxStorageBufferBindingSize (webgpu-guard.ts), so slicing such a matrix with an ordinary op is
 * impossible; a buffer-to-buffer copy has no binding and no such limit.
 *
 * - a matrix on the WebGPU device: `copyBufferToBuffer` from its buffer (jax-js `gpuBufferSync`)
 *   into freshly realised arrays, one copy per row block, one per row for a column block;
 * - a matrix on a host device (cpu, wasm; loaders keep oversized matrices there, model/load.ts):
 *   read synchronously and uploaded block by block.
 *
 * Synchronous, so that Model.forward (sync) can build the blocks on first use. Browser-safe.
 */
import { getWebGPUDevice, numpy as np } from "@jax-js/jax";

type Arr = np.Array;

/** Half-open [start, end) ranges of `size` covering 0…n. */
function ranges(n: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += size) out.push([s, Math.min(n, s + size)]);
  return out;
}

/**
 * `a` [rows, cols] (borrowed) cut along `axis` into blocks of `size` (the last may be smaller),
 * each a new array on the WebGPU device, owned by the caller.
 */
export function matrixBlocks(a: Arr, axis: 0 | 1, size: number): Arr[] {
  if (a.ndim !== 2 || a.dtype !== np.float32) throw new TypeError(`matrixBlocks takes a float32 matrix, got ${a.dtype}[${a.shape}]`);
  const [R, C] = a.shape as [number, number];
  const parts = ranges(axis === 0 ? R : C, size);
  const shapeOf = ([lo, hi]: [number, number]) => (axis === 0 ? [hi - lo, C] : [R, hi - lo]);
  if (a.device === "webgpu") {
    const device = getWebGPUDevice();
    const src = a.ref.gpuBufferSync();
    const encoder = device.createCommandEncoder();
    const blocks = parts.map((range) => {
      const [lo, hi] = range;
      // Realising the zeros submits their fill now, so the copies below (submitted after) land on top.
      const block = np.zeros(shapeOf(range));
      const dst = block.ref.gpuBufferSync();
      if (axis === 0) encoder.copyBufferToBuffer(src, 4 * lo * C, dst, 0, 4 * (hi - lo) * C);
      else for (let r = 0; r < R; r++) encoder.copyBufferToBuffer(src, 4 * (r * C + lo), dst, 4 * r * (hi - lo), 4 * (hi - lo));
      return block;
    });
    device.queue.submit([encoder.finish()]);
    return blocks;
  }
  const host = a.ref.dataSync() as Float32Array;
  return parts.map((range) => {
    const [lo, hi] = range;
    let data: Float32Array;
    if (axis === 0) data = host.slice(lo * C, hi * C);
    else {
      const w = hi - lo;
      data = new Float32Array(R * w);
      for (let r = 0; r < R; r++) data.set(host.subarray(r * C + lo, r * C + hi), r * w);
    }
    return np.array(data, { device: "webgpu" }).reshape(shapeOf(range));
  });
}
