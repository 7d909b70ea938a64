#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx (no build step).
import { register } from "tsx/esm/api";
register();
const { enableNodeThreads, stopNodeThreads } = await import("../src/tensor/node-threads.ts");
enableNodeThreads();
// --device webgpu|wasm (anywhere on the line): the compute device for everything that runs on jax-js.
const argv = process.argv.slice(2);
const at = argv.indexOf("--device");
const device = at >= 0 ? argv.splice(at, 2)[1] : undefined;
// Forward-only work (scoring, covariance statistics, generation) on onnxruntime's native CPU
// kernels, unless the work was sent to a GPU.
if (device !== "webgpu") {
  const { enableNativeExecutor } = await import("../src/model/native/enable-node.ts");
  enableNativeExecutor();
}
const { main, startDevice } = await import("../src/cli/main.ts");
const code = (await startDevice(device)) ?? (await main(argv));
await stopNodeThreads();
process.exitCode = code;
