/**
 * The native forward executor (Node): the model's forward exported as an ONNX graph
 * (export-forward.ts) and run by onnxruntime-node's CPU kernels (native BLAS, not Wasm SIMD:
 * ENGINE-NOTES.md measured 0.8× PyTorch's forward against jax-js's ~5×). Forward-only: requested
 * hook points come back as host arrays, additive interventions go in as inputs; arbitrary hook
 * functions and gradients stay on jax-js (Model.forward). enable-node.ts registers it (executor.ts)
 * so that scoring, covariance statistics and generation use it; the `scalpel` command does at start.
 *
 * One session per (model, outputs, interventions, lastOnly, stopAt, kv), built on first use and
 * kept as long as the model is alive; ONNX's symbolic batch and length axes serve every shape. The
 * weights are graph inputs: one host copy per model (float16 for a half checkpoint) is fed to every
 * session, which holds none of its own (bench/README.md: 3 sessions +2.2 GB → +0.4 GB on GPT-2 small).
 * Position ids, rotary tables and attention biases are computed on the host by the same functions
 * as forward.ts (mask.ts, rotary.ts), so both paths see identical inputs.
 */
import * as ort from "onnxruntime-node";
import { f16ToF32, f32ToF16Bits } from "../../tensor/dtypes.js";
import { readF32 } from "../../tensor/own.js";
import { validateForward } from "../forward-checks.js";
import { attentionBiasData, planMask, type MaskPlan } from "../mask.js";
import { rotaryTableData } from "../rotary.js";
import type { Model } from "../types.js";
import { halfWeightsOf, type HostArray, type NativeDecoder, type NativeForwardOptions, type NativeForwardResult } from "./executor.js";
import { activationShape, exportForward, type ExportSpec, type HostParams } from "./export-forward.js";
import { GraphBuilder } from "./graph-builder.js";
import { encodeModel } from "./onnx-proto.js";

interface Compiled {
  params: Promise<HostParams>;
  /** The weights as onnxruntime tensors over the executor's one host copy, fed to every session. */
  weights: Promise<Record<string, ort.Tensor>>;
  sessions: Map<string, Promise<Session>>;
}

/** A compiled graph and the weight feeds among its inputs. */
interface Session {
  session: ort.InferenceSession;
  weights: Record<string, ort.Tensor>;
}

const compiled = new WeakMap<Model, Compiled>();

/**
 * The weights as the sessions read them: the matrices of a half-precision checkpoint as float16,
 * everything else float32. Only where the round trip is exact (a family's fromHF may compute a
 * matrix; a bfloat16 value may lie outside float16's range or precision), so both executors always
 * see the same values. float16, not bfloat16, because onnxruntime-node has no bfloat16 tensors.
 * Half weights are widened per call: memory ×0.5, but KV-cached decoding, which reads every weight
 * per token, runs at 0.78–0.90× of float32 (bench/README.md); SCALPEL_NATIVE_WEIGHTS=float32 chooses speed.
 */
export async function hostParams(model: Model): Promise<HostParams> {
  const half = process.env.SCALPEL_NATIVE_WEIGHTS !== "float32" && halfWeightsOf(model) !== undefined;
  const out: HostParams = {};
  for (const [name, a] of Object.entries(model.params)) {
    const data = await readF32(a.ref);
    const bits = half && a.ndim >= 2 ? exactFloat16(data) : undefined;
    out[name] = bits ? { half: bits, shape: a.shape.slice() } : { data, shape: a.shape.slice() };
  }
  return out;
}

/** `data` as float16 bits when every value survives the round trip; otherwise undefined. */
function exactFloat16(data: Float32Array): Uint16Array | undefined {
  const bits = Uint16Array.from(data, f32ToF16Bits);
  const back = f16ToF32(new Uint8Array(bits.buffer));
  for (let i = 0; i < data.length; i++) if (back[i] !== data[i] && !Number.isNaN(data[i])) return undefined;
  return bits;
}

function sessionFor(model: Model, spec: ExportSpec): Promise<Session> {
  let c = compiled.get(model);
  if (!c) {
    const params = hostParams(model);
    c = { params, weights: params.then(weightTensors), sessions: new Map() };
    compiled.set(model, c);
  }
  const key = JSON.stringify([[...(spec.outputs ?? [])].sort(), [...(spec.additions ?? [])].sort(), spec.lastOnly ?? false, spec.stopAt ?? null, spec.kv ?? false]);
  let s = c.sessions.get(key);
  if (!s) {
    const { params, weights, sessions } = c;
    s = (async () => {
      const graph = exportForward(model.config, await params, spec);
      const session = await ort.InferenceSession.create(encodeModel(graph), { graphOptimizationLevel: "all", executionMode: "sequential" });
      const all = await weights;
      return { session, weights: Object.fromEntries(session.inputNames.filter((n) => n in all).map((n) => [n, all[n]!])) };
    })();
    sessions.set(key, s);
    s.catch(() => sessions.delete(key));
  }
  return s;
}

/** Tensors over the host arrays (no copy): onnxruntime reads them in place on every call. */
function weightTensors(params: HostParams): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(params).map(([n, t]) => [n, "half" in t ? new ort.Tensor("float16", t.half, t.shape) : new ort.Tensor("float32", t.data, t.shape)]));
}

const float = (a: HostArray) => new ort.Tensor("float32", a.data, a.shape);
const host = (t: ort.Tensor): HostArray => ({ data: t.data as Float32Array, shape: t.dims.slice() });

