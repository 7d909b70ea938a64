/**
 * `scalpel eval`: evaluate a model (and, with --patch, the same model patched) on benchmark tasks,
 * print a table and write the results JSON (eval/evaluate.ts; tasks in eval/registry-node.ts).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { ConfigError, UsageError } from "../../errors.js";
import { builtinTaskNames, DEFAULT_TASKS, loadTasks } from "../../eval/registry-node.js";
import type { MetricComparison } from "../../eval/compare.js";
import { runEvalExperiment } from "../../eval/experiment.js";
import type { EvaluationResult, TaskResult } from "../../eval/evaluate.js";
import type { Task } from "../../eval/types.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { FileRequestCache } from "../../eval/request-cache-node.js";
import { Progress } from "../../lab/progress.js";
import { loadPatch } from "../../model/patch-file.js";
import { parseFlags, type Command } from "../command.js";
import { BUILTIN_DATA_DIR, resolveModelDir } from "../default-model.js";
import { modelFromFlag, numberFlag } from "./forward.js";

const usage = `scalpel eval — evaluate a model on benchmark tasks (lm-evaluation-harness semantics)

usage: scalpel eval [--model DIR] [--tasks T1,T2,...] [--patch FILE] [--limit N] [--out results.json] [flags]

  --model DIR          checkpoint folder (default: the built-in fact-world model)
  --tasks LIST         comma-separated task names or task files (.yaml/.json); default
                       ${DEFAULT_TASKS.join(",")}; "caa" = every CAA behaviour; --list shows them
  --patch FILE         also evaluate the model with this patch (scalpel savePatch file) and report
                       each metric's difference with a paired bootstrap CI and paired tests
  --limit N            only the first N documents of each task (of each subject for MMLU)
  --out FILE           write the results JSON (task versions, prompt formats, few-shot seeds,
                       metric definitions, numbers, per-group results, comparison)
  --cache FILE         request cache (default .scalpel/eval-cache.jsonl); a re-run or a resumed run
                       recomputes nothing it finds there
  --no-cache           compute everything, store nothing
  --batch-size N       rows per forward pass (default 32); --gen-batch-size N prompts per generation batch (default 32)
  --no-share-prefix    do not compute shared few-shot prefixes once (for checking)
  --add-bos            encode every prompt with the tokenizer's special tokens (lm-eval's
                       add_bos_token=True); the fact-world tasks always do, as the model was trained
  --data-dir DIR       benchmark data folder (default $SCALPEL_DATA_DIR or ../shared/data)
  --max-length N       WikiText window length (default n_ctx): wikitext's disjoint rolling windows
                       and wikitext-strided's sliding window
  --stride N           wikitext-strided's window step (default max-length / 2)
  --log-samples FILE   write every document's prompt, requests, responses and metrics (JSON lines)
  --show-prompts N     print the first N prompts of each task before running
  --seed S             bootstrap seed for --patch comparisons (default 0)
  --json               print the results JSON instead of the table
  --list               list the built-in tasks

examples:
  scalpel eval                                              the fact world's QA and arithmetic
  scalpel eval --tasks mmlu,lambada --limit 20 --out r.json
  scalpel eval --tasks factworld-qa --patch edit.safetensors
  scalpel eval --tasks my-task.yaml --show-prompts 2`;

export const evalCommand: Command = {
  name: "eval",
  summary: "Evaluate a model (and a patched one) on benchmark tasks: MMLU, GSM8K, LAMBADA, CAA, WikiText, fact world",
  usage,
  async run(argv) {
    const { values } = parseFlags("eval", argv, {
      model: { type: "string" },
      tasks: { type: "string" },
      patch: { type: "string" },
      limit: { type: "string" },
      out: { type: "string" },
      cache: { type: "string" },
      "no-cache": { type: "boolean" },
      "batch-size": { type: "string" },
      "gen-batch-size": { type: "string" },
      "no-share-prefix": { type: "boolean" },
      "add-bos": { type: "boolean" },
      "data-dir": { type: "string" },
      "max-length": { type: "string" },
      stride: { type: "string" },
      "log-samples": { type: "string" },
      "show-prompts": { type: "string" },
      seed: { type: "string" },
      json: { type: "boolean" },
      list: { type: "boolean" },
    });
    if (values.list) {
      const names = builtinTaskNames();
      const w = Math.max(...names.map((n) => n.name.length));
      for (const n of names) console.log(`${n.name.padEnd(w)}  ${n.summary}`);
      return 0;
    }
    const limit = numberFlag("eval", "limit", values.limit, { integer: true, min: 1 });
    const batchSize = numberFlag("eval", "batch-size", values["batch-size"], { integer: true, min: 1 }) ?? 32;
    const genBatch = numberFlag("eval", "gen-batch-size", values["gen-batch-size"], { integer: true, min: 1 }) ?? 32;
    const showPrompts = numberFlag("eval", "show-prompts", values["show-prompts"], { integer: true, min: 1 });
    const seed = numberFlag("eval", "seed", values.seed, { integer: true }) ?? 0;
    const maxLength = numberFlag("eval", "max-length", values["max-length"], { integer: true, min: 2 });
    const stride = numberFlag("eval", "stride", values.stride, { integer: true, min: 1 });
    if (values.cache && values["no-cache"]) throw new UsageError("BAD_FLAGS", "--cache and --no-cache contradict each other", { fix: "give one of them" });
    if (values.patch && !existsSync(values.patch)) throw new UsageError("PATCH_MISSING", "patch file not found", { file: values.patch, fix: "give a file written by savePatch" });
    const names = (values.tasks ?? DEFAULT_TASKS.join(",")).split(",").map((s) => s.trim()).filter(Boolean);
    if (names.length === 0) throw new UsageError("NO_TASKS", "--tasks is empty", { fix: "give task names, e.g. --tasks mmlu,lambada (see --list)" });

    const modelDir = resolveModelDir(values.model);
    // A model folder carrying its own fact-world exports (models/factworld/data) uses them.
    const factworldDataDir = existsSync(path.join(modelDir, "data", "qa.json")) ? path.join(modelDir, "data") : BUILTIN_DATA_DIR;
    const tasks = loadTasks(names, { dataDir: values["data-dir"], factworldDataDir, maxLength, stride });
    if (showPrompts) printPrompts(tasks, showPrompts);

    const model = await modelFromFlag("eval", modelDir);
    try {
      const cache = values["no-cache"] ? undefined : new FileRequestCache(values.cache ?? path.join(".scalpel", "eval-cache.jsonl"));
      const patch = values.patch ? await loadPatch(values.patch) : undefined;
      const bars: Partial<Record<"base" | "patched", Progress>> = {};
      const label = { base: "eval", patched: "eval (patched)" } as const;
      const { base, patched, comparison } = await runEvalExperiment(model, tasks, {
        limit,
        cache,
        batchSize,
        generateBatchSize: genBatch,
        minSharedPrefix: values["no-share-prefix"] ? 0 : 32,
        addSpecialTokens: values["add-bos"] === true,
        logSamples: values["log-samples"] !== undefined,
        patch,
        patchSource: values.patch,
        seed,
        onProgress: (which, done, total) => {
          bars[which] ??= new Progress({ label: label[which], total });
          bars[which]!.update(done);
        },
      }).catch((e: unknown) => {
        // A patch made for another model is the user's mix-up with the flags: a usage error (exit 2).
        if (e instanceof ConfigError && e.code === "PATCH_MISMATCH") throw new UsageError(e.code, e.message.replace(/\.? Fix: [^]*$/, ""), { fix: e.fix });
        throw e;
      });
      for (const [which, res] of [["base", base], ["patched", patched]] as const) {
        if (!res) continue;
        bars[which]?.finish();
        const st = res.stats;
        console.error(`${label[which]}: ${st.unique} unique requests (${st.requests} asked): ${st.cacheHits} from cache, ${st.computed} computed in ${st.seconds.toFixed(1)} s`);
      }
      const patchInfo = patch?.info;
      const doc = {
        format: "scalpel-eval-results/1",
        createdAt: new Date().toISOString(),
        model: { dir: modelDir, hash: base.modelHash },
        ...(values.patch ? { patch: { file: values.patch, hash: patched!.patchHash, info: patchInfo } } : {}),
        limit: limit ?? null,
        bootstrap: values.patch ? { seed, resamples: 2000, method: "percentile", level: 0.95, paired: true } : undefined,
        results: summary(base),
        ...(patched ? { patched: summary(patched), comparison } : {}),
        stats: { base: base.stats, ...(patched ? { patched: patched.stats } : {}) },
      };
      if (values.out) await writeFileAtomic(values.out, JSON.stringify(doc, null, 2) + "\n");
      if (values["log-samples"]) {
        const lines = [base, patched].filter((r): r is EvaluationResult => r !== undefined).flatMap((r, k) =>
          r.tasks.flatMap((t) => (t.samples ?? []).map((s) => JSON.stringify({ run: k === 0 ? "base" : "patched", task: t.task, ...s }))));
        await writeFileAtomic(values["log-samples"], lines.join("\n") + "\n");
      }
      if (values.json) console.log(JSON.stringify(doc, null, 2));
      else console.log(comparison ? comparisonTable(base, patched!, comparison) : table(base));
      if (values.out) console.error(`wrote ${values.out}`);
    } finally {
      model.dispose();
    }
  },
};

function summary(r: EvaluationResult) {
  return Object.fromEntries(r.tasks.map((t: TaskResult) => [t.task, {
    version: t.version,
    promptFormat: t.promptFormat,
    fewshot: t.fewshot,
    n: t.n,
    size: t.size,
    metrics: t.metrics,
    ...(t.groups ? { groups: t.groups, groupAverage: t.groupAverage } : {}),
  }]));
}

const fmt = (x: number) => (Number.isNaN(x) ? "—" : Math.abs(x) >= 1000 ? x.toExponential(3) : x.toFixed(4));

function table(r: EvaluationResult): string {
  const rows: string[][] = [["task", "metric", "value", "± stderr", "n"]];
  for (const t of r.tasks) {
    for (const [name, m] of Object.entries(t.metrics)) rows.push([t.task, name, fmt(m.value), fmt(m.stderr), String(t.n)]);
    if (t.groupAverage) for (const [name, v] of Object.entries(t.groupAverage)) rows.push([t.task, `${name} (group avg)`, fmt(v), "", String(Object.keys(t.groups!).length)]);
  }
  return render(rows);
}

function comparisonTable(base: EvaluationResult, patched: EvaluationResult, cmp: Record<string, MetricComparison[]>): string {
  const rows: string[][] = [["task", "metric", "before", "after", "diff", "95% CI", "p (t)", "p (McNemar)", "n"]];
  base.tasks.forEach((t) => {
    for (const c of cmp[t.task]!) {
      rows.push([t.task, c.metric, fmt(c.before), fmt(c.after), fmt(c.diff), `[${fmt(c.ci[0])}, ${fmt(c.ci[1])}]`,
        c.pTTest === undefined ? "" : c.pTTest.toPrecision(3), c.pMcNemar === undefined ? "" : c.pMcNemar.toPrecision(3), String(t.n)]);
    }
  });
  void patched;
  return render(rows);
}

function render(rows: string[][]): string {
  const w = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  return rows.map((r) => r.map((c, j) => (j >= 2 ? c.padStart(w[j]!) : c.padEnd(w[j]!))).join("  ")).join("\n");
}

function printPrompts(tasks: Task[], n: number): void {
  for (const t of tasks) {
    for (const inst of t.instances(n).slice(0, n)) {
      console.log(`=== ${t.name} #${inst.id} (target ${JSON.stringify(inst.target)})`);
      console.log(inst.prompt);
      for (const r of inst.requests) {
        if (r.type === "loglikelihood") console.log(`--- loglikelihood continuation ${JSON.stringify(r.continuation)}${r.firstTokens ? ` (first ${r.firstTokens} token)` : ""}`);
        else if (r.type === "generate_until") console.log(`--- generate until ${JSON.stringify(r.until)}, at most ${r.maxNewTokens} tokens`);
        else if (r.type === "perplexity") console.log(`--- perplexity of the text (${r.text.length} characters)`);
      }
    }
  }
}


