/**
 * Training an SAE or a transcoder on streamed activations (SAELens `SAETrainer` / `TrainingSAE`):
 *
 *   ReLU:  L = mean_batch ‖ŷ − y‖² + λ_t · mean_batch Σ_i f_i        (f ≥ 0, so Σ f = ‖f‖₁)
 *   TopK:  L = mean_batch ‖ŷ − y‖²                                    (sparsity is k by construction)
 *
 * with the decoder's rows kept at unit norm after every step (SAELens `normalize_sae_decoder`,
 * Anthropic's "Towards Monosemanticity" constraint), so the L1 term cannot be gamed by shrinking
 * f and growing W_dec. λ ramps linearly from 0 over `l1WarmupSteps` (SAELens `l1_warm_up_steps`);
 * the learning rate warms up linearly and then stays constant or follows a cosine (train/schedule.ts).
 * Adam (β = 0.9, 0.999, no weight decay) through the project's one optimiser (train/adamw.ts).
 *
 * Initialisation (SAELens): decoder rows random unit vectors; an SAE's encoder is the decoder's
 * transpose (`init_encoder_as_decoder_transpose`), a transcoder's a Kaiming-uniform matrix; b_enc =
 * 0; b_dec = the mean target of the first batch (`b_dec_init_method: "mean"`). The input is not
 * centred by b_dec (apply_b_dec_to_input false): b_enc absorbs that shift.
 *
 * Dead features: a feature that has not fired for `deadWindowTokens` tokens is dead. At the steps
 * in `resampleAt`, dead features are resampled as in "Towards Monosemanticity" (Bricken et al. 2023,
 * "Neuron resampling"): inputs are drawn with probability ∝ their squared reconstruction error;
 * the decoder row becomes the unit direction of that input's error, the encoder column the unit
 * input direction times 0.2 × the mean norm of the live encoder columns, b_enc 0, and the Adam
 * moments of the touched entries are reset.
 *
 * Validation: every `evalEvery` steps the reconstruction of a held-out activation set (from rows
 * the training never reads) is measured; training stops early when the validation MSE has not
 * improved by 0.1% for `patience` evaluations, and the best dictionary seen is returned.
 *
 * `base` trains a delta transcoder (sae/delta.ts): the base dictionary is frozen and the new one
 * learns the residual y − base(x).
 */
import { blockUntilReady, lax, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import type { Dictionary, DictionaryActivation } from "../model/modules/dictionary.js";
import { checkDictionary } from "../model/modules/dictionary.js";
import { activate, decode, dictionaryArrays, encode, preActivations, topkThresholds, type DictionaryArrays } from "../model/modules/dictionary-math.js";
import type { Arr, Params } from "../model/types.js";
import { disposeTree, readF32 } from "../tensor/own.js";
import { initAdamW, JitAdamW, type AdamWState } from "../train/adamw.js";
import { learningRate } from "../train/schedule.js";
import { deriveSeed, Rng } from "../util/rng.js";
import { ActivationStore, type ActivationBatch, type ActivationSource } from "./activation-store.js";
import { nextMacrotask } from "../util/macrotask.js";

export interface DictionaryTrainOptions {
  kind: "sae" | "transcoder";
  hookIn: string;
  /** Defaults to hookIn for an SAE. */
  hookOut?: string;
  dSae: number;
  activation: DictionaryActivation;
  /** λ of the L1 penalty (ReLU only). */
  l1Coefficient?: number;
  l1WarmupSteps?: number;
  /** Where training activations come from (a live model source or a disk cache). */
  source: ActivationSource;
  /** Held-out activations for validation and early stopping (4096 tokens are read once). */
  validation?: ActivationSource;
  steps: number;
  batchTokens?: number;
  lr?: number;
  lrWarmupSteps?: number;
  /** The cosine's floor as a fraction of lr (1 = constant after warmup, SAELens' default). */
  minLrRatio?: number;
  bufferTokens?: number;
  deadWindowTokens?: number;
  resampleAt?: readonly number[];
  evalEvery?: number;
  patience?: number;
  seed: number;
  /** A frozen dictionary at the same site: train a delta on the residual y − base(x). */
  base?: Dictionary;
  log?: (r: DictionaryStepRecord) => void;
}

export interface DictionaryStepRecord {
  step: number;
  loss: number;
  mse: number;
  l0: number;
  deadFraction: number;
  lr: number;
}

export interface DictionaryTrainResult {
  dictionary: Dictionary;
  steps: number;
  tokens: number;
  history: DictionaryStepRecord[];
  validation: { step: number; mse: number; explainedVariance: number }[];
  stoppedEarly: boolean;
  resampled: { step: number; features: number }[];
  /** Seconds spent in training steps (excluding activation generation), for throughput. */
  stepSeconds: number;
  activationSeconds: number;
}

const NAMES = ["W_enc", "W_dec", "b_enc", "b_dec"] as const;

function unitRows(data: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += data[r * cols + c]! ** 2;
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let c = 0; c < cols; c++) data[r * cols + c]! *= inv;
  }
}

