/**
 * `scalpel agreement`: inter-annotator agreement over one annotation file per rater. A thin flag
 * parser over analysis/annotations.ts; prints a Markdown table or JSON.
 */
import { UsageError } from "../../errors.js";
import type { AlphaLevel } from "../../analysis/agreement.js";
import { annotationAgreement, readAnnotationFile, type ColumnAgreement } from "../../analysis/annotations.js";
import { didYouMean } from "../../util/closest.js";
import { parseFlags, type Command } from "../command.js";

const LEVELS: AlphaLevel[] = ["nominal", "ordinal", "interval", "ratio"];

const usage = `scalpel agreement — inter-annotator agreement over annotation files

usage: scalpel agreement FILE FILE [FILE...] [--columns a,b] [--level L] [--fill COL=VALUE ...] [--key COL] [--json]

  FILE               one file per annotator: CSV with a header row, or JSON (an array of objects);
                     one row per item, one column per label
  --columns a,b      label columns to analyse (default: every column of the first file but --key)
  --level L          Krippendorff alpha's metric: nominal (default) | ordinal | interval | ratio
                     (python's krippendorff.alpha defaults to interval)
  --fill COL=VALUE   the value a blank cell stands for in COL (repeatable). Without it a blank is a
                     missing value: alpha skips it, and kappa / % agree drop items with any blank
  --key COL          join rows on this item-id column (default: match rows by position)
  --json             print JSON instead of a table

Per column: Krippendorff's alpha, Fleiss' kappa, the mean of pairwise Cohen's kappas, and the
percent of items on which all annotators agree; n = items used (α counts items with ≥ 2 values).

examples:
  scalpel agreement a1.csv a2.csv a3.csv --level interval --fill Sexism=1.5 --fill "Edit reflected?=0"
  scalpel agreement r1.json r2.json --key id --columns label --json`;

export const agreementCommand: Command = {
  name: "agreement",
  summary: "Inter-annotator agreement (Krippendorff α, Fleiss κ, Cohen κ, % agree) over annotation files",
  usage,
  async run(argv) {
    const { values, positionals } = parseFlags(
      "agreement",
      argv,
      {
        columns: { type: "string" },
        level: { type: "string" },
        fill: { type: "string", multiple: true },
        key: { type: "string" },
        json: { type: "boolean" },
      },
      true,
    );
    if (positionals.length < 2) throw new UsageError("AGREEMENT_FILES", `scalpel agreement needs at least 2 annotation files, got ${positionals.length}`, { fix: "pass one file per annotator: scalpel agreement a1.csv a2.csv" });
    const level = (values.level ?? "nominal") as AlphaLevel;
    if (!LEVELS.includes(level)) throw new UsageError("BAD_LEVEL", `--level must be one of ${LEVELS.join(", ")}, got '${values.level}'.${didYouMean(values.level!, LEVELS)}`, { field: "--level" });
    const columns = values.columns?.split(",").map((c) => c.trim()).filter((c) => c !== "");
    if (columns !== undefined && columns.length === 0) throw new UsageError("BAD_COLUMNS", "--columns names no column", { field: "--columns", fix: "e.g. --columns Sexism,Racism" });
    const fill = fillFlags(values.fill ?? []);
    const raters = await Promise.all(positionals.map((f) => readAnnotationFile(f)));
    const results = annotationAgreement(raters, { columns, level, fill, key: values.key });
    if (values.json) console.log(JSON.stringify(results, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2));
    else console.log(agreementTable(results));
  },
};

/** `COL=VALUE` pairs; split at the last '=' since column headers are freer text than fill values. */
function fillFlags(specs: string[]): Record<string, string> {
  const fill: Record<string, string> = {};
  for (const s of specs) {
    const at = s.lastIndexOf("=");
    const col = s.slice(0, at).trim();
    const value = s.slice(at + 1).trim();
    if (at < 0 || col === "" || value === "") throw new UsageError("BAD_FILL", `--fill takes COL=VALUE, got '${s}'`, { field: "--fill", fix: "e.g. --fill Sexism=1.5" });
    fill[col] = value;
  }
  return fill;
}

/** Markdown table; n shows per-statistic counts when blanks made them differ from the items. */
export function agreementTable(results: readonly ColumnAgreement[]): string {
  const f = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : "—");
  const n = (r: ColumnAgreement) => (r.n.alpha === r.nItems && r.n.fleiss === r.nItems ? String(r.nItems) : `${r.nItems} (α ${r.n.alpha}, κ/% ${r.n.fleiss})`);
  const level = results[0]?.alphaLevel ?? "nominal";
  const lines = [`| column | n | α (${level}) | Fleiss κ | mean Cohen κ | % all agree |`, "|---|---:|---:|---:|---:|---:|"];
  for (const r of results) lines.push(`| ${r.column.replace(/\|/g, "\\|")} | ${n(r)} | ${f(r.alpha)} | ${f(r.fleiss)} | ${f(r.cohenMean)} | ${f(r.percentAgree, 1)} |`);
  return lines.join("\n");
}
