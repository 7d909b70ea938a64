/** Training configuration: defaults, validation, and which fields a resume must match. */
import { ConfigError } from "../errors.js";

export interface TrainConfig {
  /** Peak learning rate. */
  lr: number;
  warmupSteps: number;
  /** Optimizer steps of the whole run (the schedule ends here). */
  totalSteps: number;
  /** The cosine decays to lr · minLrRatio. */
  minLrRatio: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Global gradient-norm limit (0 = no clipping). */
  clipNorm: number;
  /** Micro-batches per optimizer step. */
  gradAccumSteps: number;
  /** Rows per micro-batch (an optimizer step sees batchSize · gradAccumSteps rows). */
  batchSize: number;
  seqLen: number;
  /** Evaluate every N steps (0 = never; also after the last step when > 0). */
  evalEvery: number;
  /** Checkpoint every N steps (0 = never; also after the last step when > 0). */
  checkpointEvery: number;
  /** Call the log callback every N steps. */
  logEvery: number;
  seed: number;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  lr: 1e-3,
  warmupSteps: 100,
  totalSteps: 1000,
  minLrRatio: 0.1,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  clipNorm: 1.0,
  gradAccumSteps: 1,
  batchSize: 16,
  seqLen: 64,
  evalEvery: 0,
  checkpointEvery: 0,
  logEvery: 1,
  seed: 0,
};

/** Fields that shape the trajectory: a resume must match them exactly (the others are bookkeeping). */
export const TRAJECTORY_FIELDS = [
  "lr", "warmupSteps", "totalSteps", "minLrRatio", "weightDecay", "beta1", "beta2", "eps",
  "clipNorm", "gradAccumSteps", "batchSize", "seqLen", "seed",
] as const satisfies readonly (keyof TrainConfig)[];

const INTEGER: (keyof TrainConfig)[] = ["warmupSteps", "totalSteps", "gradAccumSteps", "batchSize", "seqLen", "evalEvery", "checkpointEvery", "logEvery", "seed"];

export function resolveTrainConfig(partial: Partial<TrainConfig> = {}): TrainConfig {
  for (const k of Object.keys(partial)) {
    if (!(k in DEFAULT_TRAIN_CONFIG)) throw new ConfigError("UNKNOWN_TRAIN_FIELD", `unknown training config field ${k}`, { field: k, fix: `use one of ${Object.keys(DEFAULT_TRAIN_CONFIG).join(", ")}` });
  }
  const c = { ...DEFAULT_TRAIN_CONFIG, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) } as TrainConfig;
  for (const [k, v] of Object.entries(c) as [keyof TrainConfig, number][]) {
    if (typeof v !== "number" || !Number.isFinite(v)) throw new ConfigError("BAD_TRAIN_FIELD", `${k} must be a finite number, got ${JSON.stringify(v)}`, { field: k });
    if (INTEGER.includes(k) && !Number.isInteger(v)) throw new ConfigError("BAD_TRAIN_FIELD", `${k} must be an integer, got ${v}`, { field: k });
    if (v < 0) throw new ConfigError("BAD_TRAIN_FIELD", `${k} must be ≥ 0, got ${v}`, { field: k });
  }
  for (const k of ["totalSteps", "gradAccumSteps", "batchSize", "seqLen", "logEvery"] as const) {
    if (c[k] < 1) throw new ConfigError("BAD_TRAIN_FIELD", `${k} must be ≥ 1, got ${c[k]}`, { field: k });
  }
  if (c.beta1 >= 1 || c.beta2 >= 1) throw new ConfigError("BAD_TRAIN_FIELD", "beta1 and beta2 must be < 1", { field: c.beta1 >= 1 ? "beta1" : "beta2" });
  if (c.minLrRatio > 1) throw new ConfigError("BAD_TRAIN_FIELD", `minLrRatio must be in [0, 1], got ${c.minLrRatio}`, { field: "minLrRatio" });
  return c;
}
