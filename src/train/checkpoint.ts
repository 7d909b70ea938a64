/**
 * Training checkpoints: <dir>/step-NNNNNNNN/ holds an HF checkpoint of the parameters
 * (config.json, model.safetensors, tokenizer.json — loadable by loadModel and transformers),
 * optimizer.safetensors (AdamW moments, t in the metadata; may be left out of a finished run's last
 * checkpoint, e.g. one committed so that a later stage resumes from it) and state.json (step, data position,
 * config, data fingerprint, loss history). It is written into a temporary sibling folder and
 * renamed into place as the last act, so a folder named step-N is always complete: a process
 * killed mid-write leaves only a stray temporary folder, which the next save removes.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { CheckpointError } from "../errors.js";
import { writeJsonFile } from "../io/json.js";
import { openSafetensorsFile, writeSafetensors } from "../io/safetensors-file.js";
import { loadModel, saveModel } from "../model/load.js";
import type { Model, Params } from "../model/types.js";
import { adamwStateFromHost, adamwStateToHost, type AdamWState } from "./adamw.js";
import type { BatchPosition } from "./batches.js";
import type { TrainConfig } from "./config.js";

export interface StepRecord {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
}

export interface TrainState {
  version: 1;
  /** Optimizer steps done. */
  step: number;
  position: BatchPosition;
  config: TrainConfig;
  dataFingerprint: string;
  /** Batch order is a function of (seed, epoch): this is the whole RNG state. */
  rng: { seed: number; epoch: number };
  losses: StepRecord[];
  evals: { step: number; metrics: Record<string, number> }[];
  /** The parameter constraint trained under (TrainConstraint.id); a resume must match. */
  constraint?: string;
}

const STEP_DIR = /^step-(\d{8})$/;

export function stepDirName(step: number): string {
  return `step-${String(step).padStart(8, "0")}`;
}

/** Save a checkpoint of `model` (the trained params) and optimizer state; returns its folder. */
export async function saveTrainCheckpoint(dir: string, model: Model, opt: AdamWState, state: TrainState): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  for (const e of await fs.readdir(dir)) if (e.startsWith(".tmp-step-")) await fs.rm(path.join(dir, e), { recursive: true, force: true });
  const final = path.join(dir, stepDirName(state.step));
  const tmp = path.join(dir, `.tmp-${stepDirName(state.step)}-${process.pid}-${randomBytes(3).toString("hex")}`);
  await saveModel(model, tmp);
  const host = await adamwStateToHost(opt);
  await writeSafetensors(path.join(tmp, "optimizer.safetensors"), host.tensors, { t: String(host.t) });
  await writeJsonFile(path.join(tmp, "state.json"), state);
  await fs.rm(final, { recursive: true, force: true });
  await fs.rename(tmp, final);
  return final;
}

/** The newest complete checkpoint folder under `dir`, or undefined. */
export async function latestCheckpoint(dir: string): Promise<string | undefined> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch {
    return undefined;
  }
  const steps = entries.filter((e) => STEP_DIR.test(e)).sort();
  for (let i = steps.length - 1; i >= 0; i--) {
    const p = path.join(dir, steps[i]!);
    try {
      await fs.access(path.join(p, "state.json"));
      return p;
    } catch {
      /* incomplete (should not happen with the rename protocol): try an older one */
    }
  }
  return undefined;
}

/**
 * Read a checkpoint: params (in scalpel names, owned by the caller), optimizer state, train state.
 * opt is undefined when the folder holds no optimizer.safetensors (a finished run's weights and state only).
 */
export async function loadTrainCheckpoint(ckptDir: string, like: Model): Promise<{ params: Params; opt?: AdamWState; state: TrainState }> {
  const stateFile = path.join(ckptDir, "state.json");
  let state: TrainState;
  try {
    state = JSON.parse(await fs.readFile(stateFile, "utf8")) as TrainState;
  } catch (e) {
    throw new CheckpointError("TRAIN_STATE_UNREADABLE", `cannot read the training state (${(e as Error).message})`, { file: stateFile, fix: "delete this checkpoint folder to resume from an older one" });
  }
  const loaded = await loadModel(ckptDir, { tokenizer: like.tokenizer });
  const params: Params = {};
  for (const [n, a] of Object.entries(loaded.params)) params[n] = a.ref;
  loaded.dispose();
  const optFile = path.join(ckptDir, "optimizer.safetensors");
  // A finished run's checkpoint may leave its optimizer state out: it is only needed to train on.
  if (!(await fs.stat(optFile).catch(() => undefined))) return { params, state };
  const reader = await openSafetensorsFile(optFile);
  try {
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const n of reader.names()) tensors[n] = await reader.readF32(n);
    const t = Number(reader.metadata?.["t"]);
    if (!Number.isInteger(t)) throw new CheckpointError("OPTIMIZER_STATE", "optimizer.safetensors lacks the step count t in its metadata", { file: optFile });
    return { params, opt: adamwStateFromHost(t, tensors, Object.keys(params)), state };
  } finally {
    await reader.close();
  }
}

