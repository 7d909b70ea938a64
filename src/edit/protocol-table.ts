/** A plain-text summary table of a protocol run: one row per metric, unedited vs edited. */
import { METRICS } from "../eval/editing/metrics.js";
import type { MetricSummary } from "../eval/editing/metrics.js";
import type { ProtocolResult } from "./protocol.js";

const fmt = (s: MetricSummary | undefined) => (s === undefined ? "—" : Number.isNaN(s.std) ? s.mean.toFixed(4) : `${s.mean.toFixed(4)} ± ${s.std.toFixed(4)}`);

/** Markdown table: metric | unedited | edited | n. Std is the population std over cases (ROME). */
export function summaryTable(r: ProtocolResult): string {
  const names = [...Object.keys(METRICS), "score"].filter((n) => r.summary.post[n] || r.summary.pre[n]);
  const lines = [
    `${r.method}, ${r.mode}${r.mode !== "single" ? ` (batch ${r.batchSize})` : ""}, evaluated ${r.evaluatedAt}, ${r.cases.length} cases`,
    "",
    "| metric | unedited | edited | n |",
    "|---|---|---|---|",
    ...names.map((n) => `| ${n} | ${fmt(r.summary.pre[n])} | ${fmt(r.summary.post[n])} | ${(r.summary.post[n] ?? r.summary.pre[n])!.n} |`),
    "",
    `time: edit ${r.seconds.edit.toFixed(1)} s, evaluation ${r.seconds.eval.toFixed(1)} s, total ${r.seconds.total.toFixed(1)} s`,
  ];
  return lines.join("\n");
}
