/**
 * Evaluate a model on tasks: build every task's instances, answer all their requests in one pass
 * (deduplicated across tasks, cached, batched: execute.ts), score each document and aggregate.
 * Returns the numbers together with what they mean: task version, prompt format, few-shot seed
 * and metric definitions, so a stored result explains itself.
 */
import { modelHash } from "../model/hash.js";
import type { Patch } from "../model/patch.js";
import type { Model } from "../model/types.js";
import { patchHash } from "../model/patch-hash.js";
import { cacheNamespace } from "./cache.js";
import { executeRequests, type ExecuteOptions, type ExecuteStats } from "./execute.js";
import { aggregate, stderr } from "./metrics.js";
import type { FewshotInfo, Instance, MetricDef, MetricValue, Request, Response, Task } from "./types.js";

export interface EvaluateOptions extends Omit<ExecuteOptions, "namespace"> {
  /** Documents per task (per group for grouped tasks such as MMLU). */
  limit?: number;
  /** The patch `model` carries, for the cache key (activation patches do not change weights). */
  patch?: Patch;
  /** Encode every request with the tokenizer's special tokens (lm-eval's add_bos_token=True). */
  addSpecialTokens?: boolean;
  /** Keep each document's prompt, requests, responses and metrics in the result. */
  logSamples?: boolean;
}

export interface MetricResult extends MetricDef {
  value: number;
  /** Standard error of a mean (NaN for perplexity aggregations). */
  stderr: number;
}

export interface Sample {
  id: string;
  group?: string;
  prompt: string;
  target: string;
  requests: Request[];
  responses: Response[];
  metrics: Record<string, MetricValue>;
  details?: Record<string, unknown>;
}

export interface TaskResult {
  task: string;
  version: string;
  promptFormat: string;
  fewshot: FewshotInfo;
  /** Documents evaluated (of `size`). */
  n: number;
  size: number;
  metrics: Record<string, MetricResult>;
  /** Grouped tasks: each group's metrics, and their unweighted mean over groups. */
  groups?: Record<string, { n: number; metrics: Record<string, number> }>;
  groupAverage?: Record<string, number>;
  /** Per-document values by metric, in instance order (for paired comparisons). */
  perDoc: { ids: string[]; values: Record<string, MetricValue[]> };
  samples?: Sample[];
}

export interface EvaluationResult {
  modelHash: string;
  patchHash: string;
  limit?: number;
  tasks: TaskResult[];
  stats: ExecuteStats;
}

export async function evaluate(model: Model, tasks: Task[], options: EvaluateOptions = {}): Promise<EvaluationResult> {
  const [mh, ph] = await Promise.all([modelHash(model), patchHash(options.patch)]);
  const namespace = await cacheNamespace(mh, ph);
  const built = tasks.map((t) => ({ task: t, instances: t.instances(options.limit) }));
  const all: Request[] = [];
  for (const b of built) {
    for (const inst of b.instances) {
      if (options.addSpecialTokens) inst.requests = inst.requests.map((r) => (r.type === "loglikelihood" || r.type === "generate_until" ? { ...r, addSpecialTokens: true } : r));
      all.push(...inst.requests);
    }
  }
  const { responses, stats } = await executeRequests(model, all, { ...options, namespace });
  let k = 0;
  const results = built.map(({ task, instances }) => {
    const per = instances.map((inst) => {
      const rs = responses.slice(k, k + inst.requests.length);
      k += inst.requests.length;
      return { inst, rs, metrics: inst.score(rs) };
    });
    return taskResult(task, per, options.logSamples ?? false);
  });
  return { modelHash: mh, patchHash: ph, ...(options.limit !== undefined ? { limit: options.limit } : {}), tasks: results, stats };
}

function taskResult(task: Task, per: { inst: Instance; rs: Response[]; metrics: Record<string, MetricValue> }[], logSamples: boolean): TaskResult {
  const values: Record<string, MetricValue[]> = {};
  for (const name of Object.keys(task.metrics)) values[name] = per.map((p) => p.metrics[name]!);
  const metrics: Record<string, MetricResult> = {};
  for (const [name, def] of Object.entries(task.metrics)) {
    metrics[name] = { ...def, value: aggregate(def.aggregation, values[name]!), stderr: stderr(def.aggregation, values[name]!) };
  }
  const out: TaskResult = {
    task: task.name,
    version: task.version,
    promptFormat: task.promptFormat,
    fewshot: task.fewshot,
    n: per.length,
    size: task.size,
    metrics,
    perDoc: { ids: per.map((p) => p.inst.id), values },
  };
  if (per.some((p) => p.inst.group !== undefined)) {
    const groups: Record<string, { n: number; metrics: Record<string, number> }> = {};
    const byGroup = new Map<string, typeof per>();
    for (const p of per) {
      const g = p.inst.group ?? "";
      if (!byGroup.has(g)) byGroup.set(g, []);
      byGroup.get(g)!.push(p);
    }
    for (const [g, list] of [...byGroup].sort((a, b) => a[0].localeCompare(b[0]))) {
      groups[g] = {
        n: list.length,
        metrics: Object.fromEntries(Object.entries(task.metrics).map(([name, def]) => [name, aggregate(def.aggregation, list.map((p) => p.metrics[name]!))])),
      };
    }
    out.groups = groups;
    // The overall value above weighs groups by size (lm-eval weight_by_size); this is the plain mean of groups.
    const gs = Object.values(groups);
    out.groupAverage = Object.fromEntries(Object.keys(task.metrics).map((name) => [name, gs.reduce((s, g) => s + g.metrics[name]!, 0) / gs.length]));
  }
  if (logSamples) {
    out.samples = per.map((p) => ({
      id: p.inst.id,
      ...(p.inst.group !== undefined ? { group: p.inst.group } : {}),
      prompt: p.inst.prompt,
      target: p.inst.target,
      requests: p.inst.requests,
      responses: p.rs,
      metrics: p.metrics,
      ...(p.inst.explain ? { details: p.inst.explain(p.rs) } : {}),
    }));
  }
  return out;
}
