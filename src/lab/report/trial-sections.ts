/**
 * A study's report shows its trials' own report sections (lab/report/section.ts), so a sweep's
 * kind-specific tables (an editing-pitfalls table per method × property, a stream table per
 * method) need no per-trial report. Tables with the same columns are stacked into one, each row
 * prefixed by its trial and the trial's parameters, so the cells of a sweep read side by side.
 * Figures are not stacked (one plot per trial would swamp the page): the caller passes those of
 * the trial it wants shown, titled with that trial.
 */
import { formatNumber } from "../../analysis/descriptive.js";
import type { ParamValue } from "../../analysis/search/types.js";
import type { ReportSection, SectionTable } from "./section.js";

export interface TrialSections {
  number: number;
  params: Record<string, ParamValue>;
  sections: readonly ReportSection[];
}

/** A parameter value as a table cell (numbers to 4 significant digits); the trials table uses it too. */
export const paramCell = (v: ParamValue | undefined) => (v === undefined ? "" : typeof v === "number" ? formatNumber(v, 4) : String(v));

/**
 * One table per distinct header among the trials' section tables, in order of first appearance:
 * columns Trial, then the parameters that vary between those trials (one that never varies says
 * nothing per row), then "Table" (the title) when one trial gave several of the stacked tables,
 * then the table's own columns.
 */
export function stackTrialTables(trials: readonly TrialSections[]): SectionTable[] {
  const groups = new Map<string, { header: string[]; parts: { trial: TrialSections; table: SectionTable }[] }>();
  for (const trial of [...trials].sort((a, b) => a.number - b.number))
    for (const sec of trial.sections)
      for (const table of sec.tables) {
        const key = JSON.stringify(table.header);
        const g = groups.get(key) ?? { header: table.header, parts: [] };
        g.parts.push({ trial, table });
        groups.set(key, g);
      }
  return [...groups.values()].map(({ header, parts }, i, all) => {
    const names = [...new Set(parts.flatMap((p) => Object.keys(p.trial.params)))].sort();
    const varying = names.filter((n) => new Set(parts.map((p) => paramCell(p.trial.params[n]))).size > 1);
    const titles = [...new Set(parts.map((p) => p.table.title))];
    const notes = [...new Set(parts.flatMap((p) => (p.table.note ? [p.table.note] : [])))];
    const trialCount = new Set(parts.map((p) => p.trial.number)).size;
    const named = trialCount < parts.length; // otherwise the trial column already tells the tables apart
    const trialsNote = `${trialCount} trial${trialCount === 1 ? "" : "s"}`;
    return {
      title: titles.length === 1 ? `${titles[0]}, every trial (${trialsNote})` : `Trials' section tables (${all.length > 1 ? `${i + 1} of ${all.length}; ` : ""}${trialsNote})`,
      header: ["Trial", ...varying, ...(named ? ["Table"] : []), ...header],
      rows: parts.flatMap(({ trial, table }) =>
        table.rows.map((r) => [String(trial.number), ...varying.map((n) => paramCell(trial.params[n])), ...(named ? [table.title] : []), ...r]),
      ),
      ...(notes.length ? { note: notes.join(" ") } : {}),
    };
  });
}
