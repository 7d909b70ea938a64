#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx (no build step).
import { register } from "tsx/esm/api";
register();
const { enableNodeThreads, stopNodeThreads } = await import("../src/tensor/node-threads.ts");
enableNodeThreads();
const { main } = await import("../src/cli/main.ts");
const code = await main(process.argv.slice(2));
await stopNodeThreads();
process.exitCode = code;
