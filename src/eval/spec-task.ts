/**
 * A task from a declarative description: lm-evaluation-harness's ConfigurableTask semantics
 * (lm_eval/api/task.py; samplers.py get_context), shared by the built-in tasks and by tasks
 * defined in JSON/YAML files (task-file.ts).
 *
 * Prompt of a document (fewshot_context):
 *   description(doc) + Σ_examples [ text(ex) + target_delimiter + target_text(ex) + fewshot_delimiter ] + text(doc)
 * where target_text is the gold choice's text for multiple choice, the target string otherwise.
 * Requests:
 *   multiple_choice  one loglikelihood per choice: (prompt, target_delimiter + choice_i)
 *   loglikelihood    (prompt, target_delimiter + target)  [firstTokens: only its first N tokens]
 *   generate_until   (prompt, until, max_new_tokens); until defaults to [fewshot_delimiter]
 */
import { UsageError } from "../errors.js";
import { exactMatch, applyRegexFilter, type ExactMatchOptions, type RegexFilter } from "./extract.js";
import { selectFewshot } from "./fewshot.js";
import { MC_METRICS, multipleChoiceScores } from "./metrics.js";
import type { GenerateResponse, Instance, LoglikelihoodResponse, MetricDef, Request, Response, Task } from "./types.js";

export type TaskKind = "multiple_choice" | "loglikelihood" | "generate_until";

export interface TaskSpec<D> {
  name: string;
  version: string;
  kind: TaskKind;
  /** Test documents. */
  docs: readonly D[];
  /** Few-shot pool; absent → the test documents themselves (a document is never its own example). */
  fewshotDocs?: readonly D[];
  fewshotSplit?: string;
  /** A per-document few-shot pool (MMLU: the dev questions of the document's subject). */
  fewshotDocsFor?: (doc: D) => readonly D[];
  numFewshot?: number;
  sampler?: "first_n" | "random";
  /** Default 1234 (lm-eval's fewshot seed). */
  seed?: number;
  description?: (doc: D) => string;
  docToText: (doc: D) => string;
  /** multiple_choice: the choices. */
  docToChoice?: (doc: D) => string[];
  /** multiple_choice: the gold index; otherwise the target string. */
  docToTarget: (doc: D) => number | string;
  /** Target used in few-shot examples when it differs from the scored target (default docToTarget). */
  docToFewshotTarget?: (doc: D) => string;
  targetDelimiter?: string;
  fewshotDelimiter?: string;
  /** loglikelihood: score only the first N continuation tokens. */
  firstTokens?: number;
  /** generate_until */
  until?: string[];
  maxNewTokens?: number;
  /** generate_until: answer extractions; each gives metric exact_match,<name>. Default: the raw text ("none"). */
  filters?: RegexFilter[];
  exactMatch?: ExactMatchOptions;
  /** Requests encode with the tokenizer's special tokens (BOS): for models always trained after BOS. */
  addSpecialTokens?: boolean;
  /** Subgroup of a document (MMLU subject). */
  group?: (doc: D) => string;
  id?: (doc: D, index: number) => string;
  /** --limit applies per group (lm-eval applies it per MMLU subtask). */
  limitPerGroup?: boolean;
  /** Human description of the prompt format (stored with results); a default is derived. */
  promptFormat?: string;
}

