/** scalpel's public API. The CLI and the web lab use only what is exported here. */
export * from "./errors.js";
export { initEngine, type DeviceName } from "./tensor/engine.js";
export * from "./tensor/own.js";
export * from "./tensor/dtypes.js";
