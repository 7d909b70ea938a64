/**
 * Readers for the benchmark datasets in `../shared/data` (SOURCES.md there says where each came
 * from) and the fact world's exports. Each returns plain documents for the task builders in
 * src/eval/tasks; every missing or malformed file is a UsageError naming the file and the fix.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../../errors.js";
import type { ABDoc } from "../../eval/tasks/ab.js";
import type { ArithmeticDoc, FactQueryDoc } from "../../eval/tasks/factworld.js";
import type { Gsm8kDoc } from "../../eval/tasks/gsm8k.js";
import type { MmluDoc } from "../../eval/tasks/mmlu.js";
import { csvRecords } from "./csv.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** The benchmark data folder: $SCALPEL_DATA_DIR, else ../shared/data beside the repository. */
export function defaultDataDir(): string {
  return process.env.SCALPEL_DATA_DIR ?? path.resolve(REPO_ROOT, "..", "shared", "data");
}

export function readText(file: string, what: string): string {
  if (!existsSync(file)) {
    throw new UsageError("DATASET_MISSING", `${what}: file not found`, { file, fix: "pass --data-dir DIR (the folder holding mmlu/, gsm8k/, …) or set SCALPEL_DATA_DIR" });
  }
  return readFileSync(file, "utf8");
}

export function readJson(file: string, what: string): unknown {
  const text = readText(file, what);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError("DATASET_PARSE", `${what}: not valid JSON (${(e as Error).message})`, { file });
  }
}

export function readJsonl(file: string, what: string): unknown[] {
  return readText(file, what)
    .split("\n")
    .map((l, i) => [l.trim(), i] as const)
    .filter(([l]) => l !== "")
    .map(([l, i]) => {
      try {
        return JSON.parse(l);
      } catch (e) {
        throw new UsageError("DATASET_PARSE", `${what}: line ${i + 1} is not valid JSON (${(e as Error).message})`, { file });
      }
    });
}

function need<T>(x: unknown, fields: string[], file: string, what: string): T {
  for (const f of fields) {
    if (x === null || typeof x !== "object" || !(f in x)) throw new UsageError("DATASET_FIELD", `${what}: a record lacks field '${f}'`, { file, field: f });
  }
  return x as T;
}

function list(x: unknown, file: string, what: string): unknown[] {
  if (!Array.isArray(x)) throw new UsageError("DATASET_PARSE", `${what}: expected a JSON list`, { file });
  return x;
}

/** MMLU CSVs (header question,choice0..3,answer with answer 0–3), subjects in alphabetical order. */
export function readMmlu(dir: string): { test: MmluDoc[]; dev: MmluDoc[] } {
  const split = (name: "test" | "dev"): MmluDoc[] => {
    const folder = path.join(dir, name);
    if (!existsSync(folder)) throw new UsageError("DATASET_MISSING", `MMLU ${name} split: folder not found`, { file: folder, fix: "pass --data-dir DIR" });
    const files = readdirSync(folder).filter((f) => f.endsWith(`_${name}.csv`)).sort();
    return files.flatMap((f) => {
      const subject = f.slice(0, -`_${name}.csv`.length);
      return csvRecords(readText(path.join(folder, f), "MMLU")).map((r) => {
        const answer = /^[A-D]$/.test(r.answer!) ? "ABCD".indexOf(r.answer!) : Number(r.answer);
        if (!(answer >= 0 && answer <= 3)) throw new UsageError("DATASET_FIELD", `MMLU: answer ${JSON.stringify(r.answer)} is not 0–3 or A–D`, { file: path.join(folder, f), field: "answer" });
        return { subject, question: r.question!, choices: [r.choice0!, r.choice1!, r.choice2!, r.choice3!], answer };
      });
    });
  };
  return { test: split("test"), dev: split("dev") };
}

export function readGsm8k(file: string): Gsm8kDoc[] {
  return readJsonl(file, "GSM8K").map((r) => need<Gsm8kDoc>(r, ["question", "answer"], file, "GSM8K"));
}

/** LAMBADA OpenAI jsonl ({"text": …} per line). */
export function readLambada(file: string): string[] {
  return readJsonl(file, "LAMBADA").map((r) => need<{ text: string }>(r, ["text"], file, "LAMBADA").text);
}

/** CAA behaviour A/B test sets: gold = answer_matching_behavior. */
export function readCaaAB(file: string): ABDoc[] {
  return list(readJson(file, "CAA A/B"), file, "CAA A/B").map((r) => {
    const x = need<{ question: string; answer_matching_behavior: string; answer_not_matching_behavior: string }>(
      r, ["question", "answer_matching_behavior", "answer_not_matching_behavior"], file, "CAA A/B");
    return { question: x.question, gold: x.answer_matching_behavior, other: x.answer_not_matching_behavior };
  });
}

/** CAA's A/B forms of TruthfulQA / MMLU ({prompt, correct, incorrect, category}): gold = correct. */
export function readCaaQA(file: string): ABDoc[] {
  return list(readJson(file, "CAA A/B QA"), file, "CAA A/B QA").map((r) => {
    const x = need<{ prompt: string; correct: string; incorrect: string; category?: string }>(r, ["prompt", "correct", "incorrect"], file, "CAA A/B QA");
    return { question: x.prompt, gold: x.correct, other: x.incorrect, ...(x.category ? { category: x.category } : {}) };
  });
}

export function readFactQueries(file: string): FactQueryDoc[] {
  return list(readJson(file, "fact-world QA"), file, "fact-world QA").map((r) => need<FactQueryDoc>(r, ["prompt", "answer", "relation", "subject", "templates"], file, "fact-world QA"));
}

export function readArithmetic(file: string): ArithmeticDoc[] {
  return readJsonl(file, "fact-world arithmetic").map((r) => need<ArithmeticDoc>(r, ["question", "answer"], file, "fact-world arithmetic"));
}

/** Any dataset file for task definitions: .json (a list, or `field` of an object), .jsonl, .csv. */
export function readDataset(file: string, field?: string): unknown[] {
  if (file.endsWith(".jsonl")) return readJsonl(file, "dataset");
  if (file.endsWith(".csv")) return csvRecords(readText(file, "dataset"));
  let v = readJson(file, "dataset");
  if (field !== undefined) {
    if (v === null || typeof v !== "object" || !(field in v)) throw new UsageError("DATASET_FIELD", `dataset has no field '${field}'`, { file, field });
    v = (v as Record<string, unknown>)[field];
  }
  return list(v, file, "dataset");
}
