/**
 * Inter-annotator agreement over annotation files: several raters label the same items, one row per
 * item and one column per label. Per label column this assembles the statistics of agreement.ts
 * (which it reuses, not re-derives): Krippendorff's alpha, Fleiss' kappa, the mean of the pairwise
 * Cohen kappas, and the percent of items on which every rater gives the same value, as the
 * editing-pitfalls study does (ENSCMA2/flextape, eval/agreement.py).
 *
 * Blanks. By default a blank cell is a missing value: alpha skips it (Krippendorff's alpha is
 * defined with missing data), while Fleiss/Cohen/percent need a complete items × raters table, so
 * they drop every item with any blank; `n` reports how many items each statistic actually used.
 * `fill` instead substitutes a value for blanks per column (flextape: 1.5 for the 1/2 flaw columns,
 * 0 for "Edit reflected?"). An item absent from a rater's file (key join) stays missing, fill or not:
 * that rater never saw it.
 *
 * Browser-safe except readAnnotationFile, which loads Node's fs when called.
 */
import { ConfigError } from "../errors.js";
import { parseCsv } from "../data/benchmarks/csv.js";
import { cohenKappa, fleissKappa, krippendorffAlpha, ratingsToCounts, type AlphaLevel, type Label } from "./agreement.js";

export interface AnnotationFile {
  /** Names the rater in pairwise results and errors (the file path, for files read from disk). */
  name: string;
  rows: Record<string, string>[];
  /** Header order; without it, the keys of the rows. */
  columns?: string[];
}

export interface AnnotationOptions {
  /** Label columns to analyse (default: every column of the first file except `key`). */
  columns?: string[];
  /** Krippendorff alpha's metric (default "nominal"; python `krippendorff` defaults to "interval"). */
  level?: AlphaLevel;
  /** Per column, the value that stands for a blank cell. */
  fill?: Record<string, string>;
  /** A column identifying items: rows are joined on it rather than matched by position. */
  key?: string;
}

export interface ColumnAgreement {
  column: string;
  /** Items in the analysis (rows, or distinct keys across files). */
  nItems: number;
  /** Items each statistic used: alpha counts items with ≥ 2 values; the rest, complete items. */
  n: { alpha: number; fleiss: number; cohen: number; percentAgree: number };
  alpha: number;
  alphaLevel: AlphaLevel;
  fleiss: number;
  cohenMean: number;
  cohenPairs: { a: string; b: string; kappa: number }[];
  /** 0–100. */
  percentAgree: number;
}

type Cell = Label | null;

/** Agreement per label column; see the file comment for how blanks count. NaN where undefined. */
export function annotationAgreement(raters: readonly AnnotationFile[], options: AnnotationOptions = {}): ColumnAgreement[] {
  if (raters.length < 2) {
    throw new ConfigError("ANNOTATION_TOO_FEW_RATERS", `agreement needs at least 2 annotation files, got ${raters.length}`, {
      file: raters[0]?.name,
      fix: "pass one file per annotator",
    });
  }
  const level = options.level ?? "nominal";
  const columns = options.columns ?? headerOf(raters[0]!).filter((c) => c !== options.key);
  if (columns.length === 0) throw new ConfigError("ANNOTATION_NO_COLUMNS", "no label columns to analyse", { file: raters[0]!.name, fix: "check the header row, or pass the columns" });
  for (const r of raters) {
    const header = new Set(headerOf(r));
    for (const c of columns) {
      if (!header.has(c)) throw new ConfigError("ANNOTATION_COLUMN_MISSING", `column '${c}' is missing`, { file: r.name, field: c, fix: `add the column, or leave it out of the columns (this file has: ${[...header].join(", ")})` });
    }
  }
  for (const c of Object.keys(options.fill ?? {})) {
    if (!columns.includes(c)) throw new ConfigError("ANNOTATION_FILL_COLUMN", `a fill value is given for '${c}', which is not an analysed column`, { field: c, fix: `fill one of: ${columns.join(", ")}` });
  }
  const aligned = alignRows(raters, options.key);
  if (aligned.length === 0) throw new ConfigError("ANNOTATION_NO_ITEMS", "the annotation files hold no items", { file: raters[0]!.name, fix: "check the files" });
  return columns.map((column) => columnAgreement(raters, aligned, column, level, options.fill?.[column]));
}

/** Items × raters rows (undefined where a rater has no row for the item). */
function alignRows(raters: readonly AnnotationFile[], key: string | undefined): (Record<string, string> | undefined)[][] {
  if (key === undefined) {
    const n = raters[0]!.rows.length;
    for (const r of raters) {
      if (r.rows.length !== n) {
        throw new ConfigError("ANNOTATION_ROW_COUNT", `${r.rows.length} rows, but ${raters[0]!.name} has ${n}; without a key, rows are matched by position`, {
          file: r.name,
          fix: "give every file the same items in the same order, or name a key column that identifies items",
        });
      }
    }
    return Array.from({ length: n }, (_, i) => raters.map((r) => r.rows[i]));
  }
  const order: string[] = [];
  const byRater = raters.map((r) => {
    if (!headerOf(r).includes(key)) throw new ConfigError("ANNOTATION_KEY_MISSING", `key column '${key}' is missing`, { file: r.name, field: key, fix: "add the key column to every file, or drop the key" });
    const m = new Map<string, Record<string, string>>();
    for (const row of r.rows) {
      const k = (row[key] ?? "").trim();
      if (m.has(k)) throw new ConfigError("ANNOTATION_KEY_REPEATED", `key '${k}' appears more than once`, { file: r.name, field: key, fix: "each item must appear once per file" });
      m.set(k, row);
    }
    return m;
  });
  // Items in order of first appearance, first file first: the union, so an item one rater skipped
  // still counts for alpha (as missing data) rather than vanishing silently.
  const seen = new Set<string>();
  for (const m of byRater) for (const k of m.keys()) if (!seen.has(k)) (seen.add(k), order.push(k));
  return order.map((k) => byRater.map((m) => m.get(k)));
}

