/**
 * Counts live jax-js Wasm buffers (test helper, not a test). RSS is a coarse leak detector (the Wasm
 * memory never shrinks and the JS heap is collected lazily); counting buffers the backend holds
 * catches a single leaked array per pass. jax-js does not export its backend, so this finds the
 * bundle chunk that defines `getBackend` next to the package entry and wraps the Wasm backend's
 * malloc / incRef / decRef to mirror its reference counts.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

interface WasmBackendLike {
  malloc(...args: unknown[]): number;
  incRef(slot: number): void;
  decRef(slot: number): void;
}

let refs: Map<number, number> | undefined;

async function findGetBackend(): Promise<(device: string) => WasmBackendLike> {
  const entry = fileURLToPath(import.meta.resolve("@jax-js/jax"));
  const dir = path.dirname(entry);
  for (const f of readdirSync(dir).filter((n) => /^backend-.*\.js$/.test(n))) {
    const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as Record<string, unknown>;
    for (const v of Object.values(mod)) if (typeof v === "function" && v.name === "getBackend") return v as (device: string) => WasmBackendLike;
  }
  throw new Error("live-buffers: jax-js's getBackend not found (jax-js version changed?)");
}

/** Start counting (idempotent); returns a function giving the number of live buffers. */
export async function trackLiveBuffers(): Promise<() => number> {
  if (!refs) {
    const counts = new Map<number, number>();
    const be = (await findGetBackend())("wasm");
    const malloc = be.malloc.bind(be);
    const incRef = be.incRef.bind(be);
    const decRef = be.decRef.bind(be);
    be.malloc = (...args: unknown[]) => {
      const slot = malloc(...args);
      counts.set(slot, 1);
      return slot;
    };
    be.incRef = (slot: number) => {
      incRef(slot);
      counts.set(slot, (counts.get(slot) ?? 0) + 1);
    };
    be.decRef = (slot: number) => {
      decRef(slot);
      const r = (counts.get(slot) ?? 1) - 1;
      if (r <= 0) counts.delete(slot);
      else counts.set(slot, r);
    };
    refs = counts;
  }
  const counts = refs;
  return () => counts.size;
}
