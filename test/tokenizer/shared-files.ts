/** Locating /work/shared reference material for tokenizer tests (skipped, with a reason, when absent). */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SHARED = path.resolve(REPO, "../shared");
export const FIXTURES = path.join(REPO, "test/fixtures");

/** Path of a shared tokenizer directory. */
export const tokDir = (name: string) => path.join(SHARED, "tokenizers", name);

/** `false` when every path exists, else a skip message naming what is missing. */
export function missing(...paths: string[]): string | false {
  const gone = paths.filter((p) => !existsSync(p));
  return gone.length ? `missing shared reference files: ${gone.join(", ")}` : false;
}

/** The shared test corpus (also read by scripts/make-llama2-golden.py). */
export function corpus(): string[] {
  return JSON.parse(readFileSync(path.join(FIXTURES, "tokenizer-corpus.json"), "utf8")) as string[];
}