function columnAgreement(raters: readonly AnnotationFile[], items: (Record<string, string> | undefined)[][], column: string, level: AlphaLevel, fill: string | undefined): ColumnAgreement {
  const raw = items.map((row) => row.map((r) => (r === undefined ? undefined : (r[column] ?? "").trim() || fill?.trim() || undefined)));
  // Numbers when every value is numeric, so "1" and "1.0" agree and interval metrics apply.
  const numeric = raw.every((row) => row.every((v) => v === undefined || isNumeric(v)));
  if (!numeric && level !== "nominal") {
    const [u, i] = firstWhere(raw, (v) => v !== undefined && !isNumeric(v));
    throw new ConfigError("ANNOTATION_NOT_NUMERIC", `level ${level} needs numbers, but item ${u + 1} has '${raw[u]![i]}' in column '${column}'`, { file: raters[i]!.name, field: column, fix: "use --level nominal, or fix the value" });
  }
  const cells: Cell[][] = raw.map((row) => row.map((v) => (v === undefined ? null : numeric ? Number(v) : v)));
  const complete = cells.filter((row): row is Label[] => row.every((v) => v !== null));
  const pairable = cells.filter((row) => row.filter((v) => v !== null).length >= 2).length;
  const observers = raters.map((_, i) => cells.map((row) => row[i]!));
  const alpha = pairable === 0 ? NaN : krippendorffAlpha(observers, level);
  const fleiss = complete.length === 0 ? NaN : fleissKappa(ratingsToCounts(complete).counts);
  const cohenPairs: ColumnAgreement["cohenPairs"] = [];
  for (let a = 0; a < raters.length; a++)
    for (let b = a + 1; b < raters.length; b++) {
      const kappa = complete.length === 0 ? NaN : cohenKappa(complete.map((r) => r[a]!), complete.map((r) => r[b]!));
      cohenPairs.push({ a: raters[a]!.name, b: raters[b]!.name, kappa });
    }
  const cohenMean = cohenPairs.reduce((s, p) => s + p.kappa, 0) / cohenPairs.length;
  const allAgree = complete.filter((row) => row.every((v) => v === row[0])).length;
  const percentAgree = complete.length === 0 ? NaN : (100 * allAgree) / complete.length;
  const nc = complete.length;
  return { column, nItems: items.length, n: { alpha: pairable, fleiss: nc, cohen: nc, percentAgree: nc }, alpha, alphaLevel: level, fleiss, cohenMean, cohenPairs, percentAgree };
}

function isNumeric(v: string): boolean {
  return v !== "" && Number.isFinite(Number(v));
}

function firstWhere<T>(m: T[][], p: (v: T) => boolean): [number, number] {
  for (let u = 0; u < m.length; u++) for (let i = 0; i < m[u]!.length; i++) if (p(m[u]![i]!)) return [u, i];
  return [-1, -1];
}

function headerOf(r: AnnotationFile): string[] {
  return r.columns ?? [...new Set(r.rows.flatMap((row) => Object.keys(row)))];
}

/**
 * Read one annotator's file: .json (an array of objects; null → blank) or otherwise CSV (RFC 4180,
 * first row the header, BOM stripped; parsing reuses data/benchmarks/csv.ts).
 */
export async function readAnnotationFile(file: string): Promise<AnnotationFile> {
  // Node-only, loaded here so the statistics above stay usable in the browser.
  const [{ promises: fs }, { readJsonFile }] = await Promise.all([import("node:fs"), import("../io/json.js")]);
  if (file.toLowerCase().endsWith(".json")) return jsonAnnotations(file, await readJsonFile(file));
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(code === "ENOENT" ? "FILE_MISSING" : "FILE_UNREADABLE", code === "ENOENT" ? "file not found" : `cannot read the file (${code ?? String(e)})`, { file, fix: "check the path", cause: e });
  }
  const [header, ...records] = parseCsv(text);
  if (!header) throw new ConfigError("ANNOTATION_EMPTY", "the CSV file is empty (no header row)", { file, fix: "the first row must name the columns" });
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup !== undefined) throw new ConfigError("ANNOTATION_DUPLICATE_COLUMN", `column '${dup}' appears twice in the header`, { file, field: dup, fix: "give every column a distinct name" });
  // A blank line (one empty field) is not an item; short rows read as blanks, like csvRecords.
  const rows = records.filter((r) => r.length > 1 || r[0] !== "").map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ""])));
  return { name: file, rows, columns: header };
}

function jsonAnnotations(file: string, doc: unknown): AnnotationFile {
  const bad = (why: string) => new ConfigError("ANNOTATION_JSON_SHAPE", why, { file, fix: "write an array of objects, one per item, e.g. [{\"id\": 1, \"Sexism\": 2}]" });
  if (!Array.isArray(doc)) throw bad("expected an array of objects");
  const columns = new Set<string>();
  const rows = doc.map((item, i) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) throw bad(`item ${i + 1} is not an object`);
    return Object.fromEntries(
      Object.entries(item as Record<string, unknown>).map(([k, v]) => {
        columns.add(k);
        if (v === null || v === undefined) return [k, ""];
        if (typeof v === "object") throw bad(`item ${i + 1}, field '${k}' is not a string, number or boolean`);
        return [k, String(v)];
      }),
    );
  });
  return { name: file, rows, columns: [...columns] };
}
