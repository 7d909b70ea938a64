/**
 * The `study:` and `sweep:` blocks of an experiment config. A sweep is a study whose sampler is
 * grid or random and which has no pruner, so both run through the same runner, store and resume.
 */
import type { Direction, Distribution, SearchSpace } from "../../analysis/search/types.js";
import { s, type Infer } from "../schema/schema.js";

const executorField = s.enum(["auto", "inline", "local", "slurm"] as const).default("auto")
  .describeAs("auto = in this process when parallel is 1, worker processes otherwise");
const parallelField = s.int({ min: 1, max: 1024 }).default(1).describeAs("trials run at once (capped by cores and memory)");
const memoryField = s.int({ min: 1 }).default(512).describeAs("memory one worker needs, in MiB; bounds the worker count");

const slurmField = s.nullable(s.object({
  partition: s.nullable(s.string()),
  time_limit: s.nullable(s.string()).describeAs("per trial, e.g. 01:00:00"),
  cpus_per_task: s.int({ min: 1 }).default(1),
  extra_args: s.array(s.string()).default([]).describeAs("more sbatch flags, e.g. [--gres=gpu:1]"),
})).describeAs("sbatch options when executor is slurm");

const distribution = s.tagged({
  float: s.object({ low: s.number(), high: s.number(), log: s.boolean().default(false), step: s.nullable(s.number({ min: 0, exclusiveMin: true })) }),
  int: s.object({ low: s.int(), high: s.int(), log: s.boolean().default(false), step: s.nullable(s.int({ min: 1 })) }),
  categorical: s.object({ choices: s.array(s.scalar(), { minItems: 1 }) }),
});

export const studySchema = s.object({
  name: s.nullable(s.string()).describeAs("study name in the store (default: the config's name)"),
  metric: s.nullable(s.string()).describeAs("summary metric to optimise (default: the kind's objective)"),
  direction: s.nullable(s.enum(["minimize", "maximize"] as const)),
  n_trials: s.int({ min: 1 }).default(20),
  parallel: parallelField,
  executor: executorField,
  memory_per_worker_mb: memoryField,
  slurm: slurmField,
  sampler: s.tagged({
    tpe: s.object({
      n_startup_trials: s.int({ min: 0 }).default(10),
      n_ei_candidates: s.int({ min: 1 }).default(24),
    }),
    random: s.object({}),
    grid: s.object({}),
  }).default({ type: "tpe", n_startup_trials: 10, n_ei_candidates: 24 }),
  pruner: s.tagged({
    none: s.object({}),
    median: s.object({
      n_startup_trials: s.int({ min: 0 }).default(5),
      n_warmup_steps: s.int({ min: 0 }).default(0),
      interval_steps: s.int({ min: 1 }).default(1),
    }),
  }).default({ type: "none" }),
  space: s.record(distribution).describeAs("parameters to search: config field (dotted path) → distribution"),
});

const sweepMetric = s.nullable(s.string()).describeAs("summary metric the sweep ranks runs by (default: the kind's objective)");
const sweepDirection = s.nullable(s.enum(["minimize", "maximize"] as const));

export const sweepSchema = s.tagged({
  grid: s.object({
    values: s.record(s.array(s.scalar(), { minItems: 1 })).describeAs("config field (dotted path) → list of values; every combination runs"),
    parallel: parallelField,
    executor: executorField,
    memory_per_worker_mb: memoryField,
    slurm: slurmField,
    name: s.nullable(s.string()),
    metric: sweepMetric,
    direction: sweepDirection,
  }),
  random: s.object({
    space: s.record(distribution),
    n_trials: s.int({ min: 1 }).default(20),
    parallel: parallelField,
    executor: executorField,
    memory_per_worker_mb: memoryField,
    slurm: slurmField,
    name: s.nullable(s.string()),
    metric: sweepMetric,
    direction: sweepDirection,
  }),
});

export type StudyBlock = Infer<typeof studySchema>;
export type SlurmOptions = NonNullable<Infer<typeof slurmField>>;
export type SweepBlock = Infer<typeof sweepSchema>;

/** A study as the runner and the store see it: fully resolved, kind defaults applied. */
export interface StudySpec {
  name: string;
  metric: string;
  direction: Direction;
  nTrials: number;
  parallel: number;
  executor: "auto" | "inline" | "local" | "slurm";
  memoryPerWorkerMb: number;
  /** sbatch options (executor slurm); absent when the config has none. */
  slurm?: SlurmOptions;
  sampler: { type: string; [option: string]: unknown };
  pruner: { type: string; [option: string]: unknown };
  space: SearchSpace;
}

export function toDistribution(d: Infer<typeof distribution>): Distribution {
  if (d.type === "categorical") return { kind: "categorical", choices: d.choices };
  const out: Extract<Distribution, { kind: "float" | "int" }> = { kind: d.type, low: d.low, high: d.high };
  if (d.log) out.log = true;
  if (d.step !== null) out.step = d.step;
  return out;
}

/** Turn a `sweep:` block into the equivalent study: grid → categorical space + grid sampler. */
export function sweepToStudy(sweep: SweepBlock, defaults: { name: string; metric: string; direction: Direction }): StudySpec {
  const common = {
    name: sweep.name ?? defaults.name,
    metric: sweep.metric ?? defaults.metric,
    direction: sweep.direction ?? defaults.direction,
    parallel: sweep.parallel,
    executor: sweep.executor,
    memoryPerWorkerMb: sweep.memory_per_worker_mb,
    ...(sweep.slurm ? { slurm: sweep.slurm } : {}),
    pruner: { type: "none" },
  };
  if (sweep.type === "grid") {
    const space: SearchSpace = {};
    let n = 1;
    for (const [k, values] of Object.entries(sweep.values)) {
      space[k] = { kind: "categorical", choices: values };
      n *= values.length;
    }
    return { ...common, nTrials: n, sampler: { type: "grid" }, space };
  }
  const space: SearchSpace = {};
  for (const [k, d] of Object.entries(sweep.space)) space[k] = toDistribution(d);
  return { ...common, nTrials: sweep.n_trials, sampler: { type: "random" }, space };
}

export function studyBlockToSpec(block: StudyBlock, defaults: { name: string; metric: string; direction: Direction }): StudySpec {
  const { type: samplerType, ...samplerOpts } = block.sampler;
  const { type: prunerType, ...prunerOpts } = block.pruner;
  const space: SearchSpace = {};
  for (const [k, d] of Object.entries(block.space)) space[k] = toDistribution(d);
  return {
    name: block.name ?? defaults.name,
    metric: block.metric ?? defaults.metric,
    direction: block.direction ?? defaults.direction,
    nTrials: block.n_trials,
    parallel: block.parallel,
    executor: block.executor,
    memoryPerWorkerMb: block.memory_per_worker_mb,
    ...(block.slurm ? { slurm: block.slurm } : {}),
    sampler: { type: samplerType, ...samplerOpts },
    pruner: { type: prunerType, ...prunerOpts },
    space,
  };
}
