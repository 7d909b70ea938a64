/**
 * The training loop: next-token cross-entropy, gradient accumulation, global-norm clipping,
 * warmup + cosine schedule, AdamW, periodic evaluation and atomic, exactly resumable checkpoints.
 *
 * Loss of an optimizer step = −(1/N) Σ log p(target) over the N counted targets (loss mask) of all
 * its micro-batches. Each micro-batch contributes −(1/N) Σ_micro log p, with N counted on the host
 * before any forward pass, so the sum of the micro-batch gradients is exactly the gradient of the
 * big batch's mean (HF Trainer divides by the accumulation steps instead, which equals this only
 * when every micro-batch has the same number of counted tokens).
 */
import { blockUntilReady, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import { CheckpointError, ConfigError, UsageError } from "../errors.js";
import { tokenLogprobs } from "../eval/logprobs.js";
import type { Arr, Model, Params } from "../model/types.js";
import { disposeTree, readF32 } from "../tensor/own.js";
import { adamwStep, initAdamW, JitAdamW, type AdamWOptions, type AdamWState } from "./adamw.js";
import { Batcher, type Batch, type TrainDocument } from "./batches.js";
import { latestCheckpoint, loadTrainCheckpoint, saveTrainCheckpoint, type StepRecord, type TrainState } from "./checkpoint.js";
import { clipGradNorm } from "./clip.js";
import { resolveTrainConfig, TRAJECTORY_FIELDS, type TrainConfig } from "./config.js";
import { learningRate } from "./schedule.js";
import { nextMacrotask } from "../util/macrotask.js";

export interface LogEntry extends StepRecord {
  /** Counted target tokens per second over this step (wall clock). */
  tokensPerSec: number;
  /** Milliseconds since train() started (this process). */
  elapsedMs: number;
  /** Forward + backward (and clipping) time of this step, ms. */
  fwdBwdMs: number;
  /** Optimizer update time of this step, ms. */
  optMs: number;
}

export interface TrainOptions {
  model: Model;
  documents: readonly TrainDocument[];
  config?: Partial<TrainConfig>;
  /** Checkpoint folder (needed for checkpointEvery > 0 and resume). */
  checkpointDir?: string;
  /** Continue from the newest checkpoint in checkpointDir (a fresh start when there is none). */
  resume?: boolean;
  evaluate?: (model: Model, step: number) => Promise<Record<string, number>>;
  log?: (entry: LogEntry) => void;
  /** Which parameters receive weight decay (default: ≥ 2 dims). */
  decay?: AdamWOptions["decay"];
  /** Run the AdamW update through jax-js jit (default true; see bench/train-step.ts for the measurement). */
  jitOptimizer?: boolean;
  /** Stop after this many optimizer steps in total (the schedule still ends at totalSteps). */
  stopAtStep?: number;
  /** Keep parameters in a set (constrain/: non-negative weights by projection or reparameterisation). */
  constraint?: TrainConstraint;
}

/**
 * How training keeps parameters in a constraint set. The optimiser works on "trained" parameters,
 * the model computes with "model" weights: W = toModel(V) (a reparameterisation, differentiated
 * through), and/or a projection after every optimiser step. Checkpoints hold the trained
 * parameters (V), so a resume continues exactly; evaluations and the result see W.
 */
export interface TrainConstraint {
  /** Names it in checkpoints: a resume under another constraint is refused. */
  id: string;
  /** V from the model's weights at a fresh start (consumes; untouched names pass through). */
  toTrained?(params: Params): Params;
  /** W from V, differentiable (consumes; untouched names pass through). */
  toModel?(params: Params): Params;
  /** Applied after every optimiser step (consumes). */
  project?(params: Params): Params;
}

export interface TrainResult {
  /** A new model holding the trained parameters (the input model is untouched). */
  model: Model;
  step: number;
  losses: StepRecord[];
  evals: TrainState["evals"];
  /** The checkpoint it resumed from, if any. */
  resumedFrom?: string;
}

/** Mean next-token NLL of one micro-batch, scaled by 1/N (see the file comment); differentiable in params. */
function microLoss(model: Model, params: Params, batch: Batch, invN: number): Arr {
  const { logits, cache } = model.apply(params, batch.inputs, { paddedLogits: true });
  disposeTree(cache);
  const { logprobs, greedy } = tokenLogprobs(logits!, np.array(batch.targets, { dtype: np.int32 }));
  greedy.dispose();
  return logprobs.mul(np.array(batch.mask, { dtype: np.float32 })).sum().mul(-invN);
}

function countTargets(b: Batch): number {
  let n = 0;
  for (const row of b.mask) for (const m of row) n += m;
  return n;
}

function checkResumeConfig(saved: TrainState, config: TrainConfig, fingerprint: string, file: string, constraint?: string): void {
  if ((saved.constraint ?? null) !== (constraint ?? null)) {
    throw new ConfigError("RESUME_CONFIG_MISMATCH", `cannot resume: the checkpoint was trained under constraint ${saved.constraint ?? "none"}, this run asks for ${constraint ?? "none"}`, {
      file, field: "constraint", fix: "resume with the checkpoint's constraint, or start a fresh run in another folder",
    });
  }
  for (const k of TRAJECTORY_FIELDS) {
    if (saved.config[k] !== config[k]) {
      throw new ConfigError("RESUME_CONFIG_MISMATCH", `cannot resume: ${k} is ${config[k]} but the checkpoint was trained with ${saved.config[k]}`, {
        file, field: k, fix: `pass ${k} = ${saved.config[k]}, or start a fresh run in another folder`,
      });
    }
  }
  if (saved.dataFingerprint !== fingerprint) {
    throw new ConfigError("RESUME_DATA_MISMATCH", `cannot resume: the training data differs from the checkpoint's (fingerprint ${fingerprint} vs ${saved.dataFingerprint})`, {
      file, field: "documents", fix: "resume with the same data, or start a fresh run in another folder",
    });
  }
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const config = resolveTrainConfig(options.config);
  const { model } = options;
  if (config.seqLen > model.config.nCtx) {
    throw new ConfigError("SEQ_LEN_TOO_LONG", `seqLen ${config.seqLen} exceeds the model's context window ${model.config.nCtx}`, { field: "seqLen", fix: `use seqLen ≤ ${model.config.nCtx}` });
  }
  if ((config.checkpointEvery > 0 || options.resume) && !options.checkpointDir) {
    throw new UsageError("NO_CHECKPOINT_DIR", "checkpointing and resume need a checkpoint folder", { field: "checkpointDir", fix: "pass checkpointDir" });
  }
  const batcher = new Batcher(options.documents, { seqLen: config.seqLen, seed: config.seed });
  const fingerprint = batcher.fingerprint();
  const adam: AdamWOptions = { beta1: config.beta1, beta2: config.beta2, eps: config.eps, weightDecay: config.weightDecay, decay: options.decay };

  let params: Params;
  let opt: AdamWState;
  let step = 0;
  let losses: StepRecord[] = [];
  let evals: TrainState["evals"] = [];
  let resumedFrom: string | undefined;
  const latest = options.resume ? await latestCheckpoint(options.checkpointDir!) : undefined;
  if (latest) {
    const ck = await loadTrainCheckpoint(latest, model);
    try {
      checkResumeConfig(ck.state, config, fingerprint, `${latest}/state.json`, options.constraint?.id);
      if (!ck.opt && ck.state.step < Math.min(config.totalSteps, options.stopAtStep ?? Infinity)) {
        throw new CheckpointError("OPTIMIZER_STATE", `${latest} holds no optimizer.safetensors, so it can only end a finished run (step ${ck.state.step}), and this run trains on`, {
          file: `${latest}/optimizer.safetensors`, fix: "restore the optimizer state from where the checkpoint was made, or start a fresh run in another folder",
        });
      }
    } catch (e) {
      disposeTree(ck.params);
      if (ck.opt) disposeTree(ck.opt);
      throw e;
    }
    params = ck.params;
    opt = ck.opt ?? initAdamW(params);
    step = ck.state.step;
    batcher.position = ck.state.position;
    losses = ck.state.losses;
    evals = ck.state.evals;
    resumedFrom = latest;
  } else {
    params = tree.ref(model.params as never) as Params;
    if (options.constraint?.toTrained) params = options.constraint.toTrained(params);
    opt = initAdamW(params);
  }
  const constraint = options.constraint;
  const toModel = (p: Params): Params => (constraint?.toModel ? constraint.toModel(p) : p);

  const stateOf = (): TrainState => ({
    version: 1, step, position: batcher.position, config, dataFingerprint: fingerprint,
    rng: { seed: config.seed, epoch: batcher.position.epoch }, losses, evals,
    ...(constraint ? { constraint: constraint.id } : {}),
  });
  /** The model with the current weights W (evaluations), or with the trained parameters V (checkpoints). */
  const withCurrent = (raw = false) => model.withParams(raw ? (tree.ref(params as never) as Params) : toModel(tree.ref(params as never) as Params));
  const start = Date.now();
  const lastStep = Math.min(config.totalSteps, options.stopAtStep ?? Infinity);
  // One traced function for the whole run; the micro-batch it reads is set before each call
  // (non-array arguments are kept out of valueAndGrad's pytree of primals).
  let current: { batch: Batch; invN: number } | undefined;
  const vg = valueAndGrad((p: Params) => microLoss(model, toModel(p), current!.batch, current!.invN));

  const jitOpt = options.jitOptimizer ?? true ? new JitAdamW(adam) : undefined;
  try {
    while (step < lastStep) {
      await nextMacrotask(); // util/macrotask.ts: lets V8 release what autodiff kept alive
      const t0 = performance.now();
      const micro: Batch[] = [];
      for (let k = 0; k < config.gradAccumSteps; k++) micro.push(batcher.next(config.batchSize));
      const counted = micro.reduce((s, b) => s + countTargets(b), 0);
      if (counted === 0) throw new UsageError("NO_TARGETS", `step ${step + 1}: no token of the batch counts in the loss`, { field: "lossMask", fix: "check the loss masks" });
      let loss = 0;
      let grads: Params | undefined;
      for (const b of micro) {
        current = { batch: b, invN: 1 / counted };
        const [value, g] = vg(tree.ref(params as never) as Params) as unknown as [Arr, Params];
        loss += (await readF32(value))[0]!;
        if (!grads) grads = g;
        else {
          const sum: Params = {};
          for (const n of Object.keys(grads)) sum[n] = grads[n]!.add(g[n]!);
          grads = sum;
        }
      }
      const clipped = await clipGradNorm(grads!, config.clipNorm);
      const t1 = performance.now();
      const lr = learningRate(step, { peak: config.lr, warmupSteps: config.warmupSteps, totalSteps: config.totalSteps, minLrRatio: config.minLrRatio });
      const next = jitOpt ? jitOpt.step(params, clipped.grads, opt, lr) : adamwStep(params, clipped.grads, opt, lr, adam);
      params = constraint?.project ? constraint.project(next.params) : next.params;
      opt = next.state;
      await blockUntilReady(params);
      const t2 = performance.now();
      step++;
      const rec: StepRecord = { step, loss, lr, gradNorm: clipped.norm };
      losses.push(rec);
      if (options.log && (step % config.logEvery === 0 || step === lastStep)) {
        options.log({ ...rec, tokensPerSec: (counted * 1000) / (t2 - t0), elapsedMs: Date.now() - start, fwdBwdMs: t1 - t0, optMs: t2 - t1 });
      }
      const final = step === lastStep;
      if (options.evaluate && config.evalEvery > 0 && (step % config.evalEvery === 0 || final)) {
        const m = withCurrent();
        try {
          evals.push({ step, metrics: await options.evaluate(m, step) });
        } finally {
          m.dispose();
        }
      }
      if (config.checkpointEvery > 0 && (step % config.checkpointEvery === 0 || final)) {
        const m = withCurrent(true);
        try {
          await saveTrainCheckpoint(options.checkpointDir!, m, opt, stateOf());
        } finally {
          m.dispose();
        }
      }
    }
  } finally {
    jitOpt?.dispose();
  }
  disposeTree(opt.m);
  disposeTree(opt.v);
  return { model: model.withParams(toModel(params)), step, losses, evals, resumedFrom };
}
