/**
 * LoRA supervised fine-tuning: the base model frozen, only the adapter's A and B trained (AdamW,
 * warmup + cosine, global-norm clipping — the same optimiser pieces as train/loop.ts), loss on the
 * completion tokens (sft-batches.ts). The adapter runs unmerged through hooks during training
 * (model/modules/lora.ts loraPassHooks with traced factors), so dropout acts on the adapter's
 * input only, as PEFT's `lora_dropout` does: h = x·W + s·(dropout(x)·A)·B.
 *
 * Resumable: <checkpointDir>/step-NNNNNNNN/ holds adapter.safetensors (the factors),
 * optimizer.safetensors and state.json, written into a temporary folder and renamed into place.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { blockUntilReady, numpy as np, tree, valueAndGrad } from "@jax-js/jax";
import { ConfigError } from "../errors.js";
import { tokenLogprobs } from "../eval/logprobs.js";
import { writeJsonFile } from "../io/json.js";
import { openSafetensorsFile, writeSafetensors } from "../io/safetensors-file.js";
import { loraPassHooks, loraSites } from "../model/modules/lora.js";
import type { Arr, Model, Params } from "../model/types.js";
import { disposeTree, readF32 } from "../tensor/own.js";
import { deriveSeed, Rng } from "../util/rng.js";
import { adamwStateFromHost, adamwStateToHost, initAdamW, JitAdamW, type AdamWState } from "./adamw.js";
import type { Batch } from "./batches.js";
import { latestCheckpoint, stepDirName, type StepRecord } from "./checkpoint.js";
import { clipGradNorm } from "./clip.js";
import { resolveTrainConfig, TRAJECTORY_FIELDS, type TrainConfig } from "./config.js";
import { initLora, type LoraAdapter } from "./lora.js";
import { learningRate } from "./schedule.js";
import { SftBatcher, sftRows, type SftExample } from "./sft-batches.js";
import { nextMacrotask } from "../util/macrotask.js";

export interface LoraSpec {
  /** Parameter names or patterns (`blocks.*.mlp.W_in`). */
  targets: string[];
  rank: number;
  alpha: number;
  dropout?: number;
}

export interface LoraTrainOptions {
  model: Model;
  examples: readonly SftExample[];
  lora: LoraSpec;
  /** lr, warmupSteps, totalSteps, batchSize, seed, checkpointEvery, … (train/config.ts); weightDecay defaults to 0 here. */
  config?: Partial<TrainConfig>;
  checkpointDir?: string;
  resume?: boolean;
  /** Stop after this many steps in total (the schedule still ends at totalSteps), e.g. to split a run. */
  stopAtStep?: number;
  log?: (r: StepRecord) => void;
}

export interface LoraTrainResult {
  adapter: LoraAdapter;
  step: number;
  losses: StepRecord[];
  resumedFrom?: string;
}

interface LoraState {
  version: 1;
  step: number;
  position: { epoch: number; cursor: number };
  config: TrainConfig;
  lora: LoraSpec;
  dataFingerprint: string;
  losses: StepRecord[];
}

const key = (name: string, f: "A" | "B") => `${name}.${f}`;

function toParams(adapter: LoraAdapter): Params {
  const p: Params = {};
  for (const [name, f] of Object.entries(adapter.targets)) {
    p[key(name, "A")] = np.array(f.A.data).reshape(f.A.shape);
    p[key(name, "B")] = np.array(f.B.data).reshape(f.B.shape);
  }
  return p;
}

async function toAdapter(template: LoraAdapter, p: Params): Promise<LoraAdapter> {
  const targets: LoraAdapter["targets"] = {};
  for (const [name, f] of Object.entries(template.targets)) {
    targets[name] = {
      A: { shape: f.A.shape, data: await readF32(p[key(name, "A")]!.ref) },
      B: { shape: f.B.shape, data: await readF32(p[key(name, "B")]!.ref) },
    };
  }
  return { ...template, targets };
}

/** An inverted-dropout mask [rows, pos, d] from the step's seed (host-made: one stream per site). */
function dropoutMask(shape: number[], p: number, rng: Rng): Arr {
  const n = shape.reduce((a, b) => a * b, 1);
  const keep = 1 / (1 - p);
  const m = new Float32Array(n);
  for (let i = 0; i < n; i++) m[i] = rng.random() < p ? 0 : keep;
  return np.array(m).reshape(shape);
}