function initParams(o: DictionaryTrainOptions, dIn: number, dOut: number, first: ActivationBatch, baseOut: Float32Array | undefined): Record<(typeof NAMES)[number], Float32Array> {
  const rng = new Rng(deriveSeed(o.seed, "dictionary-init"));
  const W_dec = Float32Array.from({ length: o.dSae * dOut }, () => rng.normal());
  unitRows(W_dec, o.dSae, dOut);
  const W_enc = new Float32Array(dIn * o.dSae);
  if (o.kind === "sae") {
    for (let i = 0; i < o.dSae; i++) for (let d = 0; d < dIn; d++) W_enc[d * o.dSae + i] = W_dec[i * dOut + d]!;
  } else {
    const bound = 1 / Math.sqrt(dIn);
    for (let i = 0; i < W_enc.length; i++) W_enc[i] = rng.uniform(-bound, bound);
  }
  const b_dec = new Float32Array(dOut);
  for (let n = 0; n < first.n; n++) for (let d = 0; d < dOut; d++) b_dec[d]! += (first.y[n * dOut + d]! - (baseOut ? baseOut[n * dOut + d]! : 0)) / first.n;
  return { W_enc, W_dec, b_enc: new Float32Array(o.dSae), b_dec };
}

/** base(x), the frozen base dictionary's output that a delta's target subtracts (consumes x). */
async function baseOutput(base: DictionaryArrays | undefined, activation: DictionaryActivation | undefined, x: Arr): Promise<Arr | undefined> {
  if (!base) {
    x.dispose();
    return undefined;
  }
  return decode(encode(x, base, activation!), base);
}

