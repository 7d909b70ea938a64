/**
 * The native forward executor (Node): the model's forward exported as an ONNX graph
 * (export-forward.ts) and run by onnxruntime-node's CPU kernels (native BLAS, not Wasm SIMD:
 * ENGINE-NOTES.md measured 0.8× PyTorch's forward against jax-js's ~5×). Forward-only: requested
 * hook points come back as host arrays, additive interventions go in as inputs; arbitrary hook
 * functions and gradients stay on jax-js (Model.forward).
 *
 * One session per (model, outputs, interventions, lastOnly, stopAt), built on first use and kept
 * as long as the model is alive; ONNX's symbolic batch and length axes serve every shape.
 * Position ids, rotary tables and attention biases are computed on the host by the same functions
 * as forward.ts (mask.ts, rotary.ts), so both paths see identical inputs.
 */
import * as ort from "onnxruntime-node";
import { readF32 } from "../../tensor/own.js";
import { validateForward } from "../forward-checks.js";
import { attentionBiasData, planMask } from "../mask.js";
import { rotaryTableData } from "../rotary.js";
import type { Model } from "../types.js";
import { activationShape, exportForward, type ExportSpec, type HostParams } from "./export-forward.js";
import { encodeModel } from "./onnx-proto.js";

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

interface Compiled {
  params: Promise<HostParams>;
  sessions: Map<string, Promise<ort.InferenceSession>>;
}

const compiled = new WeakMap<Model, Compiled>();

async function hostParams(model: Model): Promise<HostParams> {
  const out: HostParams = {};
  for (const [name, a] of Object.entries(model.params)) out[name] = { data: await readF32(a.ref), shape: a.shape.slice() };
  return out;
}

function sessionFor(model: Model, spec: ExportSpec): Promise<ort.InferenceSession> {
  let c = compiled.get(model);
  if (!c) {
    c = { params: hostParams(model), sessions: new Map() };
    compiled.set(model, c);
  }
  const key = JSON.stringify([[...(spec.outputs ?? [])].sort(), [...(spec.additions ?? [])].sort(), spec.lastOnly ?? false, spec.stopAt ?? null]);
  let s = c.sessions.get(key);
  if (!s) {
    const params = c.params;
    s = (async () => {
      const bytes = encodeModel(exportForward(model.config, await params, spec));
      return ort.InferenceSession.create(bytes, { graphOptimizationLevel: "all", executionMode: "sequential" });
    })();
    c.sessions.set(key, s);
    s.catch(() => c!.sessions.delete(key));
  }
  return s;
}

/** One forward pass of `tokens` (equal-length rows) through the native executor. */
export async function nativeForward(model: Model, tokens: number[][], options: NativeForwardOptions = {}): Promise<NativeForwardResult> {
  const { config } = model;
  const cache = options.cache ?? [];
  const additions = options.additions ?? {};
  validateForward(config, tokens, { cache: [...cache], ...(options.attentionMask ? { attentionMask: options.attentionMask } : {}), ...(options.stopAt ? { stopAt: options.stopAt } : {}) });
  const spec: ExportSpec = { outputs: cache, additions: Object.keys(additions), ...(options.lastOnly ? { lastOnly: true } : {}), ...(options.stopAt ? { stopAt: options.stopAt } : {}) };
  const session = await sessionFor(model, spec);

  const batch = tokens.length;
  const len = tokens[0]!.length;
  const plan = planMask(batch, len, 0, undefined, options.attentionMask);
  const feeds: Record<string, ort.Tensor> = {};
  const int64 = (rows: number[][]) => new ort.Tensor("int64", BigInt64Array.from(rows.flat(), (v) => BigInt(v)), [batch, len]);
  const float = (a: HostArray) => new ort.Tensor("float32", a.data, a.shape);
  feeds.ids = int64(tokens);
  if (config.positional === "learned") feeds.pos = int64(plan.positionIds);
  else {
    const { cos, sin, shape } = rotaryTableData(config, plan.positionIds);
    feeds.cos = float({ data: cos, shape });
    feeds.sin = float({ data: sin, shape });
  }
  const names = new Set(session.inputNames);
  if (names.has("bias_full")) feeds.bias_full = float(attentionBiasData(plan));
  if (names.has("bias_window")) feeds.bias_window = float(attentionBiasData(plan, config.slidingWindow));
  for (const [hook, a] of Object.entries(additions)) {
    // numpy broadcasting: leading axes of size 1 up to the activation's rank ([d] → [1, 1, d]).
    const rank = activationShape(config, hook).length;
    feeds[`add:${hook}`] = float({ data: a.data, shape: [...new Array<number>(Math.max(0, rank - a.shape.length)).fill(1), ...a.shape] });
  }

  const out = await session.run(feeds);
  const host = (t: ort.Tensor): HostArray => ({ data: t.data as Float32Array, shape: t.dims.slice() });
  const result: NativeForwardResult = { cache: {} };
  if (out.logits) result.logits = host(out.logits);
  for (const hook of cache) result.cache[hook] = host(out[`hook:${hook}`]!);
  return result;
}
