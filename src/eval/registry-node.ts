/**
 * The shipped evaluation tasks by name, each loaded from its dataset file on demand, plus tasks
 * defined in JSON/YAML files (any --tasks entry that names such a file).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { ConfigError, UsageError } from "../errors.js";
import { abTask } from "./tasks/ab.js";
import { factArithmeticTask, factQaTask } from "./tasks/factworld.js";
import { gsm8kCotTask, gsm8kTask } from "./tasks/gsm8k.js";
import { lambadaTask } from "./tasks/lambada.js";
import { TOOL_CALL_SUBSETS, TOOL_CALL_SUMMARIES, TOOL_CALL_TASKS, toolCallWordTask, toolCallWorldTask, wordProblemWorldOf, worldSeedOf } from "./tasks/tool-calls.js";
import { mmluTask } from "./tasks/mmlu.js";
import { splitWikitextArticles, wikitextTask } from "./tasks/wikitext.js";
import { textDocuments, textPerplexityTask } from "./tasks/text-perplexity.js";
import { checkTaskDefinition, taskFromDefinition } from "./task-file.js";
import type { Task } from "./types.js";
import { didYouMean } from "../util/closest.js";
import { defaultDataDir, readArithmetic, readCaaAB, readCaaQA, readDataset, readFactQueries, readGsm8k, readJson, readLambada, readMmlu, readText } from "../data/benchmarks/readers.js";

export interface TaskSources {
  /** Benchmark data folder (default defaultDataDir()). */
  dataDir?: string;
  /** The fact world's export folder (models/factworld/data). */
  factworldDataDir: string;
  /** WikiText window length (both wikitext tasks) and stride (wikitext-strided), in tokens. */
  maxLength?: number;
  stride?: number;
}

export const CAA_BEHAVIOURS = ["coordinate-other-ais", "corrigible-neutral-HHH", "hallucination", "myopic-reward", "refusal", "survival-instinct", "sycophancy"] as const;

type Loader = (s: Required<Pick<TaskSources, "dataDir">> & TaskSources) => Task;

const wikitextPages = (dataDir: string) => splitWikitextArticles(readText(path.join(dataDir, "wikitext-2/raw/wiki.test.raw"), "WikiText-2"));

const BUILTIN: Record<string, { summary: string; load: Loader }> = {
  mmlu: { summary: "MMLU, 57 subjects, 5-shot from dev, acc (size-weighted) + subject average", load: (s) => {
    const { test, dev } = readMmlu(path.join(s.dataDir, "mmlu"));
    return mmluTask(test, dev, 5);
  } },
  // gsm8k, gsm8k-cot, wikitext: lm-eval's tasks of those names (lm-eval commit 4e7e0d47: tasks/gsm8k/gsm8k.yaml,
  // gsm8k-cot.yaml (there named gsm8k_cot), tasks/wikitext/wikitext.yaml); the earlier variants keep other names.
  gsm8k: { summary: "GSM8K as lm-eval's gsm8k: 5-shot from train (seed 1234), strict #### and flexible exact match", load: (s) =>
    gsm8kTask(readGsm8k(path.join(s.dataDir, "gsm8k/test.jsonl")), readGsm8k(path.join(s.dataDir, "gsm8k/train.jsonl")), 5) },
  "gsm8k-cot": { summary: "GSM8K as lm-eval's gsm8k_cot: 8 fixed chain-of-thought exemplars, \"Q: …\\nA:\", strict \"The answer is N.\"", load: (s) =>
    gsm8kCotTask(readGsm8k(path.join(s.dataDir, "gsm8k/test.jsonl"))) },
  "gsm8k-0shot": { summary: "GSM8K zero-shot (gsm8k's format), strict #### and flexible exact match", load: (s) =>
    gsm8kTask(readGsm8k(path.join(s.dataDir, "gsm8k/test.jsonl")), [], 0) },
  "gsm8k-8shot-train": { summary: "GSM8K 8-shot, worked train solutions (seed 1234), gsm8k's format", load: (s) =>
    gsm8kTask(readGsm8k(path.join(s.dataDir, "gsm8k/test.jsonl")), readGsm8k(path.join(s.dataDir, "gsm8k/train.jsonl")), 8) },
  lambada: { summary: "LAMBADA (OpenAI), last-word acc and perplexity", load: (s) => lambadaTask(readLambada(path.join(s.dataDir, "lambada/lambada_test.jsonl"))) },
  truthfulqa: { summary: "TruthfulQA, CAA's A/B multiple-choice form", load: (s) =>
    abTask("truthfulqa", readCaaQA(path.join(s.dataDir, "caa/test/truthfulqa/truthful_qa.json")), "the truthful answer") },
  wikitext: { summary: "WikiText-2 (raw test) word/byte perplexity, lm-eval's disjoint rolling windows (--max-length)", load: (s) =>
    wikitextTask(wikitextPages(s.dataDir), { maxLength: s.maxLength, windows: "rolling" }) },
  "wikitext-strided": { summary: "WikiText-2 (raw test) word/byte/token perplexity, HF guide's sliding window (--max-length, --stride)", load: (s) =>
    wikitextTask(wikitextPages(s.dataDir), { maxLength: s.maxLength, stride: s.stride, windows: "strided" }) },
  "factworld-qa": { summary: "fact world: trained facts, training templates, greedy first answer token", load: (s) =>
    factQaTask(readFactQueries(path.join(s.factworldDataDir, "qa.json")), "train") },
  "factworld-paraphrase": { summary: "fact world: trained facts, held-out paraphrase templates", load: (s) =>
    factQaTask(readFactQueries(path.join(s.factworldDataDir, "qa.json")), "paraphrase") },
  "factworld-arithmetic": { summary: "fact world: arithmetic in GSM8K format (#### N)", load: (s) =>
    factArithmeticTask(readArithmetic(path.join(s.factworldDataDir, "arithmetic/test.jsonl"))) },
  "factworld-caa": { summary: "fact world: the agreeable behaviour's A/B test set", load: (s) =>
    abTask("factworld-caa", readCaaAB(path.join(s.factworldDataDir, "caa/test/agreeable/test_dataset_ab.json")), "the behaviour-matching answer", (q) => q.trim(), true) },
};
for (const b of CAA_BEHAVIOURS) {
  BUILTIN[`caa-${b}`] = { summary: `CAA ${b} A/B test set: preference for the behaviour-matching answer`, load: (s) =>
    abTask(`caa-${b}`, readCaaAB(path.join(s.dataDir, `caa/test/${b}/test_dataset_ab.json`)), "the behaviour-matching answer") };
}
for (const sub of TOOL_CALL_SUBSETS) BUILTIN[TOOL_CALL_TASKS[sub]] = { summary: TOOL_CALL_SUMMARIES[sub], load: (s) => { const f = path.join(s.factworldDataDir, "world.json"); return toolCallWorldTask(sub, { seed: worldSeedOf(readJson(f, "fact-world world"), f) }); } };
BUILTIN[TOOL_CALL_TASKS.word] = { summary: TOOL_CALL_SUMMARIES.word, load: (s) => { const f = path.join(s.factworldDataDir, "world.json"); return toolCallWordTask(wordProblemWorldOf(readJson(f, "fact-world world"), f)); } };

