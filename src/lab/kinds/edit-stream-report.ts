/**
 * The edit stream's part of a run report: each metric and each edited matrix's norm against the
 * number of edits the model holds (log-scaled, as the WISE paper's T = 1, 10, 100, 1000 tables).
 */
import type { TopLevelSpec } from "vega-lite";
import type { StreamPoint } from "../../edit/protocol.js";
import type { SectionTable } from "../report/section.js";

/** EasyEdit's zsRE/WISE columns first; CounterFact's when those are absent. */
const PREFERRED = ["reliability", "generalization", "locality", "portability", "efficacy_score", "paraphrase_score", "neighborhood_score"];

function metricsOf(stream: readonly StreamPoint[]): string[] {
  const present = new Set(stream.flatMap((p) => Object.keys(p.summary).filter((k) => Number.isFinite(p.summary[k]!.mean))));
  return PREFERRED.filter((m) => present.has(m));
}

export function streamTable(method: string, stream: readonly StreamPoint[]): SectionTable {
  const metrics = metricsOf(stream);
  const norms = [...new Set(stream.flatMap((p) => Object.keys(p.norms)))];
  return {
    title: `${method}: the stream after T edits`,
    header: ["T", ...metrics, ...norms.map((n) => `‖${n}‖`)],
    rows: stream.map((p) => [String(p.edits), ...metrics.map((m) => p.summary[m]!.mean.toFixed(3)), ...norms.map((n) => (p.norms[n] === undefined ? "" : p.norms[n]!.toFixed(2)))]),
    note: "Metrics over the T cases edited so far, on the model holding those T edits; norms are Frobenius norms of the edited matrices (W + ΣΔ) or of an attached module's tensors.",
  };
}

export function streamFigures(method: string, stream: readonly StreamPoint[]): { title: string; spec: TopLevelSpec }[] {
  const line = (title: string, rows: { edits: number; value: number; series: string }[], y: string): TopLevelSpec =>
    ({
      title,
      width: 420,
      height: 240,
      data: { values: rows },
      mark: { type: "line", point: true, tooltip: true },
      encoding: {
        x: { field: "edits", type: "quantitative", scale: { type: "log" }, title: "edits T" },
        y: { field: "value", type: "quantitative", title: y },
        color: { field: "series", type: "nominal", title: "" },
      },
    }) as TopLevelSpec;
  const metricRows = stream.flatMap((p) => metricsOf(stream).map((m) => ({ edits: p.edits, value: p.summary[m]!.mean, series: m })));
  const normRows = stream.flatMap((p) => Object.entries(p.norms).map(([n, v]) => ({ edits: p.edits, value: v, series: n })));
  const figures = [{ title: `${method}: metrics vs edits`, spec: line(`${method}: metrics vs edits`, metricRows, "mean over edited cases") }];
  if (normRows.length) figures.push({ title: `${method}: norms vs edits`, spec: line(`${method}: norms of edited matrices`, normRows, "Frobenius norm") });
  return figures;
}
