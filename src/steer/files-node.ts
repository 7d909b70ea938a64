/**
 * Reading the steering datasets from disk (Node adapter of steer/ab-data.ts): the CAA layout
 * DATA/generate/<behavior>/generate_dataset.json, DATA/test/<behavior>/test_dataset_ab.json and
 * test_dataset_open_ended.json (github.com/nrimsky/CAA datasets/), the fact world's labelled
 * StyledPrompt[] (behaviour.json) and GSM8K-format JSON lines. Errors name the file and the fix.
 */
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { ConfigError, UsageError } from "../errors.js";
import { parseABItems, parseOpenEnded, type ABItem, type OpenEndedItem } from "./ab-data.js";
import type { LabelledPrompt } from "./fit.js";
import { didYouMean } from "../util/closest.js";
import { parseJsonDocument } from "../io/json-parse.js";

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch {
    throw new UsageError("MISSING_FILE", `cannot read ${file}`, { file, fix: "check the path" });
  }
  return parseJsonDocument(text, file, { errorClass: ConfigError });
}

export interface CAABehaviorData {
  behavior: string;
  /** Items to fit vectors on (generate_dataset.json). */
  generate: ABItem[];
  /** Held-out A/B items (test_dataset_ab.json). */
  testAB: ABItem[];
  /** Open-ended questions (test_dataset_open_ended.json), empty when the file is absent. */
  openEnded: OpenEndedItem[];
  files: { generate: string; testAB: string; openEnded?: string };
}

/** Load one behaviour of a CAA data folder; unknown behaviours list the ones present. */
export async function loadCAABehavior(dataDir: string, behavior: string): Promise<CAABehaviorData> {
  if (!existsSync(dataDir)) throw new UsageError("MISSING_DATA", `no CAA data folder at ${dataDir}`, { file: dataDir, fix: "pass --data DIR with generate/<behavior>/ and test/<behavior>/ inside" });
  const genDir = path.join(dataDir, "generate");
  const generate = path.join(genDir, behavior, "generate_dataset.json");
  if (!existsSync(generate)) {
    const known = existsSync(genDir) ? (await fs.readdir(genDir)).filter((d) => existsSync(path.join(genDir, d, "generate_dataset.json"))) : [];
    throw new UsageError("UNKNOWN_BEHAVIOR", `no behaviour '${behavior}' in ${dataDir} (found: ${known.join(", ") || "none"}).${didYouMean(behavior, known)}`, {
      file: generate,
      fix: "pass --behavior with one of the behaviours found",
    });
  }
  const testAB = path.join(dataDir, "test", behavior, "test_dataset_ab.json");
  if (!existsSync(testAB)) throw new UsageError("MISSING_FILE", `behaviour '${behavior}' has no A/B test set`, { file: testAB, fix: "add test/<behavior>/test_dataset_ab.json" });
  const openEnded = path.join(dataDir, "test", behavior, "test_dataset_open_ended.json");
  const hasOpen = existsSync(openEnded);
  return {
    behavior,
    generate: parseABItems(await readJson(generate), generate),
    testAB: parseABItems(await readJson(testAB), testAB),
    openEnded: hasOpen ? parseOpenEnded(await readJson(openEnded), openEnded) : [],
    files: { generate, testAB, ...(hasOpen ? { openEnded } : {}) },
  };
}

/** The behaviours of a CAA data folder: the folders under DATA/generate/ holding generate_dataset.json, sorted (CAA's ALL_BEHAVIORS for its data). */
export async function listCAABehaviors(dataDir: string): Promise<string[]> {
  const genDir = path.join(dataDir, "generate");
  if (!existsSync(genDir)) throw new UsageError("MISSING_DATA", `no CAA generate folder at ${genDir}`, { file: genDir, fix: "pass a CAA data folder with generate/<behavior>/generate_dataset.json inside" });
  return (await fs.readdir(genDir)).filter((d) => existsSync(path.join(genDir, d, "generate_dataset.json"))).sort();
}

/**
 * Every behaviour's generate set, for CAA's cross-behaviour vector normalisation
 * (experiment.ts FitOptions.normalizeWith): test sets are not read (testAB and openEnded are empty).
 */
export async function loadCAAGenerateSets(dataDir: string): Promise<{ behavior: string; generate: ABItem[]; testAB: ABItem[]; openEnded: OpenEndedItem[] }[]> {
  const out = [];
  for (const behavior of await listCAABehaviors(dataDir)) {
    const file = path.join(dataDir, "generate", behavior, "generate_dataset.json");
    out.push({ behavior, generate: parseABItems(await readJson(file), file), testAB: [], openEnded: [] });
  }
  return out;
}

/** The fact world's behaviour.json (StyledPrompt[]): label 1 = `positive` cue, 0 = the other cue; neutral prompts dropped. */
export async function loadStyledPrompts(file: string, positive = "agreeable"): Promise<LabelledPrompt[]> {
  const json = await readJson(file);
  if (!Array.isArray(json)) throw new ConfigError("STYLED_FORMAT", "behaviour.json must hold an array of {prompt, cue, marker}", { file });
  const out: LabelledPrompt[] = [];
  json.forEach((raw, i) => {
    const r = raw as { prompt?: unknown; cue?: unknown };
    if (typeof r?.prompt !== "string" || typeof r.cue !== "string") throw new ConfigError("STYLED_FORMAT", `item ${i} needs string prompt and cue`, { file, field: `[${i}]` });
    if (r.cue === "neutral") return;
    out.push({ prompt: r.prompt, label: r.cue === positive ? 1 : 0 });
  });
  return out;
}

/** GSM8K JSON lines ({"question", "answer" ending "#### N"}). */
export async function loadGsm8k(file: string): Promise<{ question: string; target: number }[]> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch {
    throw new UsageError("MISSING_FILE", `cannot read ${file}`, { file, fix: "check the path" });
  }
  return text.split("\n").filter((l) => l.trim()).map((line, i) => {
    let r: { question?: unknown; answer?: unknown };
    try {
      r = JSON.parse(line) as typeof r;
    } catch {
      throw new ConfigError("GSM8K_FORMAT", `line ${i + 1} is not JSON`, { file, field: `line ${i + 1}` });
    }
    const m = typeof r.answer === "string" ? /####\s*(-?[0-9.,]+)/.exec(r.answer) : null;
    if (typeof r.question !== "string" || !m) throw new ConfigError("GSM8K_FORMAT", `line ${i + 1} needs "question" and an "answer" ending "#### N"`, { file, field: `line ${i + 1}` });
    return { question: r.question, target: Number(m[1]!.replace(/,/g, "")) };
  });
}
