/**
 * Engine bootstrap: pick the jax-js device once, at startup. Browser-safe (no Node APIs): Node
 * entry points call `enableNodeThreads()` from ./node-threads.ts first so the Wasm backend gets
 * its worker pool.
 */
import { defaultDevice, init } from "@jax-js/jax";

export type DeviceName = "wasm" | "webgpu" | "cpu";

let started: Promise<DeviceName> | undefined;

/**
 * Start the engine. `prefer: "auto"` takes WebGPU when an implementation is present (browsers, or
 * Node with a WebGPU binding on `navigator.gpu`), else Wasm. Idempotent: later calls return the
 * device chosen by the first.
 */
export function initEngine(prefer: DeviceName | "auto" = "auto"): Promise<DeviceName> {
  started ??= (async () => {
    const available = (await init()) as DeviceName[];
    const order: DeviceName[] = prefer === "auto" ? ["webgpu", "wasm", "cpu"] : [prefer, "wasm", "cpu"];
    const device = order.find((d) => available.includes(d)) ?? "wasm";
    defaultDevice(device);
    return device;
  })();
  return started;
}