/** ids, positions (or rotary tables) and attention biases of one call, as forward.ts computes them. */
function coreFeeds(model: Model, session: ort.InferenceSession, tokens: number[][], plan: MaskPlan): Record<string, ort.Tensor> {
  const { config } = model;
  const [batch, len] = [plan.batch, plan.len];
  const int64 = (rows: number[][]) => new ort.Tensor("int64", BigInt64Array.from(rows.flat(), (v) => BigInt(v)), [batch, len]);
  const feeds: Record<string, ort.Tensor> = { ids: int64(tokens) };
  if (config.positional === "learned") feeds.pos = int64(plan.positionIds);
  else {
    const { cos, sin, shape } = rotaryTableData(config, plan.positionIds);
    feeds.cos = float({ data: cos, shape });
    feeds.sin = float({ data: sin, shape });
  }
  const names = new Set(session.inputNames);
  if (names.has("bias_full")) feeds.bias_full = float(attentionBiasData(plan));
  if (names.has("bias_window")) feeds.bias_window = float(attentionBiasData(plan, config.slidingWindow));
  return feeds;
}

let gramSession: Promise<ort.InferenceSession> | undefined;

/** XᵀX of x [n, d] on onnxruntime (one MatMul of the transpose; n and d symbolic). */
export async function nativeGram(x: HostArray): Promise<Float32Array> {
  gramSession ??= (() => {
    const g = new GraphBuilder("gram");
    const input = g.input("x", "float", ["n", "d"]);
    g.output(g.matmul(g.transpose(input, [1, 0]), input), "gram", "float", ["d", "d"]);
    return ort.InferenceSession.create(encodeModel(g.graph));
  })();
  const out = await (await gramSession).run({ x: float(x) });
  return out.gram!.data as Float32Array;
}

/** Bytes of weights the executor holds for `model` (one copy, shared by its sessions; 0 before first use). */
export async function nativeWeightBytes(model: Model): Promise<number> {
  const params = compiled.get(model)?.params;
  return params ? Object.values(await params).reduce((n, t) => n + ("half" in t ? t.half.byteLength : t.data.byteLength), 0) : 0;
}

/** Free the sessions compiled for `model`. */
export function releaseSessions(model: Model): void {
  const c = compiled.get(model);
  compiled.delete(model);
  for (const s of c?.sessions.values() ?? []) void s.then(({ session }) => session.release()).catch(() => undefined);
}

/** One forward pass of `tokens` (equal-length rows) through the native executor. */
export async function nativeForward(model: Model, tokens: number[][], options: NativeForwardOptions = {}): Promise<NativeForwardResult> {
  const { config } = model;
  const cache = options.cache ?? [];
  const additions = options.additions ?? {};
  validateForward(config, tokens, { cache: [...cache], ...(options.attentionMask ? { attentionMask: options.attentionMask } : {}), ...(options.stopAt ? { stopAt: options.stopAt } : {}) });
  const spec: ExportSpec = { outputs: cache, additions: Object.keys(additions), ...(options.lastOnly ? { lastOnly: true } : {}), ...(options.stopAt ? { stopAt: options.stopAt } : {}) };
  const { session, weights } = await sessionFor(model, spec);
  const plan = planMask(tokens.length, tokens[0]!.length, 0, undefined, options.attentionMask);
  const feeds = { ...weights, ...coreFeeds(model, session, tokens, plan) };
  for (const [hook, a] of Object.entries(additions)) {
    // numpy broadcasting: leading axes of size 1 up to the activation's rank ([d] → [1, 1, d]).
    const rank = activationShape(config, hook).length;
    feeds[`add:${hook}`] = float({ data: a.data, shape: [...new Array<number>(Math.max(0, rank - a.shape.length)).fill(1), ...a.shape] });
  }
  const out = await session.run(feeds);
  const result: NativeForwardResult = { cache: {} };
  if (out.logits) result.logits = host(out.logits);
  for (const hook of cache) result.cache[hook] = host(out[`hook:${hook}`]!);
  return result;
}

/** KV-cached decoding through the native executor: the keys/values stay in onnxruntime tensors between steps. */
export function nativeDecoder(model: Model): NativeDecoder {
  const { nLayers, nKVHeads, dHead, vocabSize } = model.config;
  let past: Record<string, ort.Tensor> = {};
  let keyMask: number[][] = [];
  let pastLen = 0;
  const run = async (tokens: number[][], mask: number[][]): Promise<Float32Array[]> => {
    const { session, weights } = await sessionFor(model, { lastOnly: true, kv: true });
    const plan = planMask(tokens.length, tokens[0]!.length, pastLen, pastLen ? keyMask : undefined, mask);
    const feeds = { ...weights, ...coreFeeds(model, session, tokens, plan), ...past };
    const out = await session.run(feeds);
    past = {};
    for (let l = 0; l < nLayers; l++) for (const kv of ["k", "v"]) past[`past_${kv}.${l}`] = out[`present_${kv}.${l}`]!;
    keyMask = plan.keyMask;
    pastLen += plan.len;
    const logits = out.logits!.data as Float32Array;
    return tokens.map((_, b) => logits.subarray(b * vocabSize, (b + 1) * vocabSize));
  };
  return {
    prefill(tokens, attentionMask) {
      const empty = new ort.Tensor("float32", new Float32Array(0), [tokens.length, nKVHeads, 0, dHead]);
      past = {};
      for (let l = 0; l < nLayers; l++) past[`past_k.${l}`] = past[`past_v.${l}`] = empty;
      keyMask = [];
      pastLen = 0;
      return run(tokens, attentionMask);
    },
    step: (next) => run(next.map((t) => [t]), next.map(() => [1])),
    dispose() {
      past = {};
    },
  };
}
