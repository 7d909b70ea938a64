/**
 * MEND meta-training (Mitchell et al. 2022 Alg. 1; EasyEdit easyeditor/trainer/EditTrainer.py
 * edit_step / BaseTrainer.train_step, eric-mitchell/mend trainer.py), resumable.
 *
 * Per step, for a batch of training edits (x_e, y_e) with an equivalence example x'_e (the zsRE
 * rephrase) and a locality input x_loc:
 *   u, δ  = factors of ∇_W L(x_e, y_e) on the unedited model (constants: no second-order terms)
 *   ΔW_ℓ  = −α_ℓ Σ_t ũ_t δ̃_tᵀ,   (ũ, δ̃) = g_ℓ(u, δ)   — depends on the network and α (mend.ts)
 *   L_e   = NLL of y_e after x'_e under W + ΔW                       (edit_outer; losses.py nll)
 *   L_loc = KL(p_θ(·|x_loc) ‖ p_θ̃(·|x_loc)), masked mean over x_loc's tokens  (losses.kl_loc_loss)
 *   L     = c_edit·L_e + c_loc·L_loc
 * gradients of L / accumulate_bs summed over accumulate_bs steps, clipped to grad_clip (global norm
 * over the network and the edit lrs, clip_grad_norm_), then Adam (torch defaults) on the network
 * with lr and on the edit lrs with lr_lr. The network's running statistics are updated by every
 * training edit (training mode), never by validation.
 * Validation (as the reference's val_interval / early_stop_key "edit/acc_val"): post-edit token
 * accuracy of y_e after x'_e on held-out records; the best network is kept and training stops after
 * early_stop_patience steps without improvement.
 * Resumable: a checkpoint (network, statistics, Adam moments, accumulated gradients, best network,
 * step) is saved every checkpointEvery steps; the data order is a pure function of (seed, epoch), so
 * a resumed run continues bit for bit.
 *
 * Differences from the reference, on purpose: the optimiser steps after every accumulate_bs
 * iterations (the reference's first step comes after accumulate_bs + 1, a counter quirk); cbase /
 * train_base are not implemented (train_base is False in every EasyEdit MEND config).
 */
import { numpy as np, nn, valueAndGrad } from "@jax-js/jax";
import type { EditCase } from "../data/editing/case.js";
import type { Arr, Model, Params } from "../model/types.js";
import { disposeTree, readF32 } from "../tensor/own.js";
import { deriveSeed, Rng } from "../util/rng.js";
import { defaultInnerParams, mendFactors, requestBatch, teacherForced, batchNll, mendDeltas, nllPositions, type TfBatch } from "./mend.js";
import { idmlpForward, initMendNetwork, modeOf, networkInput, netTensorNames, splitFactors, type MendNetConfig, type MendNetwork } from "./mend-net.js";
import { nextMacrotask } from "../util/macrotask.js";

/** Training options, EasyEdit hparams/TRAINING/MEND names in comments; defaults are EasyEdit's. */
export interface MendTrainOptions {
  innerParams?: string[]; // inner_params (default: W_in, W_out of the last 3 layers)
  net?: Partial<MendNetConfig>; // n_hidden 1, rank 1920, norm true
  lr?: number; // lr 1e-6
  editLr?: number; // edit_lr 1e-4
  lrLr?: number; // lr_lr 1e-4
  cEdit?: number; // cedit 0.1
  cLoc?: number; // cloc 1.0
  batchSize?: number; // batch_size 1 (edits per step)
  accumulateBs?: number; // accumulate_bs 10
  gradClip?: number; // grad_clip 100
  maxIters?: number; // max_iters
  valInterval?: number; // val_interval (0: no validation)
  valSteps?: number; // val_steps: validation records used
  earlyStopPatience?: number; // early_stop_patience (steps)
  seed?: number; // seed 42
  checkpointEvery?: number; // model_save_pt
  checkpoint?: MendCheckpointStore;
  /** Stop (as if killed) after this step, leaving the checkpoint (tests of resume). */
  stopAtStep?: number;
  onStep?: (s: MendStepLog) => void;
}

