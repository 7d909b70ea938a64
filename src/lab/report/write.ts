/** Write a rendered report as report.html and report.md in `dir`, atomically. */
import path from "node:path";
import { writeFileAtomic } from "../../io/atomic.js";
import { renderReport } from "./render.js";
import type { ReportData } from "./types.js";

export async function writeReport(data: ReportData, dir: string, basename = "report"): Promise<{ html: string; markdown: string }> {
  const { html, markdown } = await renderReport(data);
  const htmlFile = path.join(dir, `${basename}.html`);
  const mdFile = path.join(dir, `${basename}.md`);
  await writeFileAtomic(htmlFile, html);
  await writeFileAtomic(mdFile, markdown);
  return { html: htmlFile, markdown: mdFile };
}
