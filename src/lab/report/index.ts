/** Reports: ReportData (types.ts) → self-contained HTML + Markdown with vega-lite SVG plots. */
export * from "./types.js";
export { renderReport, escapeHtml, type RenderedReport } from "./render.js";
export { varianceImportance, VARIANCE_IMPORTANCE_METHOD } from "./importance.js";
export { renderSvg, historySpec, paramSpec, curvesSpec, importanceSpec, metricsSpec } from "./charts.js";
export { writeReport } from "./write.js";
export { welchComparisons, holmAdjust, type Comparisons, type ComparisonRow, type SkippedComparison } from "./comparisons.js";
export { summarizeMetric, type SummarizeOptions } from "./summarize.js";
export { projectionSpec, cosineHistogramSpec, cosineBoxSpec, similaritySets, type ProjectionChartOptions } from "./projection-chart.js";