export function specTask<D>(spec: TaskSpec<D>): Task {
  const tDelim = spec.targetDelimiter ?? " ";
  const fDelim = spec.fewshotDelimiter ?? "\n\n";
  const n = spec.numFewshot ?? 0;
  const sampler = spec.sampler ?? "random";
  const seed = spec.seed ?? 1234;
  const pool = spec.fewshotDocs ?? spec.docs;
  const samePool = spec.fewshotDocs === undefined && spec.fewshotDocsFor === undefined;
  if (n > 0 && !spec.fewshotDocsFor && pool.length - (samePool ? 1 : 0) < n) {
    throw new UsageError("FEWSHOT_TOO_FEW", `task ${spec.name}: ${n}-shot prompts need ${n} few-shot documents, the few-shot split has ${pool.length}`, {
      fix: "lower num_fewshot or give a larger fewshot split",
    });
  }
  if (spec.kind === "multiple_choice" && !spec.docToChoice) throw new UsageError("TASK_SPEC", `task ${spec.name}: multiple_choice needs choices`);

  const targetText = (doc: D): string => {
    if (spec.docToFewshotTarget) return spec.docToFewshotTarget(doc);
    const t = spec.docToTarget(doc);
    if (spec.kind === "multiple_choice") {
      const choices = spec.docToChoice!(doc);
      const c = choices[t as number];
      if (c === undefined) throw new UsageError("TASK_TARGET", `task ${spec.name}: gold index ${String(t)} is outside the ${choices.length} choices`);
      return c;
    }
    return String(t);
  };

  const prompt = (doc: D, index: number): string => {
    const shots = selectFewshot(spec.fewshotDocsFor?.(doc) ?? pool, n, sampler, seed, index, samePool && !spec.fewshotDocsFor ? doc : undefined);
    const examples = shots.map((ex) => spec.docToText(ex) + tDelim + targetText(ex) + fDelim).join("");
    return (spec.description?.(doc) ?? "") + examples + spec.docToText(doc);
  };

  const metrics: Record<string, MetricDef> = {};
  if (spec.kind === "multiple_choice") Object.assign(metrics, MC_METRICS);
  else if (spec.kind === "loglikelihood") {
    const what = spec.firstTokens ? `the first ${spec.firstTokens} token(s) of the target` : "the target";
    metrics.acc = { aggregation: "mean", higherIsBetter: true, definition: `mean of is_greedy: every token of ${what} is the argmax given the prompt (lm-eval acc for loglikelihood tasks)` };
    metrics.perplexity = { aggregation: "perplexity", higherIsBetter: false, definition: `exp(−mean over documents of log p(${what} | prompt)) (lm-eval perplexity)` };
  } else {
    for (const f of spec.filters ?? [{ name: "none", pattern: "" }]) {
      metrics[`exact_match,${f.name}`] = {
        aggregation: "mean",
        higherIsBetter: true,
        definition:
          `mean of exact_match(extract(generation), target)` +
          (f.pattern ? `, extract = regex /${f.pattern}/ match ${f.groupSelect ?? 0}` : ", the generation itself") +
          `; ignore_case=${spec.exactMatch?.ignoreCase ?? false}, regexes_to_ignore=${JSON.stringify(spec.exactMatch?.regexesToIgnore ?? [])}`,
      };
    }
  }

  const bos = spec.addSpecialTokens ? { addSpecialTokens: true } : {};
  const instance = (doc: D, index: number): Instance => {
    const ctx = prompt(doc, index);
    const id = spec.id?.(doc, index) ?? String(index);
    const group = spec.group?.(doc);
    if (spec.kind === "multiple_choice") {
      const choices = spec.docToChoice!(doc);
      const gold = spec.docToTarget(doc) as number;
      const requests: Request[] = choices.map((c) => ({ type: "loglikelihood", context: ctx, continuation: tDelim + c, ...bos }));
      return {
        id,
        group,
        prompt: ctx,
        requests,
        target: targetText(doc),
        score: (rs) => multipleChoiceScores(lls(rs), choices, gold),
        explain: (rs) => ({ loglikelihoods: lls(rs), choices }),
      };
    }
    if (spec.kind === "loglikelihood") {
      const target = String(spec.docToTarget(doc));
      const req: Request = { type: "loglikelihood", context: ctx, continuation: tDelim + target, ...(spec.firstTokens ? { firstTokens: spec.firstTokens } : {}), ...bos };
      return {
        id,
        group,
        prompt: ctx,
        requests: [req],
        target,
        score: (rs) => {
          const r = rs[0] as LoglikelihoodResponse;
          return { acc: r.isGreedy ? 1 : 0, perplexity: r.ll };
        },
        explain: (rs) => ({ loglikelihood: (rs[0] as LoglikelihoodResponse).ll }),
      };
    }
    const target = String(spec.docToTarget(doc));
    const until = spec.until ?? [fDelim];
    const req: Request = { type: "generate_until", context: ctx, until, maxNewTokens: spec.maxNewTokens ?? 256, ...bos };
    const filters = spec.filters ?? [{ name: "none", pattern: "" }];
    const extract = (text: string) => Object.fromEntries(filters.map((f) => [f.name, f.pattern ? applyRegexFilter(text, f) : text]));
    return {
      id,
      group,
      prompt: ctx,
      requests: [req],
      target,
      score: (rs) => {
        const ex = extract((rs[0] as GenerateResponse).text);
        return Object.fromEntries(filters.map((f) => [`exact_match,${f.name}`, exactMatch(ex[f.name]!, target, spec.exactMatch)]));
      },
      explain: (rs) => ({ generation: (rs[0] as GenerateResponse).text, extracted: extract((rs[0] as GenerateResponse).text) }),
    };
  };

  const kindWords = { multiple_choice: "multiple choice by loglikelihood", loglikelihood: "loglikelihood of the target", generate_until: "greedy generation until a stop string" }[spec.kind];
  return {
    name: spec.name,
    version: spec.version,
    promptFormat:
      spec.promptFormat ??
      `${kindWords}; prompt = description + ${n} example(s) [text + ${JSON.stringify(tDelim)} + target + ${JSON.stringify(fDelim)}] + text`,
    fewshot: { n, split: n > 0 ? (spec.fewshotSplit ?? (samePool ? "test (excluding the document)" : "fewshot")) : "none", sampler: n > 0 ? sampler : "none", seed },
    metrics,
    size: spec.docs.length,
    instances: (limit) => {
      if (limit === undefined) return spec.docs.map(instance);
      if (!(spec.limitPerGroup && spec.group)) return spec.docs.slice(0, limit).map(instance);
      const seen = new Map<string, number>();
      const out: Instance[] = [];
      spec.docs.forEach((d, i) => {
        const g = spec.group!(d);
        const k = seen.get(g) ?? 0;
        if (k < limit) out.push(instance(d, i));
        seen.set(g, k + 1);
      });
      return out;
    },
  };
}

function lls(rs: Response[]): number[] {
  return rs.map((r) => (r as LoglikelihoodResponse).ll);
}
