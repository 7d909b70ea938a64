/**
 * Training documents from a text file (Node): one document per line, or JSON lines with a "text"
 * field (a file ending in .jsonl, or whose first non-empty line starts with "{"). Each document
 * is tokenised without special tokens and framed as BOS … EOS with whichever of the two the
 * tokenizer has, so documents packed together stay separated.
 */
import { promises as fs } from "node:fs";
import { UsageError } from "../errors.js";
import type { Tokenizer } from "../io/tokenizer/types.js";
import type { TrainDocument } from "./batches.js";

export async function readTextDocuments(file: string, tokenizer: Tokenizer): Promise<TrainDocument[]> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (e) {
    throw new UsageError("DATA_FILE_UNREADABLE", `cannot read the training data (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { file, fix: "check the --data path" });
  }
  const lines = text.split(/\r?\n/);
  const firstLine = lines.find((l) => l.trim() !== "") ?? "";
  const jsonl = file.endsWith(".jsonl") || firstLine.trimStart().startsWith("{");
  const texts: string[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    if (!jsonl) return void texts.push(line);
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new UsageError("DATA_JSONL", `line ${i + 1} is not valid JSON (${(e as Error).message})`, { file, fix: "give one JSON object per line, or plain text with one document per line" });
    }
    const t = (row as { text?: unknown } | null)?.text;
    if (typeof t !== "string") throw new UsageError("DATA_JSONL", `line ${i + 1} has no string field "text"`, { file, field: "text", fix: 'give each line a "text" field' });
    texts.push(t);
  });
  if (texts.length === 0) throw new UsageError("DATA_EMPTY", "the training data has no documents", { file, fix: "give a file with one document per line" });
  return texts.map((t) => {
    const ids = tokenizer.encode(t, { addSpecialTokens: false }).ids;
    const tokens = [...(tokenizer.bosId !== undefined ? [tokenizer.bosId] : []), ...ids, ...(tokenizer.eosId !== undefined ? [tokenizer.eosId] : [])];
    return { tokens };
  });
}