export { DEFAULT_TASKS } from "./task-names.js";

export function builtinTaskNames(): { name: string; summary: string }[] {
  return Object.entries(BUILTIN).map(([name, b]) => ({ name, summary: b.summary }));
}

/** Task names: built-in names, "caa" (all CAA behaviours), "perplexity:FILE" (text-perplexity.ts), or paths to .yaml/.yml/.json task files. */
export function loadTasks(names: readonly string[], sources: TaskSources): Task[] {
  const s = { ...sources, dataDir: sources.dataDir ?? defaultDataDir() };
  const expanded = names.flatMap((n) => (n === "caa" ? CAA_BEHAVIOURS.map((b) => `caa-${b}`) : [n]));
  return expanded.map((name) => {
    if (name.startsWith("perplexity:")) {
      const file = name.slice("perplexity:".length);
      return textPerplexityTask(textDocuments(readText(file, "perplexity text"), file), { name, maxLength: s.maxLength, describe: `each document of ${file}` });
    }
    if (/\.(ya?ml|json)$/i.test(name)) return loadTaskFile(name);
    const b = BUILTIN[name];
    if (!b) {
      throw new UsageError("UNKNOWN_TASK", `unknown task '${name}'.${didYouMean(name, Object.keys(BUILTIN))}`, {
        fix: `choose from ${Object.keys(BUILTIN).join(", ")}, "caa", perplexity:FILE (a .txt/.jsonl/.json text file), or give a task file (.yaml/.json)`,
      });
    }
    return b.load(s);
  });
}

/** A task defined in a JSON/YAML file (eval/task-file.ts); dataset paths are relative to the file. */
export function loadTaskFile(file: string): Task {
  if (!existsSync(file)) throw new UsageError("TASK_FILE_MISSING", `task file not found`, { file, fix: "check the path" });
  let parsed: unknown;
  try {
    parsed = YAML.parse(readText(file, "task file"));
  } catch (e) {
    throw new ConfigError("TASK_FILE", `cannot parse: ${(e as Error).message}`, { file });
  }
  const def = checkTaskDefinition(parsed, file);
  const rel = (p: string) => path.resolve(path.dirname(file), p);
  const docs = readDataset(rel(def.dataset), def.dataset_field);
  const fewshot = def.fewshot_dataset ? readDataset(rel(def.fewshot_dataset), def.dataset_field) : undefined;
  return taskFromDefinition(def, docs, fewshot, file);
}
