/**
 * A kind's own part of a run's report: tables and plots that only the kind knows how to make (a
 * ΔCE-vs-layer plot, an α-sweep table, a t-SNE picture). A stage writes them into its artifact as
 * report.json plus one SVG per figure (writeReportSection); the run's report reads every stage's
 * section back (readReportSections) and shows them after the generic tables and plots.
 */
import { promises as fs, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { writeFileAtomic } from "../../io/atomic.js";
import { renderSvg } from "./charts.js";

export interface SectionTable {
  title: string;
  header: string[];
  rows: string[][];
  note?: string;
}

export interface ReportSection {
  tables: SectionTable[];
  figures: { title: string; svg: string }[];
}

const FILE = "report.json";

/** Render `figures` (Vega-Lite specs) to SVG files in `dir` and write the section's description. */
export async function writeReportSection(dir: string, section: { tables?: SectionTable[]; figures?: { title: string; spec: TopLevelSpec }[] }): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const figures: { title: string; file: string }[] = [];
  for (const [i, f] of (section.figures ?? []).entries()) {
    const file = `figure-${i + 1}.svg`;
    await writeFileAtomic(path.join(dir, file), await renderSvg(f.spec));
    figures.push({ title: f.title, file });
  }
  await writeFileAtomic(path.join(dir, FILE), JSON.stringify({ tables: section.tables ?? [], figures }));
}

/** The sections written into these artifact folders, in order (folders without one are skipped). */
export function readReportSections(dirs: readonly string[]): ReportSection[] {
  const out: ReportSection[] = [];
  for (const dir of dirs) {
    const file = path.join(dir, FILE);
    if (!existsSync(file)) continue;
    const raw = JSON.parse(readFileSync(file, "utf8")) as { tables: SectionTable[]; figures: { title: string; file: string }[] };
    out.push({ tables: raw.tables, figures: raw.figures.map((f) => ({ title: f.title, svg: readFileSync(path.join(dir, path.basename(f.file)), "utf8") })) });
  }
  return out;
}
