/** Node side of mom2.ts's corpus resolution: WikiText-2 from the shared data, or a user's file. */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors.js";
import type { Corpus } from "./mom2.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const WIKITEXT = path.join(REPO_ROOT, "..", "shared", "data", "wikitext-2", "raw", "wiki.test.raw");

/** WikiText-2 (raw, test split): one text per paragraph line, section headings (" = … = ") left out. */
export function wikitext2(): Corpus {
  if (!existsSync(WIKITEXT)) {
    throw new ConfigError("EDIT_MOM2", `WikiText-2 is not at ${WIKITEXT}`, { field: "mom2Dataset", fix: "set mom2_dataset to a .txt or .json corpus file" });
  }
  const texts = readFileSync(WIKITEXT, "utf8").split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "" && !/^=.*=$/.test(l));
  return { id: "wikitext-2-raw-v1:test", texts };
}

/** A .json file holding string[] (or {text}[]), or a text file with one text per line. */
export function readCorpusFile(file: string): Corpus {
  if (!existsSync(file)) {
    throw new ConfigError("EDIT_MOM2", `covariance corpus ${file} does not exist`, { field: "mom2Dataset", fix: 'use "auto", "wikitext-2", "factworld", "factworld-m", or a path to a .txt/.json corpus' });
  }
  const raw = readFileSync(file, "utf8");
  if (file.endsWith(".json")) {
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch (e) {
      throw new ConfigError("EDIT_MOM2", `covariance corpus ${file} is not valid JSON`, { file, cause: e, fix: "give a JSON array of strings" });
    }
    if (!Array.isArray(data)) throw new ConfigError("EDIT_MOM2", "covariance corpus must be a JSON array", { file, fix: "give a JSON array of strings" });
    const texts = data.map((x, i) => {
      if (typeof x === "string") return x;
      if (x && typeof (x as { text?: unknown }).text === "string") return (x as { text: string }).text;
      throw new ConfigError("EDIT_MOM2", `entry ${i} is neither a string nor {text}`, { file, fix: "give a JSON array of strings" });
    });
    return { texts }; // no id: the cache key hashes the texts, so an edited file is a new corpus
  }
  return { texts: raw.split(/\r?\n/) };
}
