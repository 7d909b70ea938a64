/**
 * renderReport: ReportData → a self-contained HTML page (inline CSS and SVG, no scripts, no
 * external resources; a Content-Security-Policy forbids loading any) and a Markdown summary
 * holding the same tables. Plots are drawn with vega-lite + vega (charts.ts).
 */
import { formatNumber } from "../../analysis/descriptive.js";
import { caseDistributionSpec, curvesSpec, errorBarSpec, historySpec, importanceSpec, metricsSpec, paramSpec, renderSvg } from "./charts.js";
import { differInOneParameter, welchComparisons, type Comparisons } from "./comparisons.js";
import { VARIANCE_IMPORTANCE_METHOD, varianceImportance } from "./importance.js";
import { paramCell } from "./trial-sections.js";
import type { MetricSummary, ParamImportance, ReportConfiguration, ReportData, ReportFinal, ReportTrial, SeriesPoint } from "./types.js";

export interface RenderedReport {
  html: string;
  markdown: string;
}

export interface Figure {
  title: string;
  svg: string;
}

type Table = { header: string[]; rows: string[][] };

const fmt = (v: number | undefined, digits = 4) => (v === undefined ? "" : formatNumber(v, digits));

export async function renderReport(data: ReportData): Promise<RenderedReport> {
  const objective = data.objective ?? "value";
  const direction = data.direction ?? "minimize";
  const trials = data.trials ?? [];
  const series = [...(data.series ?? []), ...(data.kind === "study" ? trialCurves(trials) : [])];
  let importances: ParamImportance[] = data.importances ?? [];
  let importanceMethod = data.importanceMethod ?? (data.importances ? "given" : VARIANCE_IMPORTANCE_METHOD);
  if (data.kind === "study" && !data.importances) importances = varianceImportance(trials);
  if (importances.length === 0) importanceMethod = "";

  const tables: { title: string; table: Table; note?: string }[] = [];
  tables.push({ title: "Manifest", table: manifestTable(data) });
  if (data.metrics.length) tables.push({ title: "Metrics", table: metricTable(data.metrics) });
  if (data.kind === "study" && trials.length) {
    const best = bestTrial(trials, direction);
    if (best) tables.push({ title: "Best trial", table: trialTable([best]) });
    tables.push({ title: `Trials (${trials.length})`, table: trialTable([...trials].sort((a, b) => a.number - b.number)) });
  }
  if (data.final) tables.push({ title: "Final evaluation", table: finalTable(data.final), note: `Trial ${data.final.trial}'s configuration, ${data.final.description} (run ${data.final.runId}).` });
  const replicated = (data.configurations ?? []).filter((c) => c.n > 1);
  if (replicated.length)
    tables.push({
      title: "Per configuration over replicates",
      table: metricTable(replicated.flatMap((c) => c.metrics)),
      note: "Each configuration's runs (one per seed): mean ± sample std, with a 95% Student-t interval for the mean.",
    });
  if (data.kind === "study") {
    // Unedited ("pre") values are the same cases under every method: nothing to compare there.
    const cmp = welchComparisons(data.caseDistributions ?? [], { metrics: (m) => !/^pre\.|\.pre$/.test(m), pairs: differInOneParameter });
    if (cmp.rows.length) tables.push({ title: "Welch t-tests between configurations (per-case values)", table: comparisonTable(cmp), note: comparisonNote(cmp) });
  }
  if (importances.length)
    tables.push({
      title: "Parameter importance",
      table: { header: ["Parameter", "Importance"], rows: importances.map((i) => [i.param, fmt(i.importance, 3)]) },
      note: `Method: ${importanceMethod}.`,
    });

  for (const sec of data.sections ?? []) for (const t of sec.tables) tables.push({ title: t.title, table: { header: t.header, rows: t.rows }, ...(t.note ? { note: t.note } : {}) });
  const figures = [...(data.sections ?? []).flatMap((sec) => sec.figures), ...(await renderFigures(data, trials, series, importances, importanceMethod, objective, direction))];
  const config = JSON.stringify(data.config, null, 2) ?? "null";
  return { markdown: toMarkdown(data, tables, figures, config), html: toHtml(data, tables, figures, config) };
}

