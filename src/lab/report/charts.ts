/**
 * Vega-Lite chart specs for reports, rendered to SVG strings with vega in Node or a browser
 * (renderer "none": no canvas, no DOM). Every data point becomes an SVG mark whose aria-label
 * carries its values, so a page's plots can be checked by reading the SVG.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { CaseDistribution, ParamImportance, ReportTrial, SeriesPoint } from "./types.js";
import type { ParamValue } from "../../analysis/search/types.js";
import type { Direction } from "../../analysis/search/types.js";

const WIDTH = 480;
const HEIGHT = 260;

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    const svg = await view.toSVG();
    // Inline SVG in HTML needs no namespace declarations; dropping them keeps the page free of URLs.
    return svg.replace(/ xmlns(:xlink)?="[^"]*"/g, "");
  } finally {
    view.finalize();
  }
}

/** Objective per trial (points, coloured by state) and the best value so far (line). */
export function historySpec(trials: readonly ReportTrial[], direction: Direction, objective: string): TopLevelSpec {
  const pts = trials.filter((t) => t.value !== undefined && Number.isFinite(t.value)).map((t) => ({ trial: t.number, value: t.value!, state: t.state }));
  const bestLine: { trial: number; best: number }[] = [];
  let best: number | undefined;
  for (const t of [...trials].sort((a, b) => a.number - b.number)) {
    if (t.state !== "complete" || t.value === undefined || !Number.isFinite(t.value)) continue;
    best = best === undefined ? t.value : direction === "maximize" ? Math.max(best, t.value) : Math.min(best, t.value);
    bestLine.push({ trial: t.number, best });
  }
  return {
    title: `Study history: ${objective} per trial (${direction})`,
    width: WIDTH,
    height: HEIGHT,
    layer: [
      {
        data: { values: pts },
        mark: { type: "point", filled: true, tooltip: true },
        encoding: {
          x: { field: "trial", type: "quantitative", title: "trial" },
          y: { field: "value", type: "quantitative", title: objective },
          color: { field: "state", type: "nominal", title: "state" },
        },
      },
      {
        data: { values: bestLine },
        mark: { type: "line", interpolate: "step-after", color: "#d62728" },
        encoding: { x: { field: "trial", type: "quantitative" }, y: { field: "best", type: "quantitative" } },
      },
    ],
  } as TopLevelSpec;
}

/** Objective against one parameter over complete trials. */
export function paramSpec(trials: readonly ReportTrial[], param: string, objective: string): TopLevelSpec {
  const rows = trials
    .filter((t) => t.state === "complete" && t.value !== undefined && Number.isFinite(t.value) && t.params[param] !== undefined)
    .map((t) => ({ trial: t.number, [param]: t.params[param]!, value: t.value! }));
  const numeric = rows.every((r) => typeof r[param] === "number");
  return {
    title: `${objective} vs ${param}`,
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    mark: { type: "point", filled: true, tooltip: true },
    encoding: {
      x: { field: param, type: numeric ? "quantitative" : "nominal", title: param },
      y: { field: "value", type: "quantitative", title: objective },
    },
  } as TopLevelSpec;
}

/** Curves over steps, one line (with point marks) per group. */
export function curvesSpec(points: readonly SeriesPoint[], metric: string): TopLevelSpec {
  const rows = points.filter((p) => p.metric === metric).map((p) => ({ step: p.step, value: p.value, group: p.group ?? metric }));
  return {
    title: `${metric} over steps`,
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    mark: { type: "line", point: true, tooltip: true },
    encoding: {
      x: { field: "step", type: "quantitative", title: "step" },
      y: { field: "value", type: "quantitative", title: metric },
      color: { field: "group", type: "nominal", title: "run / trial" },
    },
  } as TopLevelSpec;
}

export function importanceSpec(importances: readonly ParamImportance[], method: string): TopLevelSpec {
  return {
    title: { text: "Parameter importance", subtitle: method },
    width: WIDTH,
    height: Math.max(60, 24 * importances.length),
    data: { values: importances.map((i) => ({ param: i.param, importance: i.importance })) },
    mark: { type: "bar", tooltip: true },
    encoding: {
      y: { field: "param", type: "nominal", sort: "-x", title: "parameter" },
      x: { field: "importance", type: "quantitative", title: "importance", scale: { domain: [0, 1] } },
    },
  } as TopLevelSpec;
}

/** Metric means with CI error bars, per metric (and group when given). */
export function metricsSpec(rows: readonly { label: string; mean: number; low?: number; high?: number }[]): TopLevelSpec {
  const data = rows.map((r) => ({ metric: r.label, mean: r.mean, low: r.low ?? r.mean, high: r.high ?? r.mean }));
  return {
    title: "Metrics: mean with confidence interval",
    width: WIDTH,
    height: Math.max(60, 24 * rows.length),
    data: { values: data },
    layer: [
      { mark: { type: "rule" }, encoding: { y: { field: "metric", type: "nominal", title: null }, x: { field: "low", type: "quantitative", title: "value" }, x2: { field: "high" } } },
      { mark: { type: "point", filled: true, tooltip: true }, encoding: { y: { field: "metric", type: "nominal" }, x: { field: "mean", type: "quantitative" } } },
    ],
  } as TopLevelSpec;
}

/** Mean with an error bar (low–high) against one parameter, a colour per remaining configuration. */
export function errorBarSpec(rows: readonly { x: ParamValue; mean: number; low: number; high: number; group: string }[], param: string, metric: string): TopLevelSpec {
  const numeric = rows.every((r) => typeof r.x === "number");
  const x = { field: "x", type: numeric ? "quantitative" : "nominal", title: param } as const;
  return {
    title: `${metric} vs ${param}`,
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows.map((r) => ({ ...r, x: r.x })) },
    layer: [
      { mark: { type: "rule" }, encoding: { x, y: { field: "low", type: "quantitative", title: metric }, y2: { field: "high" }, color: { field: "group", type: "nominal", title: "configuration" } } },
      { mark: { type: "point", filled: true, tooltip: true }, encoding: { x, y: { field: "mean", type: "quantitative" }, color: { field: "group", type: "nominal" } } },
    ],
  } as TopLevelSpec;
}

/** A per-case metric's distribution: one box (quartiles, 1.5 IQR whiskers) per group. */
export function caseDistributionSpec(groups: readonly CaseDistribution[], metric: string): TopLevelSpec {
  return {
    title: `${metric}: distribution over cases`,
    width: WIDTH,
    height: Math.max(60, 28 * groups.length),
    data: { values: groups.flatMap((g) => g.values.map((value) => ({ group: g.group, value }))) },
    mark: { type: "boxplot", extent: 1.5 },
    encoding: {
      y: { field: "group", type: "nominal", title: null },
      x: { field: "value", type: "quantitative", title: metric },
    },
  } as TopLevelSpec;
}
