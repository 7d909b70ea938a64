/**
 * WebGPU in Node: give jax-js's WebGPU backend the `navigator.gpu` it looks for, from the npm
 * package `webgpu` (Dawn's Node binding), so that `initEngine("webgpu")` runs kernels on a GPU —
 * the path to models beyond the Wasm backend's 4 GiB. Node-only; only Node entry points import it.
 *
 * On a machine without a GPU, Dawn can use a CPU Vulkan driver (Mesa's lavapipe) for checking
 * correctness; ENGINE-NOTES.md: it needs Mesa ≥ 25 (Debian 12's Mesa 22 is refused with "Vulkan
 * shaderUniform*ArrayDynamicIndexing required"; bookworm-backports has 25).
 */
import { EngineError } from "../errors.js";

let adapterInfo: Promise<string> | undefined;

/** Install navigator.gpu and check that an adapter exists; returns its description. Throws EngineError when none does. */
export function enableNodeWebGPU(): Promise<string> {
  adapterInfo ??= (async () => {
    const { create, globals } = await import("webgpu");
    Object.assign(globalThis, globals); // GPUBufferUsage, GPUMapMode, … which the backend reads
    const gpu = create([]);
    // Node 20 has no navigator; newer Nodes have one without gpu.
    // The backend also reads navigator.userAgent (browser checks).
    const g = globalThis as unknown as { navigator?: { userAgent?: string } };
    g.navigator ??= {};
    if (typeof g.navigator.userAgent !== "string") Object.defineProperty(g.navigator, "userAgent", { value: `Node.js/${process.versions.node}`, configurable: true });
    Object.defineProperty(g.navigator, "gpu", { value: gpu, configurable: true });
    const adapter = await gpu.requestAdapter();
    if (!adapter) {
      throw new EngineError("NO_WEBGPU_ADAPTER", "WebGPU found no adapter (no GPU, and no usable Vulkan driver)", {
        fix: "on a machine without a GPU install Mesa ≥ 25's lavapipe (Debian 12: apt-get install -t bookworm-backports mesa-vulkan-drivers), or run on the default Wasm device",
      });
    }
    const info = (adapter as { info?: { vendor?: string; architecture?: string; device?: string; description?: string } }).info;
    return [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(" ") || "unknown adapter";
  })();
  return adapterInfo;
}