async function renderFigures(
  data: ReportData,
  trials: readonly ReportTrial[],
  series: readonly SeriesPoint[],
  importances: readonly ParamImportance[],
  importanceMethod: string,
  objective: string,
  direction: "minimize" | "maximize",
): Promise<Figure[]> {
  const figs: Figure[] = [];
  if (data.kind === "study" && trials.some((t) => t.value !== undefined)) {
    figs.push({ title: "Study history", svg: await renderSvg(historySpec(trials, direction, objective)) });
    // The objective against each searched parameter; a replicate seed is no parameter of interest.
    const params = [...new Set(trials.flatMap((t) => Object.keys(t.params)))].filter((p) => p !== "seed").sort();
    for (const p of params) figs.push({ title: `${objective} vs ${p}`, svg: await renderSvg(paramSpec(trials, p, objective)) });
  }
  for (const fig of await configurationFigures(data.configurations ?? [], ranked(data.metricOrder ?? [], [objective]))) figs.push(fig);
  // Per-case distributions, one figure per metric (at most eight), a box per group.
  const caseMetrics = [...new Set((data.caseDistributions ?? []).map((d) => d.metric))];
  for (const metric of ranked(caseMetrics.filter((m) => data.metricOrder?.includes(m) ?? true), data.metricOrder).filter((m) => caseMetrics.includes(m)).slice(0, 8)) {
    const groups = data.caseDistributions!.filter((d) => d.metric === metric);
    figs.push({ title: `${metric} per case`, svg: await renderSvg(caseDistributionSpec(groups, metric)) });
  }
  if (data.metrics.length) {
    const rows = data.metrics.map((m) => ({ label: m.group ? `${m.name} (${m.group})` : m.name, mean: m.mean, low: m.ciLow, high: m.ciHigh }));
    figs.push({ title: "Metrics", svg: await renderSvg(metricsSpec(rows)) });
  }
  for (const metric of [...new Set(series.map((p) => p.metric))])
    figs.push({ title: `${metric} over steps`, svg: await renderSvg(curvesSpec(series, metric)) });
  if (importances.length) figs.push({ title: "Parameter importance", svg: await renderSvg(importanceSpec(importances, importanceMethod)) });
  return figs;
}

/**
 * Metric vs each swept parameter, mean with ± std error bars over the replicates of each
 * configuration: the objective first, then the other summary metrics (at most six in all).
 */
async function configurationFigures(configs: readonly ReportConfiguration[], preferred: readonly string[]): Promise<Figure[]> {
  if (!configs.some((c) => c.n > 1)) return [];
  const params = [...new Set(configs.flatMap((c) => Object.keys(c.params)))].sort();
  const names = [...new Set(configs.flatMap((c) => c.metrics.map((m) => m.name)))];
  const metrics = ranked(names, preferred).filter((n) => names.includes(n)).slice(0, 6);
  const figs: Figure[] = [];
  for (const param of params) {
    for (const metric of metrics) {
      const rows = configs.flatMap((c) => {
        const m = c.metrics.find((x) => x.name === metric);
        if (!m || c.params[param] === undefined) return [];
        const others = Object.entries(c.params).filter(([k]) => k !== param).map(([k, v]) => `${k}=${v}`).join(", ");
        const sd = m.std !== undefined && Number.isFinite(m.std) ? m.std : 0;
        return [{ x: c.params[param]!, mean: m.mean, low: m.mean - sd, high: m.mean + sd, group: others || metric }];
      });
      if (rows.length) figs.push({ title: `${metric} vs ${param} (mean ± std over replicates)`, svg: await renderSvg(errorBarSpec(rows, param, metric)) });
    }
  }
  return figs;
}

