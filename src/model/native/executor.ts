/**
 * Which forward-only work goes to a native executor. Browser-safe: the registry holds whatever a
 * Node entry point registered (onnx-node.ts `enableNativeExecutor`, which the `scalpel` command
 * calls at start); a page registers none and everything runs on jax-js.
 *
 * Callers that only need numbers out of a forward pass (scoring, covariance statistics,
 * generation) ask `nativeFor(model, hooks)`: an executor when one is registered, the model is one
 * createModel made (a loaded checkpoint: not a hooked view, not a test double, and not a
 * weight-patched copy, which would need a compiled graph and a copy of every weight per edit) and
 * the call adds no hook functions; otherwise undefined, and they use Model.forward as before.
 */
import type { Hook, Model } from "../types.js";

export interface HostArray {
  data: Float32Array;
  shape: number[];
}

export interface NativeForwardOptions {
  /** [batch][pos] 1 for real tokens (as ForwardOptions.attentionMask). */
  attentionMask?: number[][];
  /** Hook points to return. */
  cache?: readonly string[];
  /** Added to hook points' activations (broadcastable to them). */
  additions?: Readonly<Record<string, HostArray>>;
  lastOnly?: boolean;
  stopAt?: string;
}

export interface NativeForwardResult {
  /** [batch, pos or 1, vocab]; absent after stopAt. */
  logits?: HostArray;
  cache: Record<string, HostArray>;
}

/** A KV-cached decoding session: prefill once, then one token per row per step. */
export interface NativeDecoder {
  /** Logits of each row's last position, [batch][vocab]. */
  prefill(tokens: number[][], attentionMask: number[][]): Promise<Float32Array[]>;
  step(next: number[]): Promise<Float32Array[]>;
  dispose(): void;
}

export interface NativeExecutor {
  readonly name: string;
  forward(model: Model, tokens: number[][], options?: NativeForwardOptions): Promise<NativeForwardResult>;
  decoder(model: Model): NativeDecoder;
  /** XᵀX of x [n, d] (float32, as a device matmul): covariance statistics' Gram matrices. */
  gram(x: HostArray): Promise<Float32Array>;
  /** Free what was compiled for `model` (called when the model is disposed). */
  release(model: Model): void;
}

let registered: NativeExecutor | undefined;
const eligible = new WeakSet<Model>();

/** createModel's models: what an executor may compile from `params` and `config` alone. */
export function markNativeEligible(model: Model): void {
  eligible.add(model);
}

/** The model is being disposed: the executor frees its compiled sessions. */
export function releaseNative(model: Model): void {
  if (eligible.has(model)) registered?.release(model);
}

const halfWeights = new WeakMap<Model, "float16" | "bfloat16">();

/**
 * The model's weight matrices were read from a float16/bfloat16 checkpoint (loadModel), so their
 * float32 values are exactly representable in it: an executor may keep them in half precision.
 */
export function markHalfWeights(model: Model, dtype: "float16" | "bfloat16"): void {
  halfWeights.set(model, dtype);
}

export function halfWeightsOf(model: Model): "float16" | "bfloat16" | undefined {
  return halfWeights.get(model);
}

/** Register (or, with undefined, remove) the native executor; returns the previous one. */
export function setNativeExecutor(executor: NativeExecutor | undefined): NativeExecutor | undefined {
  const previous = registered;
  registered = executor;
  return previous;
}

/** The executor for this call, or undefined when it must run on jax-js. */
export function nativeFor(model: Model, hooks?: Record<string, Hook>): NativeExecutor | undefined {
  if (!registered || (hooks && Object.keys(hooks).length > 0) || !eligible.has(model)) return undefined;
  return registered;
}
