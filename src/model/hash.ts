/**
 * Content hash of a model's weights (and config), the key of every cache that depends on the
 * model: evaluation requests, covariance statistics, activation caches. Two models with equal
 * parameters hash equal wherever they came from; a patched model hashes differently from its base.
 * Web Crypto's SHA-256 (Node 20 and browsers alike). Memoised per Model object (weights are
 * immutable).
 */
import { readF32 } from "../tensor/own.js";
import { sha256Hex } from "../util/hash.js";
import type { Model } from "./types.js";

const memo = new WeakMap<Model, Promise<string>>();

export function modelHash(model: Model): Promise<string> {
  let h = memo.get(model);
  if (!h) {
    h = compute(model);
    memo.set(model, h);
  }
  return h;
}

async function compute(model: Model): Promise<string> {
  const { raw: _raw, ...config } = model.config;
  const parts: Uint8Array[] = [new TextEncoder().encode(JSON.stringify(config))];
  for (const name of Object.keys(model.params).sort()) {
    parts.push(new TextEncoder().encode(`\0${name}\0`));
    const data = await readF32(model.params[name]!.ref);
    parts.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return sha256Hex(parts);
}