export async function trainDictionary(o: DictionaryTrainOptions): Promise<DictionaryTrainResult> {
  const hookOut = o.hookOut ?? o.hookIn;
  if (o.kind === "sae" && hookOut !== o.hookIn) throw new RangeError("an SAE reconstructs one hook point: hookOut must equal hookIn");
  const batchTokens = o.batchTokens ?? 1024;
  const bufferTokens = o.bufferTokens ?? Math.max(16384, 4 * batchTokens);
  const store = new ActivationStore(o.source, { bufferTokens, seed: deriveSeed(o.seed, "buffer") });
  const { dIn, dOut } = store;
  if (o.kind === "sae" && !o.source.same) throw new RangeError("an SAE's activation source must read one hook point");
  if (o.base && (o.base.hookIn !== o.hookIn || o.base.hookOut !== hookOut || o.base.dIn !== dIn || o.base.dOut !== dOut)) {
    throw new RangeError(`the base dictionary maps ${o.base.hookIn} → ${o.base.hookOut}; the delta must use the same site`);
  }
  const baseArrays = o.base ? dictionaryArrays(o.base) : undefined;
  const lr = o.lr ?? 1e-3;
  const l1 = o.l1Coefficient ?? 0;
  const deadWindow = o.deadWindowTokens ?? 50_000;
  let activationSeconds = 0;
  const timed = async <T>(f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await f();
    } finally {
      activationSeconds += (performance.now() - t) / 1000;
    }
  };

  // Validation set: fixed activations from held-out rows (one refill's worth, at most 8192 tokens).
  let val: { x: Arr; y: Arr; n: number; variance: number } | undefined;
  if (o.validation) {
    const vstore = new ActivationStore(o.validation, { bufferTokens: 8192, seed: deriveSeed(o.seed, "val") });
    const b = await timed(() => vstore.next(4096));
    const x = np.array(b.x).reshape([b.n, dIn]);
    let y = np.array(b.y).reshape([b.n, dOut]);
    const bo = await baseOutput(baseArrays, o.base?.activation, x.ref);
    if (bo) y = y.sub(bo);
    // Total variance Σ_n ‖y_n − ȳ‖² of the (residual) targets: the explained-variance denominator.
    const variance = (await readF32(np.square(y.ref.sub(y.ref.mean(0))).sum()))[0]!;
    val = { x, y, n: b.n, variance };
  }

  const first = await timed(() => store.next(batchTokens));
  let firstBase: Float32Array | undefined;
  if (baseArrays) firstBase = await readF32((await baseOutput(baseArrays, o.base!.activation, np.array(first.x).reshape([first.n, dIn])))!);
  const init = initParams(o, dIn, dOut, first, firstBase);
  const shapes = { W_enc: [dIn, o.dSae], W_dec: [o.dSae, dOut], b_enc: [o.dSae], b_dec: [dOut] };
  let params: Params = Object.fromEntries(NAMES.map((n) => [n, np.array(init[n]).reshape(shapes[n])]));
  let opt: AdamWState = initAdamW(params);
  const adam = new JitAdamW({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });

  let current: { x: Arr; y: Arr; lambda: number; kth?: Arr } | undefined;
  const lossFn = (p: Params): [Arr, Arr[]] => {
    const { x, y, lambda, kth } = current!;
    const arrays = p as unknown as DictionaryArrays;
    const f = activate(preActivations(x.ref, arrays), o.activation, undefined, kth?.ref);
    const yHat = decode(f.ref, arrays);
    const mse = np.square(yHat.sub(y.ref)).sum(-1).mean();
    const fired = lax.stopGradient(f.ref.greater(0).astype(np.float32));
    const aux = [lax.stopGradient(mse.ref), fired.ref.sum(0), fired.sum(-1).mean()];
    const loss = l1 > 0 && o.activation.type === "relu" ? mse.add(f.sum(-1).mean().mul(lambda)) : (f.dispose(), mse);
    disposeTree(p);
    return [loss, aux];
  };
  const vg = valueAndGrad(lossFn, { hasAux: true });

  const sinceFired = new Float64Array(o.dSae);
  const history: DictionaryStepRecord[] = [];
  const validation: DictionaryTrainResult["validation"] = [];
  const resampled: DictionaryTrainResult["resampled"] = [];
  let best: { mse: number; params: Record<string, Float32Array> } | undefined;
  let sinceBest = 0;
  let stoppedEarly = false;
  let stepSeconds = 0;
  let pending: ActivationBatch | undefined = first;
  let step = 0;
  try {
    while (step < o.steps) {
      await nextMacrotask(); // util/macrotask.ts: lets V8 release what autodiff kept alive
      const batch = pending ?? (await timed(() => store.next(batchTokens)));
      pending = undefined;
      const t0 = performance.now();
      const x = np.array(batch.x).reshape([batch.n, dIn]);
      let y = o.kind === "sae" ? x.ref : np.array(batch.y).reshape([batch.n, dOut]);
      const bo = await baseOutput(baseArrays, o.base?.activation, x.ref);
      if (bo) y = y.sub(bo);
      const lambda = o.l1WarmupSteps ? l1 * Math.min(1, (step + 1) / o.l1WarmupSteps) : l1;
      let kth: Arr | undefined;
      if (o.activation.type === "topk") {
        const pre = await readF32(preActivations(x.ref, params as unknown as DictionaryArrays));
        kth = np.array(topkThresholds(pre, batch.n, o.dSae, o.activation.k)).reshape([batch.n, 1]);
      }
      current = { x, y, lambda, ...(kth ? { kth } : {}) };
      const [[loss, aux], grads] = vg(tree.ref(params as never) as Params) as unknown as [[Arr, Arr[]], Params];
      const rate = learningRate(step, { peak: lr, warmupSteps: o.lrWarmupSteps ?? 0, totalSteps: o.steps, minLrRatio: o.minLrRatio ?? 1 });
      const next = adam.step(params, grads, opt, rate);
      opt = next.state;
      // Unit-norm decoder rows.
      const W_dec = next.params["W_dec"]!;
      const norms = np.sqrt(np.square(W_dec.ref).sum(-1, { keepdims: true })).add(1e-12);
      params = { ...next.params, W_dec: W_dec.div(norms) };
      await blockUntilReady(params);
      const [lossV, mse, firedCounts, l0] = await Promise.all([readF32(loss), readF32(aux[0]!), readF32(aux[1]!), readF32(aux[2]!)]);
      x.dispose();
      y.dispose();
      kth?.dispose();
      stepSeconds += (performance.now() - t0) / 1000;
      step++;
      for (let i = 0; i < o.dSae; i++) sinceFired[i] = firedCounts[i]! > 0 ? 0 : sinceFired[i]! + batch.n;
      const dead = sinceFired.filter((s) => s >= deadWindow).length;
      const rec: DictionaryStepRecord = { step, loss: lossV[0]!, mse: mse[0]!, l0: l0[0]!, deadFraction: dead / o.dSae, lr: rate };
      history.push(rec);
      o.log?.(rec);

      if (o.resampleAt?.includes(step) && dead > 0) {
        const r = await resample(params, opt, sinceFired, deadWindow, await timed(() => store.next(Math.min(4 * batchTokens, bufferTokens / 2))), baseArrays, o, deriveSeed(o.seed, "resample", step));
        params = r.params;
        opt = r.opt;
        resampled.push({ step, features: r.count });
      }

      if (val && o.evalEvery && (step % o.evalEvery === 0 || step === o.steps)) {
        const arrays = params as unknown as DictionaryArrays;
        const err = np.square(decode(encode(val.x.ref, arrays, o.activation), arrays).sub(val.y.ref)).sum();
        const sse = (await readF32(err))[0]!;
        const vmse = sse / val.n;
        validation.push({ step, mse: vmse, explainedVariance: 1 - sse / val.variance });
        if (!best || vmse < best.mse * (1 - 1e-3)) {
          best = { mse: vmse, params: Object.fromEntries(await Promise.all(NAMES.map(async (n) => [n, await readF32(params[n]!.ref)] as const))) };
          sinceBest = 0;
        } else if (o.patience && ++sinceBest >= o.patience) {
          stoppedEarly = true;
          break;
        }
      }
    }
    const finalHost = best && stoppedEarly ? best.params : Object.fromEntries(await Promise.all(NAMES.map(async (n) => [n, await readF32(params[n]!.ref)] as const)));
    const dictionary: Dictionary = {
      kind: o.kind,
      hookIn: o.hookIn,
      hookOut,
      dIn,
      dSae: o.dSae,
      dOut,
      activation: o.activation,
      W_enc: { shape: shapes.W_enc, data: finalHost["W_enc"]! },
      W_dec: { shape: shapes.W_dec, data: finalHost["W_dec"]! },
      b_enc: { shape: shapes.b_enc, data: finalHost["b_enc"]! },
      b_dec: { shape: shapes.b_dec, data: finalHost["b_dec"]! },
      info: { method: o.base ? "delta-transcoder" : o.kind, steps: step, batchTokens, lr, l1Coefficient: l1, seed: o.seed, activation: o.activation },
    };
    checkDictionary(dictionary, "trained dictionary");
    return { dictionary, steps: step, tokens: step * batchTokens, history, validation, stoppedEarly, resampled, stepSeconds, activationSeconds };
  } finally {
    adam.dispose();
    disposeTree(params);
    disposeTree(opt.m);
    disposeTree(opt.v);
    if (val) disposeTree([val.x, val.y]);
    if (baseArrays) disposeTree(baseArrays);
  }
}

