/**
 * WebGPU fails quietly: a validation error (a buffer bound past the device's
 * maxStorageBufferBindingSize, an allocation past maxBufferSize) goes to the device's
 * `uncapturederror` event, the command buffer is dropped, and the readback returns zeros. Measured
 * here on Mesa lavapipe (128 MiB binding limit): a GPT-2-small-shaped model (embedding 50257 × 768
 * f32, 154 MB) gave all-zero logits and only a log line. So:
 *
 * - `watchWebGPU` wraps `navigator.gpu.requestAdapter` before jax-js asks for its device, keeps the
 *   device's limits and records its first uncaptured error;
 * - every readback (tensor/own.ts) calls `throwIfWebGPUError`, which turns it into an EngineError;
 * - `checkBufferLimits` refuses, before any kernel runs, a model parameter larger than one binding
 *   can hold, except the vocabulary matrices, which the model splits across buffers
 *   (model/vocab-split.ts).
 *
 * Browser-safe: it touches only the WebGPU API objects it is given.
 */
import { EngineError } from "../errors.js";

interface DeviceLike {
  limits?: { maxStorageBufferBindingSize?: number; maxBufferSize?: number };
  addEventListener?: (type: "uncapturederror", fn: (e: { error?: { message?: string } }) => void) => void;
}
interface AdapterLike {
  requestDevice: (descriptor?: unknown) => Promise<DeviceLike>;
}
interface GpuLike {
  requestAdapter: (options?: unknown) => Promise<AdapterLike | null>;
}

let limits: { maxStorageBufferBindingSize: number; maxBufferSize: number } | undefined;
let firstError: string | undefined;
const watched = new WeakSet<object>();

/** Watch the devices `gpu` hands out from now on (idempotent per `gpu` object). */
export function watchWebGPU(gpu: GpuLike): void {
  if (watched.has(gpu)) return;
  watched.add(gpu);
  const requestAdapter = gpu.requestAdapter.bind(gpu);
  gpu.requestAdapter = async (options) => {
    const adapter = await requestAdapter(options);
    if (!adapter) return adapter;
    const requestDevice = adapter.requestDevice.bind(adapter);
    adapter.requestDevice = async (descriptor) => {
      const device = await requestDevice(descriptor);
      const l = device.limits;
      if (l?.maxStorageBufferBindingSize !== undefined && l.maxBufferSize !== undefined) limits = { maxStorageBufferBindingSize: l.maxStorageBufferBindingSize, maxBufferSize: l.maxBufferSize };
      device.addEventListener?.("uncapturederror", (e) => {
        firstError ??= e.error?.message ?? "WebGPU reported an error";
      });
      return device;
    };
    return adapter;
  };
}

let bindingCap: number | undefined;

/**
 * Treat the device as binding at most `bytes` per buffer (undefined: the device's own limit).
 * Tests use it to split tiny models' vocabularies; it changes what scalpel splits and refuses,
 * not what the device accepts.
 */
export function capWebGPUBindings(bytes: number | undefined): void {
  bindingCap = bytes;
}

/** The limits of the WebGPU device the engine runs on, once it has one (the binding limit capped by capWebGPUBindings). */
export function webgpuLimits(): { maxStorageBufferBindingSize: number; maxBufferSize: number } | undefined {
  if (!limits || bindingCap === undefined) return limits;
  return { ...limits, maxStorageBufferBindingSize: Math.min(limits.maxStorageBufferBindingSize, bindingCap) };
}

/** Throw the first error the WebGPU device reported since the last call (results read since are wrong). */
export function throwIfWebGPUError(): void {
  if (firstError === undefined) return;
  const message = firstError.split("\n")[0]!.trim();
  firstError = undefined;
  throw new EngineError("WEBGPU_ERROR", `the WebGPU device rejected a kernel, so its results are invalid: ${message}`, {
    fix: "a tensor is probably over the device's buffer limits (a large batch of logits, a large vocabulary): use smaller batches, or run on --device wasm (the CPU path)",
  });
}

const mb = (bytes: number) => (bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(0)} MiB` : `${bytes} bytes`);

/**
 * Refuse parameters that one WebGPU binding cannot hold on this device (4 bytes per element),
 * except those named in `split` (the model cuts them into blocks), which must still fit one buffer
 * when they live on the device.
 */
export function checkBufferLimits(params: Record<string, { shape: readonly number[]; device?: string }>, split: ReadonlySet<string> = new Set()): void {
  const l = webgpuLimits();
  if (!l) return;
  for (const [name, p] of Object.entries(params)) {
    const bytes = 4 * p.shape.reduce((a, b) => a * b, 1);
    if (split.has(name)) {
      if (p.device === "webgpu" && bytes > l.maxBufferSize) {
        throw new EngineError("WEBGPU_BUFFER_LIMIT", `${name} ${JSON.stringify(p.shape)} is ${mb(bytes)}, more than this WebGPU device holds in one buffer (maxBufferSize ${mb(l.maxBufferSize)})`, {
          fix: "create it on the host device (np.array(data, { device: \"cpu\" })), as loadModel does: the model copies it to the GPU in blocks",
        });
      }
    } else if (bytes > l.maxStorageBufferBindingSize) {
      throw new EngineError("WEBGPU_BUFFER_LIMIT", `${name} ${JSON.stringify(p.shape)} is ${mb(bytes)}, more than this WebGPU device binds in one buffer (maxStorageBufferBindingSize ${mb(l.maxStorageBufferBindingSize)}); its kernels would return zeros`, {
        fix: "run this model on --device wasm (the CPU path); only the vocabulary matrices (embed.W_E, unembed.W_U) are split across buffers",
      });
    }
  }
}