/** `names` with the `preferred` ones first, in that order (those not among `names` dropped later by the caller). */
function ranked(names: readonly string[], preferred: readonly string[] = []): string[] {
  return [...new Set([...preferred, ...names])];
}

function finalTable(f: ReportFinal): Table {
  const params = Object.entries(f.params).map(([k, v]) => `${k}=${typeof v === "number" ? fmt(v) : String(v)}`).join(", ");
  return { header: ["Metric", "Value", "Configuration"], rows: Object.entries(f.metrics).map(([k, v], i) => [k, fmt(v), i === 0 ? params : ""]) };
}

/** A study's intermediate values as curves, one per trial. */
function trialCurves(trials: readonly ReportTrial[]): SeriesPoint[] {
  return trials.flatMap((t) => (t.intermediate ?? []).map(([step, value]) => ({ metric: "intermediate value", step, value, group: `trial ${t.number}` })));
}

function bestTrial(trials: readonly ReportTrial[], direction: "minimize" | "maximize"): ReportTrial | undefined {
  const done = trials.filter((t) => t.state === "complete" && t.value !== undefined && Number.isFinite(t.value));
  if (!done.length) return undefined;
  return done.reduce((b, t) => ((direction === "maximize" ? t.value! > b.value! : t.value! < b.value!) ? t : b));
}

function manifestTable(data: ReportData): Table {
  const m = data.manifest;
  const rows: string[][] = [["kind", data.kind]];
  if (m.seed !== undefined) rows.push(["seed", String(m.seed)]);
  if (m.git) rows.push(["git commit", `${m.git.commit ?? "unknown"}${m.git.dirty ? " (dirty)" : ""}`]);
  for (const [k, v] of Object.entries(m.versions ?? {})) rows.push([`version: ${k}`, v]);
  for (const [k, v] of Object.entries(m.machine ?? {})) rows.push([`machine: ${k}`, v]);
  if (m.startedAt) rows.push(["started", m.startedAt]);
  if (m.finishedAt) rows.push(["finished", m.finishedAt]);
  for (const [k, v] of Object.entries(m.extra ?? {})) rows.push([k, String(v)]);
  if (data.direction) rows.push(["direction", data.direction]);
  return { header: ["Field", "Value"], rows };
}

function metricTable(metrics: readonly MetricSummary[]): Table {
  const hasGroup = metrics.some((m) => m.group);
  return {
    header: [...(hasGroup ? ["Group"] : []), "Metric", "Mean ± std", "n", "CI", "Definition"],
    rows: metrics.map((m) => [
      ...(hasGroup ? [m.group ?? ""] : []),
      m.name,
      m.std !== undefined && Number.isFinite(m.std) ? `${fmt(m.mean)} ± ${fmt(m.std)}` : fmt(m.mean),
      String(m.n),
      m.ciLow !== undefined && m.ciHigh !== undefined
        ? `${Math.round((m.ciLevel ?? 0.95) * 100)}% [${fmt(m.ciLow)}, ${fmt(m.ciHigh)}]${m.ciMethod ? ` (${m.ciMethod})` : ""}`
        : "",
      [m.definition, m.version && `v${m.version}`].filter(Boolean).join(" "),
    ]),
  };
}

function comparisonTable(cmp: Comparisons): Table {
  return {
    header: ["Metric", "A", "B", "Mean A", "Mean B", "Diff", "t", "df", "p", "p (Holm)"],
    rows: cmp.rows.map((r) => [r.metric, `${r.a} (n=${r.nA})`, `${r.b} (n=${r.nB})`, fmt(r.meanA), fmt(r.meanB), fmt(r.diff), fmt(r.t), fmt(r.df, 3), fmt(r.p, 3), fmt(r.pHolm, 3)]),
  };
}

