#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx (no build step).
import { register } from "tsx/esm/api";
register();
const { enableNodeThreads, stopNodeThreads } = await import("../src/tensor/node-threads.ts");
enableNodeThreads();
// Forward-only work (scoring, covariance statistics, generation) on onnxruntime's native kernels.
const { enableNativeExecutor } = await import("../src/model/native/enable-node.ts");
enableNativeExecutor();
const { main } = await import("../src/cli/main.ts");
const code = await main(process.argv.slice(2));
await stopNodeThreads();
process.exitCode = code;