export interface MendStepLog {
  step: number;
  loss: number;
  lossEdit: number;
  lossLoc: number;
  valAcc?: number;
  seconds: number;
}

/** Adam moments for a list of host vectors (torch.optim.Adam, β = (0.9, 0.999), ε = 1e-8). */
export interface AdamState {
  m: Float32Array[];
  v: Float32Array[];
  t: number;
}

/** Everything a resumed run needs. */
export interface MendTrainState {
  step: number;
  net: MendNetwork;
  adam: AdamState;
  lrAdam: AdamState;
  /** Gradients summed since the last optimiser step (network tensors, then the edit lrs). */
  accum: Float32Array[];
  best: { acc: number; step: number; net: MendNetwork } | null;
  history: MendStepLog[];
  done: boolean;
}

export interface MendCheckpointStore {
  load(): Promise<MendTrainState | undefined>;
  save(state: MendTrainState): Promise<void>;
}

export interface MendTrainResult {
  net: MendNetwork;
  steps: number;
  seconds: number;
  /** Validation edit success (rephrase token accuracy after the edit) of the returned network. */
  valAcc?: number;
  history: MendStepLog[];
  stoppedEarly: boolean;
}

/**
 * Settings measured to work on small models such as the built-in one (d_model 192): EasyEdit's are
 * for 7B models (rank 1920, lr 1e-6 …) and do not train a useful network here in a few hundred
 * steps. On models/factworld these reach validation edit success 1.00 after 150 steps (bench/README.md).
 */
export const MEND_SMALL_MODEL: MendTrainOptions = {
  net: { rank: 64, nHidden: 1, norm: true },
  lr: 1e-4,
  editLr: 1e-3,
  lrLr: 1e-3,
  cEdit: 0.1,
  cLoc: 1,
  batchSize: 1,
  accumulateBs: 5,
  gradClip: 100,
  maxIters: 150,
  valInterval: 50,
  valSteps: 36,
  seed: 42,
  checkpointEvery: 50,
};

/** The split of a zsRE-format file MEND trains on: records from `trainFrom`, the last `valCount` for validation (the first 200 stay for evaluation streams). */
export const MEND_SPLIT = { trainFrom: 200, valCount: 36 } as const;

const DEFAULTS = { lr: 1e-6, editLr: 1e-4, lrLr: 1e-4, cEdit: 0.1, cLoc: 1, batchSize: 1, accumulateBs: 10, gradClip: 100, maxIters: 1000, valInterval: 0, valSteps: 50, earlyStopPatience: 20000, seed: 42, checkpointEvery: 100 };

/** The network's trainable tensors in optimiser order: [shape key, tensor name]. */
export function trainableOrder(net: MendNetwork): [string, string][] {
  const out: [string, string][] = [];
  for (const key of Object.keys(net.nets)) for (const t of netTensorNames(net.config.nHidden)) out.push([key, t]);
  return out;
}

export function cloneNetwork(net: MendNetwork): MendNetwork {
  const nets: MendNetwork["nets"] = {};
  for (const [k, n] of Object.entries(net.nets)) {
    nets[k] = {
      xDim: n.xDim, deltaDim: n.deltaDim, nModes: n.nModes,
      params: Object.fromEntries(Object.entries(n.params).map(([t, h]) => [t, { shape: [...h.shape], data: h.data.slice() }])),
      stats: { uMean: n.stats.uMean.slice(), vMean: n.stats.vMean.slice(), uS: n.stats.uS.slice(), vS: n.stats.vS.slice(), k: n.stats.k },
    };
  }
  return { config: { ...net.config }, innerParams: [...net.innerParams], shapes: net.shapes.map((s) => [...s]), editLrs: net.editLrs.slice(), nets };
}