/** How the tests were made, and what was left out (at most 10 skipped pairs named, so a wide sweep stays readable). */
function comparisonNote(cmp: Comparisons): string {
  const parts = [
    "Welch's unequal-variance t-test (two-sided) on the per-case values of each pair of configurations that differ in one parameter (the others held fixed), pooled over replicates and treated as independent samples; diff = mean A − mean B. p (Holm): Holm–Bonferroni adjusted over the tests of the same metric. Unedited-model values (pre.*, *.pre) are not tested.",
  ];
  if (cmp.skipped.length) {
    const named = cmp.skipped.slice(0, 10).map((s) => `${s.metric}: ${s.a} vs ${s.b} (${s.reason})`);
    parts.push(`Not tested: ${named.join("; ")}${cmp.skipped.length > 10 ? `; and ${cmp.skipped.length - 10} more` : ""}.`);
  }
  if (cmp.dropped.length) parts.push(`Non-finite values left out: ${cmp.dropped.map((d) => `${d.metric} / ${d.group}: ${d.count}`).join("; ")}.`);
  return parts.join(" ");
}

function trialTable(trials: readonly ReportTrial[]): Table {
  const params = [...new Set(trials.flatMap((t) => Object.keys(t.params)))].sort();
  return {
    header: ["Trial", "State", "Value", ...params, "Steps"],
    rows: trials.map((t) => [
      String(t.number),
      t.state,
      fmt(t.value),
      ...params.map((p) => paramCell(t.params[p])),
      String(t.intermediate?.length ?? 0),
    ]),
  };
}

// ---- Markdown ----

function mdCell(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function mdTable(t: Table): string {
  return [
    `| ${t.header.map(mdCell).join(" | ")} |`,
    `| ${t.header.map(() => "---").join(" | ")} |`,
    ...t.rows.map((r) => `| ${r.map(mdCell).join(" | ")} |`),
  ].join("\n");
}

function toMarkdown(data: ReportData, tables: { title: string; table: Table; note?: string }[], figures: Figure[], config: string): string {
  const parts = [`# ${data.title}`, "", `${data.kind === "study" ? "Study" : "Run"} report generated by scalpel.`, ""];
  for (const t of tables) parts.push(`## ${t.title}`, "", mdTable(t.table), "", ...(t.note ? [t.note, ""] : []));
  if (figures.length) parts.push("## Plots", "", "Rendered in the HTML report: " + figures.map((f) => f.title).join("; ") + ".", "");
  const fence = config.includes("```") ? "~~~~" : "```";
  parts.push("## Config", "", fence + "json", config, fence, "");
  return parts.join("\n");
}

// ---- HTML ----

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

function htmlTable(t: Table): string {
  const head = `<tr>${t.header.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr>`;
  const body = t.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`).join("\n");
  return `<table>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

const CSS = `body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left}
th{background:#f5f5f5}td{font-variant-numeric:tabular-nums}pre{background:#f7f7f7;padding:.75rem;overflow:auto;font-size:.85rem}
figure{margin:1rem 0}figcaption{font-size:.9rem;color:#555}.note{font-size:.85rem;color:#555}`;

function toHtml(data: ReportData, tables: { title: string; table: Table; note?: string }[], figures: Figure[], config: string): string {
  const sections = tables.map(
    (t) => `<section>\n<h2>${escapeHtml(t.title)}</h2>\n${htmlTable(t.table)}${t.note ? `\n<p class="note">${escapeHtml(t.note)}</p>` : ""}\n</section>`,
  );
  const figs = figures.map((f) => `<figure>\n${f.svg}\n<figcaption>${escapeHtml(f.title)}</figcaption>\n</figure>`).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeHtml(data.title)}</h1>
<p>${data.kind === "study" ? "Study" : "Run"} report generated by scalpel.</p>
${sections.join("\n")}
${figures.length ? `<section>\n<h2>Plots</h2>\n${figs}\n</section>` : ""}
<section>
<h2>Config</h2>
<pre>${escapeHtml(config)}</pre>
</section>
</body>
</html>
`;
}
