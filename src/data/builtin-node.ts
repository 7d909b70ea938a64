/**
 * The built-in default model and its datasets: every command that takes `--model` uses the
 * fact-world model when the flag is omitted, and every command that takes a dataset defaults to
 * the fact world's matching export, so each feature can be tried with no files at hand.
 *
 * The checkpoint is an ordinary Hugging Face directory in the repository (models/factworld),
 * rebuilt deterministically by `scalpel train-default`. Node-only (file paths); the CLI and the
 * experiment kinds resolve their defaults here.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../errors.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export const BUILTIN_MODEL_DIR = path.join(REPO_ROOT, "models", "factworld");
export const BUILTIN_DATA_DIR = path.join(BUILTIN_MODEL_DIR, "data");

/** Files of the fact world's dataset exports (written by `scalpel train-default`). */
export const BUILTIN_DATA = {
  /** ROME CounterFact format (CounterFactRecord[]). */
  counterfact: "counterfact.json",
  /** MEND/EasyEdit zsRE format (ZsreRecord[]). */
  zsre: "zsre.json",
  /** WISE hallucination format (WiseRecord[]; src/data/factworld/wise-exports.ts). */
  wiseHallucination: "wise-hallucination.json",
  /** WISE temporal format (WiseTemporalRecord[], with ood_rephrase). */
  wiseTemporal: "wise-temporal.json",
  /** FactQuery[]: every trained fact asked with train and held-out templates. */
  qa: "qa.json",
  /** GSM8K format (one {"question","answer"} per line, answers end "#### N"). */
  arithmeticTrain: "arithmetic/train.jsonl",
  arithmeticTest: "arithmetic/test.jsonl",
  /** CAA layout: caa/generate/<behavior>/generate_dataset.json, caa/test/<behavior>/test_dataset_ab.json, …_open_ended.json. */
  caa: "caa",
  /** StyledPrompt[] for probes: prompts whose cue says which style the answer takes. */
  behaviour: "behaviour.json",
  /** Tool-call vs copy prompts. */
  tools: "tools.json",
} as const;

/** The fact world's behaviour name in the CAA layout. */
export const BUILTIN_BEHAVIOR = "agreeable";

export type BuiltinDataName = keyof typeof BUILTIN_DATA;

export function builtinDataPath(name: BuiltinDataName): string {
  return path.join(BUILTIN_DATA_DIR, BUILTIN_DATA[name]);
}

/** `--model`'s value, or the built-in model's directory when it was omitted. */
export function resolveModelDir(flag: string | undefined): string {
  if (flag !== undefined) return flag;
  if (!existsSync(path.join(BUILTIN_MODEL_DIR, "model.safetensors"))) {
    throw new UsageError("NO_BUILTIN_MODEL", `the built-in model is missing (${BUILTIN_MODEL_DIR})`, {
      fix: "run `scalpel train-default` to rebuild it, or pass --model DIR",
    });
  }
  return BUILTIN_MODEL_DIR;
}
