/**
 * Helpers for jax-js's ownership rule: every function consumes its array arguments, `x.ref` adds a
 * reference, and an array nobody consumes leaks (there is no garbage-collector safety net).
 *
 * Conventions used across scalpel:
 * - Long-lived arrays (model params, steering vectors) are *borrowed*: pass `borrow(x)`, never `x`.
 * - Functions that take arrays consume them, as jax-js's own do.
 * - Reading a result to JS goes through `readF32` / `readI32`, which consume the array.
 */
import { numpy as np, tree } from "@jax-js/jax";
import { throwIfWebGPUError } from "./webgpu-guard.js";

export type Arr = np.Array;

/** A new reference to a long-lived array, to pass into a consuming function. */
export function borrow<T extends Arr>(x: T): T {
  return x.ref;
}

/** New references to every array in a tree (params, caches). */
export function borrowTree<T>(t: T): T {
  return tree.ref(t as never) as T;
}

/** Dispose every array in a tree (params of a model being dropped, a KV cache, a patch). */
export function disposeTree(t: unknown): void {
  tree.dispose(t as never);
}

/** Read an array into a Float32Array and release it. Async reads use the worker pool. */
export async function readF32(x: Arr): Promise<Float32Array> {
  const data = await x.astype(np.float32).data();
  throwIfWebGPUError();
  return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
}

/** Read an array into an Int32Array and release it. */
export async function readI32(x: Arr): Promise<Int32Array> {
  const data = await x.astype(np.int32).data();
  throwIfWebGPUError();
  return data instanceof Int32Array ? data : Int32Array.from(data as ArrayLike<number>);
}

/** Synchronous variant of readF32 (single-threaded; for small arrays and hot JS loops). */
export function readF32Sync(x: Arr): Float32Array {
  const data = x.astype(np.float32).dataSync();
  throwIfWebGPUError();
  return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
}

/**
 * Run `fn` and dispose the listed arrays afterwards even if it throws. For arrays a function
 * receives but does not pass on (the "ignored argument" case in jax-js's docs).
 */
export function usingArrays<R>(arrays: Arr[], fn: () => R): R {
  try {
    return fn();
  } finally {
    for (const a of arrays) a.dispose();
  }
}
