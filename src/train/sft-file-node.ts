/**
 * Supervised fine-tuning examples from a file (Node): a JSON array of {"prompt", "completion"}
 * records, or JSON lines with one such record per line (a file ending in .jsonl, or whose first
 * non-blank character is not "["). Every error names the file and, for JSON lines, the line.
 */
import { promises as fs } from "node:fs";
import { UsageError } from "../errors.js";
import type { SftExample } from "./sft-batches.js";

function record(row: unknown, file: string, where: string): SftExample {
  if (row === null || typeof row !== "object" || Array.isArray(row)) {
    throw new UsageError("SFT_DATA", `${where} is not a JSON object`, { file, fix: 'give {"prompt": "...", "completion": "..."} records' });
  }
  const r = row as Record<string, unknown>;
  for (const k of ["prompt", "completion"] as const) {
    if (typeof r[k] !== "string") throw new UsageError("SFT_DATA", `${where} has no string field "${k}"`, { file, field: k, fix: 'give each record "prompt" and "completion" strings' });
  }
  if ((r.completion as string).trim() === "") throw new UsageError("SFT_DATA", `${where} has an empty "completion"`, { file, field: "completion", fix: "give every record a non-empty completion" });
  return { prompt: r.prompt as string, completion: r.completion as string };
}

/** Read {prompt, completion} records from a .json array or .jsonl file. */
export async function readSftExamples(file: string): Promise<SftExample[]> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (e) {
    throw new UsageError("SFT_DATA_UNREADABLE", `cannot read the fine-tuning data (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { file, fix: "check the --data path" });
  }
  const examples: SftExample[] = [];
  if (!file.endsWith(".jsonl") && text.trimStart().startsWith("[")) {
    let rows: unknown;
    try {
      rows = JSON.parse(text);
    } catch (e) {
      throw new UsageError("SFT_DATA", `not valid JSON (${(e as Error).message})`, { file, fix: "give a JSON array of records, or one JSON record per line (.jsonl)" });
    }
    (rows as unknown[]).forEach((row, i) => examples.push(record(row, file, `record ${i}`)));
  } else {
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === "") return;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch (e) {
        throw new UsageError("SFT_DATA", `line ${i + 1} is not valid JSON (${(e as Error).message})`, { file, fix: 'give one {"prompt": "...", "completion": "..."} object per line' });
      }
      examples.push(record(row, file, `line ${i + 1}`));
    });
  }
  if (examples.length === 0) throw new UsageError("SFT_DATA_EMPTY", "the fine-tuning data has no records", { file, fix: 'give {"prompt", "completion"} records' });
  return examples;
}
