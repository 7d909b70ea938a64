/**
 * Reading and writing JSON files (Node). Every problem is a typed error naming the file: a missing
 * file (FILE_MISSING), a syntax error with line and column (JSON_SYNTAX), a repeated key
 * (JSON_DUPLICATE_KEY). Parsing itself is browser-safe and lives in json-parse.ts.
 */
import { promises as fs } from "node:fs";
import { ConfigError } from "../errors.js";
import { writeFileAtomic } from "./atomic.js";
import { parseJsonDocument, type JsonDocumentOptions } from "./json-parse.js";

export { parseJsonDocument, isJsonObject, type ErrorClass, type JsonDocumentOptions } from "./json-parse.js";

/** Read and parse a JSON file. Default error class: ConfigError. */
export async function readJsonFile(file: string, options: JsonDocumentOptions = {}): Promise<unknown> {
  const Err = options.errorClass ?? ConfigError;
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new Err("FILE_MISSING", "file not found", { file, fix: `create ${options.what ?? "the file"} or check the path`, cause: e });
    }
    if (code === "EISDIR") throw new Err("FILE_IS_DIRECTORY", "expected a JSON file but found a directory", { file, fix: "point to the JSON file itself", cause: e });
    throw new Err("FILE_UNREADABLE", `cannot read the file (${code ?? String(e)})`, { file, fix: "check the file's permissions", cause: e });
  }
  // A UTF-8 byte order mark is not JSON, but some editors write one; it carries no meaning.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return parseJsonDocument(text, file, options);
}

/** Write `value` as pretty JSON (2-space indent, trailing newline), atomically. */
export async function writeJsonFile(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}
