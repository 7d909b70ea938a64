/**
 * Engine bootstrap: pick the jax-js device once, at startup. Browser-safe (no Node APIs): Node
 * entry points call `enableNodeThreads()` from ./node-threads.ts first so the Wasm backend gets
 * its worker pool.
 */
import { defaultDevice, init } from "@jax-js/jax";
import { watchWebGPU } from "./webgpu-guard.js";

export type DeviceName = "wasm" | "webgpu" | "cpu";

let started: Promise<DeviceName> | undefined;
let current: DeviceName | undefined;

/** The device initEngine chose (undefined before it ran). */
export function engineDevice(): DeviceName | undefined {
  return current;
}

/** Whether a WebGPU implementation is present (browsers; Node only with a binding on navigator.gpu). */
function webgpuPresent(): boolean {
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  return nav !== undefined && nav.gpu !== undefined;
}

/**
 * Start the engine. `prefer: "auto"` takes WebGPU when an implementation is present, else Wasm;
 * `{ device }` is the same as passing the name. Idempotent: later calls return the device chosen
 * by the first. In Node, WebGPU needs node-webgpu.ts's `enableNodeWebGPU()` first.
 */
export function initEngine(options: DeviceName | "auto" | { device: DeviceName | "auto" } = "auto"): Promise<DeviceName> {
  const prefer = typeof options === "string" ? options : options.device;
  started ??= (async () => {
    // Only probe WebGPU where it can exist: jax-js's probe reads `navigator`, which Node 20 lacks.
    const wanted: DeviceName[] = webgpuPresent() && (prefer === "auto" || prefer === "webgpu") ? ["webgpu", "wasm"] : ["wasm"];
    // Before jax-js asks for its device: WebGPU reports errors as events, not exceptions (webgpu-guard.ts).
    if (wanted.includes("webgpu")) watchWebGPU((globalThis as unknown as { navigator: { gpu: Parameters<typeof watchWebGPU>[0] } }).navigator.gpu);
    const available = (await init(...wanted)) as DeviceName[];
    const order: DeviceName[] = prefer === "auto" ? ["webgpu", "wasm", "cpu"] : [prefer, "wasm", "cpu"];
    const device = order.find((d) => available.includes(d)) ?? "wasm";
    defaultDevice(device);
    current = device;
    return device;
  })();
  return started;
}
