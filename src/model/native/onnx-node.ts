/**
 * The native forward executor (Node): the model's forward exported as an ONNX graph
 * (export-forward.ts) and run by onnxruntime-node's CPU kernels (native BLAS, not Wasm SIMD:
 * ENGINE-NOTES.md measured 0.8× PyTorch's forward against jax-js's ~5×). Forward-only: requested
 * hook points come back as host arrays, additive interventions go in as inputs; arbitrary hook
 * functions and gradients stay on jax-js (Model.forward). enable-node.ts registers it (executor.ts)
 * so that scoring, covariance statistics and generation use it; the `scalpel` command does at start.
 *
 * One session per (model, outputs, interventions, lastOnly, stopAt, kv), built on first use and
 * kept as long as the model is alive; ONNX's symbolic batch and length axes serve every shape.
 * Position ids, rotary tables and attention biases are computed on the host by the same functions
 * as forward.ts (mask.ts, rotary.ts), so both paths see identical inputs.
 */
import * as ort from "onnxruntime-node";
import { bf16ToF32, f16ToF32, f32ToBf16Bits, f32ToF16Bits } from "../../tensor/dtypes.js";
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
  sessions: Map<string, Promise<ort.InferenceSession>>;
}

const compiled = new WeakMap<Model, Compiled>();

/**
 * The weights as the sessions' initializers: a half-precision checkpoint's matrices as its own
 * float16/bfloat16 bits, everything else float32. Only where the round trip is exact (a family's
 * fromHF may compute a matrix), so both executors always see the same values. Half weights are
 * widened per call: memory ×0.5, but KV-cached decoding, which reads every weight per token, runs
 * at about half the speed (bench/README.md); SCALPEL_NATIVE_WEIGHTS=float32 chooses speed.
 */
export async function hostParams(model: Model): Promise<HostParams> {
  const half = process.env.SCALPEL_NATIVE_WEIGHTS === "float32" ? undefined : halfWeightsOf(model);
  const out: HostParams = {};
  for (const [name, a] of Object.entries(model.params)) {
    const data = await readF32(a.ref);
    const bits = half && a.ndim >= 2 ? exactHalf(data, half) : undefined;
    out[name] = bits ? { half: bits, dtype: half!, shape: a.shape.slice() } : { data, shape: a.shape.slice() };
  }
  return out;
}

/** `data` as half-precision bits when every value survives the round trip; otherwise undefined. */
function exactHalf(data: Float32Array, dtype: "float16" | "bfloat16"): Uint16Array | undefined {
  const [toBits, fromBytes] = dtype === "float16" ? [f32ToF16Bits, f16ToF32] : [f32ToBf16Bits, bf16ToF32];
  const bits = Uint16Array.from(data, toBits);
  const back = fromBytes(new Uint8Array(bits.buffer));
  for (let i = 0; i < data.length; i++) if (back[i] !== data[i] && !Number.isNaN(data[i])) return undefined;
  return bits;
}

/**
 * Half-precision weights are graph inputs with defaults (export-forward.ts), about which ORT warns
 * once per weight at load ("will not be treated as constant"): that is the intent, so warnings are
 * not printed for those sessions.
 */
const sessionOptions = (params: HostParams): ort.InferenceSession.SessionOptions => ({
  graphOptimizationLevel: "all",
  executionMode: "sequential",
  ...(Object.values(params).some((t) => "half" in t) ? { logSeverityLevel: 3 as const } : {}),
});

function sessionFor(model: Model, spec: ExportSpec): Promise<ort.InferenceSession> {
  let c = compiled.get(model);
  if (!c) {
    c = { params: hostParams(model), sessions: new Map() };
    compiled.set(model, c);
  }
  const key = JSON.stringify([[...(spec.outputs ?? [])].sort(), [...(spec.additions ?? [])].sort(), spec.lastOnly ?? false, spec.stopAt ?? null, spec.kv ?? false]);
  let s = c.sessions.get(key);
  if (!s) {
    const params = c.params;
    s = (async () => {
      const host = await params;
      return ort.InferenceSession.create(encodeModel(exportForward(model.config, host, spec)), sessionOptions(host));
    })();
    const sessions = c.sessions;
    sessions.set(key, s);
    s.catch(() => sessions.delete(key));
  }
  return s;
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

/** Free the sessions compiled for `model`. */
export function releaseSessions(model: Model): void {
  const c = compiled.get(model);
  compiled.delete(model);
  for (const s of c?.sessions.values() ?? []) void s.then((session) => session.release()).catch(() => undefined);
}

/** One forward pass of `tokens` (equal-length rows) through the native executor. */
export async function nativeForward(model: Model, tokens: number[][], options: NativeForwardOptions = {}): Promise<NativeForwardResult> {
  const { config } = model;
  const cache = options.cache ?? [];
  const additions = options.additions ?? {};
  validateForward(config, tokens, { cache: [...cache], ...(options.attentionMask ? { attentionMask: options.attentionMask } : {}), ...(options.stopAt ? { stopAt: options.stopAt } : {}) });
  const spec: ExportSpec = { outputs: cache, additions: Object.keys(additions), ...(options.lastOnly ? { lastOnly: true } : {}), ...(options.stopAt ? { stopAt: options.stopAt } : {}) };
  const session = await sessionFor(model, spec);
  const plan = planMask(tokens.length, tokens[0]!.length, 0, undefined, options.attentionMask);
  const feeds = coreFeeds(model, session, tokens, plan);
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
    const session = await sessionFor(model, { lastOnly: true, kv: true });
    const plan = planMask(tokens.length, tokens[0]!.length, pastLen, pastLen ? keyMask : undefined, mask);
    const feeds = { ...coreFeeds(model, session, tokens, plan), ...past };
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