/** Neuron resampling (see the file comment); returns new params and optimiser state (inputs consumed). */
async function resample(
  params: Params,
  opt: AdamWState,
  sinceFired: Float64Array,
  deadWindow: number,
  batch: ActivationBatch,
  base: DictionaryArrays | undefined,
  o: DictionaryTrainOptions,
  seed: number,
): Promise<{ params: Params; opt: AdamWState; count: number }> {
  const dead = [...sinceFired.keys()].filter((i) => sinceFired[i]! >= deadWindow);
  const host = Object.fromEntries(await Promise.all(NAMES.map(async (n) => [n, await readF32(params[n]!.ref)] as const))) as Record<string, Float32Array>;
  const dIn = params["W_enc"]!.shape[0]!;
  const dOut = params["W_dec"]!.shape[1]!;
  const dSae = o.dSae;
  const x = np.array(batch.x).reshape([batch.n, dIn]);
  let y = o.kind === "sae" ? x.ref : np.array(batch.y).reshape([batch.n, dOut]);
  if (base) y = y.sub(decode(encode(x.ref, base, o.base!.activation), base));
  const arrays = params as unknown as DictionaryArrays;
  const errArr = y.sub(decode(encode(x.ref, arrays, o.activation), arrays));
  const err = await readF32(errArr);
  x.dispose();
  const weights = Array.from({ length: batch.n }, (_, n) => {
    let s = 0;
    for (let d = 0; d < dOut; d++) s += err[n * dOut + d]! ** 2;
    return s * s;
  });
  const total = weights.reduce((a, b) => a + b, 0);
  const rng = new Rng(seed);
  // Mean norm of the live encoder columns.
  const colNorm = (i: number) => Math.sqrt(Array.from({ length: dIn }, (_, d) => host["W_enc"]![d * dSae + i]! ** 2).reduce((a, b) => a + b, 0));
  const alive = [...sinceFired.keys()].filter((i) => sinceFired[i]! < deadWindow);
  const aliveNorm = alive.length ? alive.reduce((s, i) => s + colNorm(i), 0) / alive.length : 1;
  // Adam moments of the touched entries are reset: first (m) and second (v) moments on the host.
  const moments: Record<string, { m: Float32Array; v: Float32Array }> = {};
  for (const n of ["W_enc", "W_dec", "b_enc"]) moments[n] = { m: await readF32(opt.m[n]!.ref), v: await readF32(opt.v[n]!.ref) };
  const reset = (n: string, at: number) => (moments[n]!.m[at] = moments[n]!.v[at] = 0);
  for (const i of dead) {
    let u = rng.random() * total;
    let j = 0;
    while (j < batch.n - 1 && (u -= weights[j]!) > 0) j++;
    const e = err.subarray(j * dOut, (j + 1) * dOut);
    const xi = batch.x.subarray(j * dIn, (j + 1) * dIn);
    const en = Math.max(Math.hypot(...e), 1e-12);
    const xn = Math.max(Math.hypot(...xi), 1e-12);
    for (let d = 0; d < dOut; d++) host["W_dec"]![i * dOut + d] = e[d]! / en;
    for (let d = 0; d < dIn; d++) host["W_enc"]![d * dSae + i] = (0.2 * aliveNorm * xi[d]!) / xn;
    host["b_enc"]![i] = 0;
    for (let d = 0; d < dOut; d++) reset("W_dec", i * dOut + d);
    for (let d = 0; d < dIn; d++) reset("W_enc", d * dSae + i);
    reset("b_enc", i);
    sinceFired[i] = 0;
  }
  const shapes: Record<string, number[]> = { W_enc: [dIn, dSae], W_dec: [dSae, dOut], b_enc: [dSae], b_dec: [dOut] };
  disposeTree(params);
  const newParams: Params = Object.fromEntries(NAMES.map((n) => [n, np.array(host[n]!).reshape(shapes[n]!)]));
  const m: Params = { ...opt.m };
  const v: Params = { ...opt.v };
  for (const n of ["W_enc", "W_dec", "b_enc"]) {
    m[n]!.dispose();
    v[n]!.dispose();
    m[n] = np.array(moments[n]!.m).reshape(shapes[n]!);
    v[n] = np.array(moments[n]!.v).reshape(shapes[n]!);
  }
  return { params: newParams, opt: { t: opt.t, m, v }, count: dead.length };
}
