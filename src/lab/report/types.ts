/**
 * ReportData: everything `scalpel report RUN|STUDY` shows, as plain data. The store fills it from
 * SQLite; `renderReport` (render.ts) turns it into a self-contained HTML page and a Markdown
 * summary. Plain JSON-able values only (no Maps), so it can also be sent to the web lab.
 */
import type { Direction, ParamValue, TrialState } from "../../analysis/search/types.js";

export interface ReportManifest {
  seed?: number;
  git?: { commit?: string; dirty?: boolean };
  /** Package / runtime versions, e.g. { scalpel: "0.1.0", node: "v20.20.2" }. */
  versions?: Record<string, string>;
  /** Free-form machine description, e.g. { host: "n1", cpus: "2", os: "linux" }. */
  machine?: Record<string, string>;
  /** ISO-8601 timestamps. */
  startedAt?: string;
  finishedAt?: string;
  /** Anything else worth recording (status, command line …). */
  extra?: Record<string, string | number | boolean>;
}

/** One metric aggregated across seeds/cases: mean ± std (n) and a confidence interval. */
export interface MetricSummary {
  name: string;
  mean: number;
  /** Sample standard deviation (ddof = 1); undefined or NaN when n < 2. */
  std?: number;
  n: number;
  /** Confidence interval for the mean (e.g. bootstrap BCa); level defaults to 0.95. */
  ciLow?: number;
  ciHigh?: number;
  ciLevel?: number;
  /** Method used for the CI, e.g. "BCa bootstrap (9999 resamples)". */
  ciMethod?: string;
  /** Metric definition and its version, e.g. "efficacy: P(new) > P(old)" / "2". */
  definition?: string;
  version?: string;
  /** Optional grouping, e.g. the method or sweep cell the metric belongs to. */
  group?: string;
}

/** A value of a metric at a step (loss curves, per-step intermediate values). */
export interface SeriesPoint {
  metric: string;
  step: number;
  value: number;
  /** e.g. seed or run id, so several curves share a plot. */
  group?: string;
}

export interface ReportTrial {
  number: number;
  state: TrialState;
  params: Record<string, ParamValue>;
  value?: number;
  /** Intermediate values as [step, value] pairs, in step order. */
  intermediate?: [number, number][];
}

export interface ParamImportance {
  param: string;
  importance: number;
}

/** One configuration of a study (its parameters without `seed`) and its runs' summary metrics over replicates. */
export interface ReportConfiguration {
  params: Record<string, ParamValue>;
  /** Complete runs (seeds) of this configuration. */
  n: number;
  /** Each summary metric over those runs: mean ± std and a Student-t CI. */
  metrics: MetricSummary[];
}

/** A per-case metric's values in one group (a run's stage, or a study configuration), for distribution plots. */
export interface CaseDistribution {
  metric: string;
  group: string;
  values: number[];
}

/** A study's held-out evaluation of its best configuration (ExperimentKind.final). */
export interface ReportFinal {
  runId: string;
  trial: number;
  params: Record<string, ParamValue>;
  description: string;
  metrics: Record<string, number>;
}

export interface ReportData {
  title: string;
  kind: "run" | "study";
  /** The resolved (validated, defaults filled) config. */
  config: unknown;
  manifest: ReportManifest;
  metrics: MetricSummary[];
  series?: SeriesPoint[];
  /** Study reports only. */
  trials?: ReportTrial[];
  direction?: Direction;
  /** Name of the study's objective, used in plot titles (default "value"). */
  objective?: string;
  /**
   * Parameter importances. When omitted for a study, the renderer computes them itself with
   * `varianceImportance` (importance.ts) and says so; `importanceMethod` names the method used.
   */
  importances?: ParamImportance[];
  importanceMethod?: string;
  /** Study reports: per configuration, every summary metric over its replicates (seeds). */
  configurations?: ReportConfiguration[];
  /** Per-case metric values by group, for distribution plots. */
  caseDistributions?: CaseDistribution[];
  /** Study reports: the best configuration's final evaluation. */
  final?: ReportFinal;
  /** The metrics the kind defines, in its order: plotted first (bookkeeping values such as times last). */
  metricOrder?: string[];
  /** Tables and plots the run's stages wrote for the report (lab/report/section.ts). */
  sections?: { tables: { title: string; header: string[]; rows: string[][]; note?: string }[]; figures: { title: string; svg: string }[] }[];
}
