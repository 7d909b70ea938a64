/**
 * Read an editing dataset file into EditCase[]: the format is recognised from the first record's
 * keys (ROME CounterFact, MEND/EasyEdit CounterFact, MEND zsRE, ROME known facts, WISE hallucination
 * and temporal) or named.
 */
import { readFile } from "node:fs/promises";
import type { EditCase } from "./case.js";
import { counterFactCase, isRomeCounterFact } from "./counterfact.js";
import { DatasetError } from "./errors.js";
import { isKnownFacts, knownFact, knownFactCase, type KnownFact } from "./known-facts.js";
import { isMendCounterFact, isZsre, mendCounterFactCase, zsreCase } from "./mend.js";
import { isWiseHallucination, isWiseTemporal, wiseHallucinationCase, wiseTemporalCase } from "./wise.js";

export type EditDatasetFormat = "counterfact" | "counterfact-mend" | "zsre" | "known-facts" | "wise-hallucination" | "wise-temporal";

export const EDIT_FORMATS: readonly EditDatasetFormat[] = ["counterfact", "counterfact-mend", "zsre", "known-facts", "wise-hallucination", "wise-temporal"];

const readers: Record<EditDatasetFormat, (file: string, i: number, r: unknown) => EditCase> = {
  counterfact: counterFactCase,
  "counterfact-mend": mendCounterFactCase,
  zsre: zsreCase,
  "known-facts": knownFactCase,
  "wise-hallucination": wiseHallucinationCase,
  "wise-temporal": wiseTemporalCase,
};

/** The records of a JSON array file; DatasetError for a missing file, bad JSON or a non-array. */
export async function readRecords(file: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DatasetError("DATASET_NOT_FOUND", code === "ENOENT" ? "no such dataset file" : `cannot read the dataset (${code})`, {
      file,
      fix: "check the path given to --data",
      cause: e,
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new DatasetError("DATASET_JSON", `not valid JSON: ${(e as Error).message}`, { file, fix: "the file should hold a JSON array of records", cause: e });
  }
  if (!Array.isArray(data)) throw new DatasetError("DATASET_SHAPE", "the file holds a JSON " + typeof data + ", not an array of records", { file, fix: "give a JSON array of records" });
  return data;
}

export function detectFormat(file: string, records: readonly unknown[]): EditDatasetFormat {
  const first = records[0];
  if (records.length === 0) throw new DatasetError("DATASET_EMPTY", "the dataset has no records", { file });
  if (isRomeCounterFact(first)) return "counterfact";
  if (isMendCounterFact(first)) return "counterfact-mend";
  if (isZsre(first)) return "zsre";
  if (isKnownFacts(first)) return "known-facts";
  if (isWiseTemporal(first)) return "wise-temporal";
  if (isWiseHallucination(first)) return "wise-hallucination";
  const keys = typeof first === "object" && first !== null ? Object.keys(first).join(", ") : typeof first;
  throw new DatasetError("DATASET_FORMAT", `record 0 has keys {${keys}}, which match no editing format`, {
    file,
    field: "[0]",
    fix: `use a CounterFact (ROME or MEND format), zsRE, known-facts or WISE (hallucination, temporal) file, or name the format (${EDIT_FORMATS.join(", ")})`,
  });
}

/** Records → EditCase[] in `format`; every record is checked (an error names its index). */
export function toEditCases(file: string, records: readonly unknown[], format: EditDatasetFormat = detectFormat(file, records)): EditCase[] {
  const read = readers[format];
  return records.map((r, i) => read(file, i, r));
}

export async function loadEditCases(file: string, options: { format?: EditDatasetFormat; limit?: number } = {}): Promise<EditCase[]> {
  const records = await readRecords(file);
  const chosen = options.limit !== undefined ? records.slice(0, options.limit) : records;
  return toEditCases(file, chosen, options.format ?? detectFormat(file, records));
}

export async function loadKnownFacts(file: string): Promise<KnownFact[]> {
  const records = await readRecords(file);
  return records.map((r, i) => knownFact(file, i, r));
}
