/**
 * Node adapter: find and read tokenizer files, then hand the bytes to the pure builders.
 *
 * `loadTokenizer(dir)` prefers tokenizer.json (+ tokenizer_config.json beside it, read as
 * transformers does); a directory without one but with a SentencePiece `tokenizer.model` (or a
 * single other `*.model`) is converted the way transformers' LlamaConverter does.
 *
 * node:fs and node:path are imported lazily so that index.ts can re-export this function and
 * still be imported in a browser (where calling it is, naturally, an error).
 */
import { TokenizerError } from "../../errors.js";
import { tokenizerFromSentencePiece } from "./sentencepiece.js";
import { tokenizerFromJSON } from "./tokenizer.js";
import type { Tokenizer } from "./types.js";

export async function loadTokenizer(dirOrFile: string): Promise<Tokenizer> {
  const fs = await import("node:fs/promises");
  const path = await import("node:path");
  let stat;
  try {
    stat = await fs.stat(dirOrFile);
  } catch (e) {
    throw new TokenizerError("TOKENIZER_NOT_FOUND", `no such file or directory`, {
      file: dirOrFile,
      fix: "pass a checkpoint directory holding tokenizer.json or tokenizer.model, or one of those files",
      cause: e,
    });
  }
  const dir = stat.isDirectory() ? dirOrFile : path.dirname(dirOrFile);
  const config = await readConfig(path.join(dir, "tokenizer_config.json"));
  let file: string;
  if (stat.isDirectory()) {
    const names = await fs.readdir(dirOrFile);
    const models = names.filter((n) => n.endsWith(".model"));
    if (names.includes("tokenizer.json")) file = path.join(dir, "tokenizer.json");
    else if (names.includes("tokenizer.model")) file = path.join(dir, "tokenizer.model");
    else if (models.length === 1) file = path.join(dir, models[0]!);
    else {
      throw new TokenizerError("TOKENIZER_NOT_FOUND", "no tokenizer.json or SentencePiece tokenizer.model in the directory", {
        file: dirOrFile,
        fix: "copy tokenizer.json (and tokenizer_config.json) or tokenizer.model from the model's repository",
      });
    }
  } else {
    file = dirOrFile;
  }
  const bytes = await fs.readFile(file);
  if (file.endsWith(".json")) return tokenizerFromJSON(bytes.toString("utf8"), { config, file });
  return tokenizerFromSentencePiece(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { config, file });
}

/** tokenizer_config.json beside the tokenizer, or {} when absent. */
async function readConfig(file: string): Promise<Record<string, unknown> | undefined> {
  const fs = await import("node:fs/promises");
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    const j = JSON.parse(text);
    if (j && typeof j === "object" && !Array.isArray(j)) return j as Record<string, unknown>;
  } catch (e) {
    throw new TokenizerError("TOKENIZER_CONFIG", `tokenizer_config.json is not valid JSON: ${(e as Error).message}`, { file, cause: e });
  }
  throw new TokenizerError("TOKENIZER_CONFIG", "tokenizer_config.json must hold a JSON object", { file });
}