export async function trainLora(options: LoraTrainOptions): Promise<LoraTrainResult> {
  const { model } = options;
  const config = resolveTrainConfig({ weightDecay: 0, ...options.config });
  const spec: LoraSpec = { ...options.lora, dropout: options.lora.dropout ?? 0 };
  if (!(spec.dropout! >= 0 && spec.dropout! < 1)) throw new ConfigError("LORA_DROPOUT", `dropout must be in [0, 1), got ${spec.dropout}`, { field: "lora.dropout" });
  const tok = model.tokenizer;
  const batcher = new SftBatcher(sftRows(tok, options.examples, model.config.nCtx), config.seed, tok.padId ?? tok.eosId ?? 0);
  const fingerprint = batcher.fingerprint();
  const template = initLora(model, { ...spec, seed: deriveSeed(config.seed, "lora-init") });
  const sites = loraSites(model, template);

  let params: Params;
  let opt: AdamWState;
  let step = 0;
  let losses: StepRecord[] = [];
  let resumedFrom: string | undefined;
  const latest = options.resume && options.checkpointDir ? await latestCheckpoint(options.checkpointDir) : undefined;
  if (latest) {
    const state = JSON.parse(await fs.readFile(path.join(latest, "state.json"), "utf8")) as LoraState;
    const file = path.join(latest, "state.json");
    for (const k of TRAJECTORY_FIELDS) {
      if (state.config[k] !== config[k]) throw new ConfigError("RESUME_CONFIG_MISMATCH", `cannot resume: ${k} is ${config[k]} but the checkpoint was trained with ${state.config[k]}`, { file, field: k, fix: "resume with the same settings, or start in another folder" });
    }
    if (JSON.stringify(state.lora) !== JSON.stringify(spec)) throw new ConfigError("RESUME_CONFIG_MISMATCH", "cannot resume: the LoRA targets, rank, alpha or dropout differ from the checkpoint's", { file, field: "lora", fix: "resume with the same adapter settings" });
    if (state.dataFingerprint !== fingerprint) throw new ConfigError("RESUME_DATA_MISMATCH", "cannot resume: the fine-tuning examples differ from the checkpoint's", { file, field: "examples" });
    params = await readTensors(path.join(latest, "adapter.safetensors"));
    const optReader = await openSafetensorsFile(path.join(latest, "optimizer.safetensors"));
    try {
      const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const n of optReader.names()) tensors[n] = await optReader.readF32(n);
      opt = adamwStateFromHost(Number(optReader.metadata?.["t"]), tensors, Object.keys(params));
    } finally {
      await optReader.close();
    }
    step = state.step;
    batcher.position = state.position;
    losses = state.losses;
    resumedFrom = latest;
  } else {
    params = toParams(template);
    opt = initAdamW(params);
  }

  let current: { batch: Batch; invN: number; rng: Rng } | undefined;
  const loss = (p: Params): Arr => {
    const { batch, invN, rng } = current!;
    const hooks = loraPassHooks(
      sites.map((s) => ({
        ...s,
        A: () => p[key(s.name, "A")]!.ref,
        B: () => p[key(s.name, "B")]!.ref,
        ...(spec.dropout ? { dropout: (x: Arr) => x.mul(dropoutMask(x.shape, spec.dropout!, rng)) } : {}),
      })),
    );
    const { logits } = model.forward(batch.inputs, { hooks, paddedLogits: true });
    disposeTree(p);
    const { logprobs, greedy } = tokenLogprobs(logits!, np.array(batch.targets, { dtype: np.int32 }));
    greedy.dispose();
    return logprobs.mul(np.array(batch.mask, { dtype: np.float32 })).sum().mul(-invN);
  };
  const vg = valueAndGrad(loss);
  const jitOpt = new JitAdamW({ beta1: config.beta1, beta2: config.beta2, eps: config.eps, weightDecay: config.weightDecay });
  try {
    const lastStep = Math.min(config.totalSteps, options.stopAtStep ?? Infinity);
    while (step < lastStep) {
      await nextMacrotask(); // util/macrotask.ts: lets V8 release what autodiff kept alive
      const batch = batcher.next(config.batchSize);
      const counted = batch.mask.reduce((s, r) => s + r.reduce((a, b) => a + b, 0), 0);
      current = { batch, invN: 1 / Math.max(1, counted), rng: new Rng(deriveSeed(config.seed, "lora-dropout", step)) };
      const [value, grads] = vg(tree.ref(params as never) as Params) as unknown as [Arr, Params];
      const clipped = await clipGradNorm(grads, config.clipNorm);
      const lr = learningRate(step, { peak: config.lr, warmupSteps: config.warmupSteps, totalSteps: config.totalSteps, minLrRatio: config.minLrRatio });
      const next = jitOpt.step(params, clipped.grads, opt, lr);
      params = next.params;
      opt = next.state;
      await blockUntilReady(params);
      step++;
      const rec: StepRecord = { step, loss: (await readF32(value))[0]!, lr, gradNorm: clipped.norm };
      losses.push(rec);
      options.log?.(rec);
      if (options.checkpointDir && config.checkpointEvery > 0 && (step % config.checkpointEvery === 0 || step === lastStep)) {
        await saveLoraCheckpoint(options.checkpointDir, params, opt, { version: 1, step, position: batcher.position, config, lora: spec, dataFingerprint: fingerprint, losses });
      }
    }
  } finally {
    jitOpt.dispose();
  }
  const adapter = await toAdapter({ ...template, info: { method: "lora", config: { ...spec, ...config }, seed: config.seed, steps: step } }, params);
  disposeTree(params);
  disposeTree(opt.m);
  disposeTree(opt.v);
  return { adapter, step, losses, ...(resumedFrom ? { resumedFrom } : {}) };
}

async function readTensors(file: string): Promise<Params> {
  const r = await openSafetensorsFile(file);
  try {
    const out: Params = {};
    for (const n of r.names()) {
      const t = await r.readF32(n);
      out[n] = np.array(t.data).reshape(t.shape);
    }
    return out;
  } finally {
    await r.close();
  }
}

async function saveLoraCheckpoint(dir: string, params: Params, opt: AdamWState, state: LoraState): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const final = path.join(dir, stepDirName(state.step));
  const tmp = `${final}.tmp-${process.pid}`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp);
  const tensors: Record<string, { dtype: "float32"; shape: number[]; data: Float32Array }> = {};
  for (const [n, a] of Object.entries(params)) tensors[n] = { dtype: "float32", shape: [...a.shape], data: await readF32(a.ref) };
  await writeSafetensors(path.join(tmp, "adapter.safetensors"), tensors);
  const host = await adamwStateToHost(opt);
  await writeSafetensors(path.join(tmp, "optimizer.safetensors"), host.tensors, { t: String(host.t) });
  await writeJsonFile(path.join(tmp, "state.json"), state);
  await fs.rm(final, { recursive: true, force: true });
  await fs.rename(tmp, final);
}