/** torch.optim.Adam on host vectors: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², x ← x − lr·m̂/(√v̂ + ε). */
function adamStep(st: AdamState, xs: Float32Array[], gs: Float32Array[], lr: number): void {
  st.t++;
  const bc1 = 1 - 0.9 ** st.t;
  const bc2 = 1 - 0.999 ** st.t;
  xs.forEach((x, i) => {
    const m = st.m[i]!;
    const v = st.v[i]!;
    const g = gs[i]!;
    for (let j = 0; j < x.length; j++) {
      m[j] = 0.9 * m[j]! + 0.1 * g[j]!;
      v[j] = 0.999 * v[j]! + 0.001 * g[j]! * g[j]!;
      x[j] = x[j]! - (lr * (m[j]! / bc1)) / (Math.sqrt(v[j]! / bc2) + 1e-8);
    }
  });
}

/** A permutation of 0…n−1 for epoch e: a pure function of (seed, e), so resumes see the same order. */
function epochOrder(n: number, seed: number, epoch: number): number[] {
  const rng = new Rng(deriveSeed(seed, "mend-epoch", epoch));
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

function outerBatch(model: Model, cases: readonly EditCase[]): TfBatch {
  return teacherForced(model, cases.map((c) => ({ prompt: c.paraphrasePrompts[0] ?? c.request.prompt.replace("{}", c.request.subject), target: c.request.targetNew })));
}

function locBatch(model: Model, cases: readonly EditCase[]): { tokens: number[][]; mask: number[][] } | null {
  const items = cases.flatMap((c) => c.locality.slice(0, 1));
  if (items.length === 0) return null;
  const b = teacherForced(model, items);
  return { tokens: b.tokens, mask: b.mask };
}

/** Models with every inner matrix replaced (differentiable in `ws`). */
function withInner(model: Model, names: readonly string[], ws: Arr[]): Params {
  const p: Params = {};
  for (const [k, v] of Object.entries(model.params)) if (!names.includes(k)) p[k] = v.ref;
  names.forEach((n, i) => (p[n] = ws[i]!));
  return p;
}

/** Post-edit token accuracy of the outer (rephrase) batch: EasyEdit's edit/acc. */
async function outerAccuracy(model: Model, net: MendNetwork, cases: readonly EditCase[]): Promise<number> {
  const { factors } = await mendFactors(model, net.innerParams, requestBatch(model, cases.map((c) => c.request)));
  const deltas = await mendDeltas(net, factors);
  const ws = net.innerParams.map((n, i) => model.params[n]!.ref.add(np.array(deltas[i]!).reshape(net.shapes[i]!)));
  const ob = outerBatch(model, cases);
  const { logits, cache } = model.apply(withInner(model, net.innerParams, ws), ob.tokens, { attentionMask: ob.mask, paddedLogits: true });
  disposeTree(cache);
  const B = ob.tokens.length;
  const T = ob.tokens[0]!.length;
  const greedy = await readF32(np.argmax(logits!, -1).astype(np.float32).reshape([B * T]));
  let hit = 0;
  let n = 0;
  for (let j = 0; j < B * T; j++) if (ob.weights[j]! > 0) {
    n++;
    if (greedy[j] === ob.targets[j]) hit++;
  }
  return hit / n;
}

/** Validation edit success: mean over validation records, one edit at a time. */
export async function mendValidate(model: Model, net: MendNetwork, cases: readonly EditCase[]): Promise<number> {
  let s = 0;
  for (const c of cases) s += await outerAccuracy(model, net, [c]);
  return s / Math.max(cases.length, 1);
}

export async function trainMend(model: Model, train: readonly EditCase[], val: readonly EditCase[], options: MendTrainOptions = {}): Promise<MendTrainResult> {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & MendTrainOptions;
  if (train.length === 0) throw new RangeError("MEND training needs training records (the train split is empty): give records outside the evaluation range");
  for (const [k, v] of Object.entries({ batchSize: o.batchSize, accumulateBs: o.accumulateBs, maxIters: o.maxIters, checkpointEvery: o.checkpointEvery })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`MEND training option ${k} must be an integer ≥ 1, got ${v}`);
  }
  const names = o.innerParams ?? defaultInnerParams(model.config);
  const shapes = names.map((n) => {
    const p = model.params[n];
    if (!p) throw new RangeError(`MEND inner_params entry ${n} is not a parameter of this model`);
    return [...p.shape];
  });
  const netConfig: MendNetConfig = { nHidden: 1, rank: 1920, norm: true, ...o.net };
  const t0 = performance.now();

  let st = await o.checkpoint?.load();
  if (!st) {
    const net = initMendNetwork(names, shapes, netConfig, o.editLr, o.seed);
    const order = trainableOrder(net);
    const sizes = [...order.map(([k, t]) => net.nets[k]!.params[t]!.data.length), ...names.map(() => 1)];
    const zeros = (xs: number[]) => xs.map((n) => new Float32Array(n));
    st = {
      step: 0, net,
      adam: { m: zeros(sizes.slice(0, order.length)), v: zeros(sizes.slice(0, order.length)), t: 0 },
      lrAdam: { m: zeros(names.map(() => 1)), v: zeros(names.map(() => 1)), t: 0 },
      accum: zeros(sizes), best: null, history: [], done: false,
    };
  } else if (st.net.innerParams.join(",") !== names.join(",")) {
    throw new RangeError(`MEND checkpoint trains ${st.net.innerParams.join(", ")}, this run asks for ${names.join(", ")}: use another checkpoint path or the same inner_params`);
  }
  const net = st.net;
  const order = trainableOrder(net);
  let stoppedEarly = false;

  while (!st.done && st.step < o.maxIters) {
    await nextMacrotask(); // util/macrotask.ts: lets V8 release what autodiff kept alive
    const ts = performance.now();
    const s = st.step;
    const per = Math.max(1, Math.floor(train.length / o.batchSize));
    const epoch = Math.floor(s / per);
    const perm = epochOrder(train.length, o.seed, epoch);
    const at = (s % per) * o.batchSize;
    const cases = perm.slice(at, at + o.batchSize).map((i) => train[i]!);

    // 1. factors on the unedited model; training-mode statistics; network inputs (constants).
    const { factors } = await mendFactors(model, names, requestBatch(model, cases.map((c) => c.request)));
    const inputs = names.map((_, i) => {
      const { key } = modeOf(net, i);
      return networkInput(net.nets[key]!, net.config.norm, factors[i]!.u, factors[i]!.d, factors[i]!.n, true);
    });
    const ob = outerBatch(model, cases);
    const lb = locBatch(model, cases);
    let baseLp: Arr | null = null;
    if (lb) {
      const { logits, cache } = model.forward(lb.tokens, { attentionMask: lb.mask, paddedLogits: true });
      disposeTree(cache);
      baseLp = nn.logSoftmax(logits!, -1);
    }
    const locMask = lb ? np.array(lb.mask.flat()).reshape([lb.tokens.length, lb.tokens[0]!.length]) : null;
    const nLoc = lb ? lb.mask.flat().reduce((a, b) => a + b, 0) : 1;

    // 2. the meta-loss as a function of the network tensors and the edit lrs.
    const lossFn = (flat: Arr[]): [Arr, Arr[]] => {
      const arrs: Record<string, Record<string, Arr>> = {};
      order.forEach(([k, t], j) => ((arrs[k] ??= {})[t] = flat[j]!));
      const used = new Set<string>();
      const ws = names.map((n, i) => {
        const { key, mode } = modeOf(net, i);
        const sn = net.nets[key]!;
        const lr = flat[order.length + i]!;
        const inp = inputs[i]!;
        if (inp.rows === 0) {
          lr.dispose();
          return model.params[n]!.ref;
        }
        used.add(key);
        const p = Object.fromEntries(Object.entries(arrs[key]!).map(([t, a]) => [t, a.ref]));
        const z = idmlpForward(p, np.array(inp.x).reshape([inp.rows, sn.xDim + sn.deltaDim]), net.config.nHidden, mode, sn.nModes);
        const { u, d } = splitFactors(z, sn.xDim, sn.deltaDim);
        return model.params[n]!.ref.add(np.matmul(np.transpose(u), d).mul(lr.mul(-1)));
      });
      for (const a of Object.values(arrs)) disposeTree(a);
      void used;
      const post = model.apply(withInner(model, names, ws.map((w) => w.ref)), ob.tokens, { attentionMask: ob.mask, paddedLogits: true, logitsPositions: nllPositions(ob).positions });
      disposeTree(post.cache);
      const lEdit = batchNll(post.logits!, ob);
      let lLoc: Arr = np.zeros([]);
      if (lb && baseLp && locMask) {
        const r = model.apply(withInner(model, names, ws.map((w) => w.ref)), lb.tokens, { attentionMask: lb.mask, paddedLogits: true });
        disposeTree(r.cache);
        const postLp = nn.logSoftmax(r.logits!, -1);
        // KL(pre ‖ post) per position = Σ_v p_pre (log p_pre − log p_post); masked mean.
        const kl = np.exp(baseLp.ref).mul(baseLp.ref.sub(postLp)).sum(-1);
        lLoc = kl.mul(locMask.ref).sum().div(nLoc);
      }
      disposeTree(ws);
      const total = lEdit.ref.mul(o.cEdit).add(lLoc.ref.mul(o.cLoc)).div(o.accumulateBs);
      return [total, [lEdit, lLoc]];
    };
    const flat = [...order.map(([k, t]) => { const h = net.nets[k]!.params[t]!; return np.array(h.data).reshape(h.shape); }), ...names.map((_, i) => np.array([net.editLrs[i]!]).reshape([]))];
    const [[value, aux], grads] = valueAndGrad(lossFn, { hasAux: true })(flat) as unknown as [[Arr, Arr[]], Arr[]];
    const loss = (await readF32(value))[0]! * o.accumulateBs;
    const lossEdit = (await readF32(aux[0]!))[0]!;
    const lossLoc = (await readF32(aux[1]!))[0]!;
    baseLp?.dispose();
    locMask?.dispose();
    for (let j = 0; j < grads.length; j++) {
      const g = await readF32(grads[j]!);
      const acc = st.accum[j]!;
      for (let q = 0; q < acc.length; q++) acc[q] = acc[q]! + g[q]!;
    }

    // 3. every accumulate_bs steps: clip (global norm) and Adam.
    if ((s + 1) % o.accumulateBs === 0) {
      let sq = 0;
      for (const a of st.accum) for (const x of a) sq += x * x;
      const norm = Math.sqrt(sq);
      if (norm > o.gradClip) {
        const c = o.gradClip / (norm + 1e-6);
        for (const a of st.accum) for (let q = 0; q < a.length; q++) a[q] = a[q]! * c;
      }
      adamStep(st.adam, order.map(([k, t]) => net.nets[k]!.params[t]!.data), st.accum.slice(0, order.length), o.lr);
      const lrs = names.map((_, i) => net.editLrs.subarray(i, i + 1));
      adamStep(st.lrAdam, lrs, st.accum.slice(order.length), o.lrLr);
      for (const a of st.accum) a.fill(0);
    }
    st.step = s + 1;
    const log: MendStepLog = { step: st.step, loss, lossEdit, lossLoc, seconds: (performance.now() - ts) / 1000 };

    // 4. validation and early stopping.
    if (o.valInterval > 0 && val.length > 0 && (st.step % o.valInterval === 0 || st.step === o.maxIters)) {
      log.valAcc = await mendValidate(model, net, val.slice(0, o.valSteps));
      if (!st.best || log.valAcc > st.best.acc) st.best = { acc: log.valAcc, step: st.step, net: cloneNetwork(net) };
      else if (st.step - st.best.step >= o.earlyStopPatience) {
        st.done = true;
        stoppedEarly = true;
      }
    }
    st.history.push(log);
    o.onStep?.(log);
    if (st.step === o.maxIters) st.done = true;
    if (o.checkpoint && (st.step % o.checkpointEvery === 0 || st.done || st.step === o.stopAtStep)) await o.checkpoint.save(st);
    if (o.stopAtStep !== undefined && st.step >= o.stopAtStep && !st.done) break;
  }
  const final = st.best ? st.best.net : net;
  return { net: final, steps: st.step, seconds: (performance.now() - t0) / 1000, valAcc: st.best?.acc, history: st.history, stoppedEarly };
}
