/**
 * What an experiment kind is: a config schema (with defaults), a graph of stages and the metric
 * a search optimises. Kinds register themselves (kinds/registry.ts); the runner, the store and
 * the CLI know nothing about any particular kind.
 */
import type { Direction } from "../../analysis/search/types.js";
import type { ObjectSchema } from "../schema/schema.js";

export interface StageContext<C> {
  /** The run's resolved kind config. */
  config: C;
  /** Outputs of the stages listed in `after`, by stage name. */
  inputs: Record<string, unknown>;
  /** The artifact folders of those stages (files they wrote into their `dir`), by stage name. */
  inputDirs: Record<string, string>;
  /** Seed for this stage, derived from the run seed and the stage name. */
  seed: number;
  /**
   * The run seed itself, for stages that must share one stream (two training runs that should see
   * the same batch order); such stages are `seeded`.
   */
  runSeed: number;
  /** A folder inside the artifact being written, for files too big for the JSON output. */
  dir: string;
  /** Record a metric: a series point when `step` is given, a summary value otherwise. */
  metric(name: string, value: number, step?: number): void;
  /** Record one case's results (per-example metrics) — stored as rows, queryable in SQL. */
  caseResult(caseId: string, metrics: Record<string, number>): void;
  /**
   * Report the objective's intermediate value at `step`. Inside a study this consults the pruner
   * and throws `TrialPruned` when it says stop; outside one it only records the series.
   */
  report(step: number, value: number): void;
  /** Progress within the stage, for the progress bar. */
  progress(done: number, total: number): void;
  /**
   * A resource shared by every stage and in-process trial using this store (a loaded model), made
   * once by `make` and never disposed by a stage. Keys should name what they hold ("model:DIR").
   */
  resource<T>(key: string, make: () => Promise<T>): Promise<T>;
  /**
   * In-stage progress that survives a killed process: a long stage (an edit stream, a training
   * run) writes its state here as it goes and reads it back on resume; removed once the stage is
   * sealed. `dir` is where the stage may keep files the state refers to (write them before `write`).
   */
  checkpoint: { dir: string; read<T>(): Promise<T | undefined>; write(state: unknown): Promise<void> };
}

export interface StageDef<C> {
  name: string;
  /** Stages whose outputs this one reads. */
  after: readonly string[];
  /** The slice of the config this stage depends on: only a change here (or in an input) recomputes it. */
  uses(config: C): unknown;
  /** Whether the output depends on the run seed (ctx.seed): then the seed is part of its artifact key. */
  seeded?: boolean;
  /** Produce the stage's output (JSON-serialisable). May be async. */
  run(ctx: StageContext<C>): unknown | Promise<unknown>;
}

export interface ExperimentKind<C = any> {
  name: string;
  /** Code version of the stages: part of every artifact hash, bump it when a stage's meaning changes. */
  version: string;
  description: string;
  schema: ObjectSchema<any>;
  stages: readonly StageDef<C>[];
  /** The summary metric a study optimises by default, and which way is better. */
  objective: { metric: string; direction: Direction };
  /**
   * A study's last word: once every trial has finished, the best trial's config passed through
   * `config` runs once more (e.g. on the test split when trials scored validation), stored as run
   * `<study>/final` and shown in the report. Kinds without held-out data leave it out.
   */
  final?: { description: string; config(best: C): C };
  /**
   * What the kind's metrics mean, by name (a per-case metric, or a summary metric of the same
   * name): shown beside the numbers in reports, so a number never travels without its definition.
   */
  metrics?: Record<string, { definition: string; version: number | string }>;
}

/** Thrown from `report()` when the pruner stops a trial. */
export class TrialPruned extends Error {
  constructor(readonly step: number, readonly value: number) {
    super(`trial pruned at step ${step} (value ${value})`);
    this.name = "TrialPruned";
  }
}
