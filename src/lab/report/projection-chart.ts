/**
 * Vega-Lite specs for the hidden-state analysis (analysis/similarity.ts, tsne.ts, pca.ts), in
 * charts.ts's style (render with `renderSvg`): a 2-D scatter of a projection coloured by group, and
 * the distributions of within- and between-group cosine similarities as overlaid histograms (share
 * of pairs per bin, so sets of different sizes compare) or as boxes.
 */
import type { TopLevelSpec } from "vega-lite";
import type { SimilarityStats, SimilaritySummary } from "../../analysis/similarity.js";

const WIDTH = 480;
const HEIGHT = 360;

export interface ProjectionChartOptions {
  /** e.g. "t-SNE (perplexity 30)" or "PCA"; goes into the title and axis names. */
  method?: string;
  title?: string;
  /** One label per point (a prompt), shown in tooltips and in each mark's aria-label. */
  labels?: readonly string[];
  /** PCA: the explained-variance ratio of the two axes, shown in the axis titles. */
  explainedVarianceRatio?: readonly number[];
}

/** Scatter of the first two coordinates of each point, coloured by its group. */
export function projectionSpec(points: readonly ArrayLike<number>[], groups: readonly string[], options: ProjectionChartOptions = {}): TopLevelSpec {
  if (points.length !== groups.length) throw new RangeError(`projectionSpec: ${points.length} points but ${groups.length} group names; give one group per point`);
  if (options.labels !== undefined && options.labels.length !== points.length) throw new RangeError(`projectionSpec: ${options.labels.length} labels for ${points.length} points`);
  points.forEach((p, i) => {
    if (p.length < 2) throw new RangeError(`projectionSpec: point ${i} has ${p.length} coordinates; project to 2 dimensions`);
  });
  const method = options.method ?? "projection";
  const axis = (k: number) => {
    const r = options.explainedVarianceRatio?.[k];
    return `${method} ${k + 1}${r !== undefined ? ` (${(100 * r).toFixed(1)}% variance)` : ""}`;
  };
  const values = points.map((p, i) => ({ x: p[0]!, y: p[1]!, group: groups[i]!, ...(options.labels ? { label: options.labels[i]! } : {}) }));
  return {
    title: options.title ?? `Hidden states: ${method}, coloured by group`,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: "point", filled: true, opacity: 0.8, tooltip: true },
    encoding: {
      x: { field: "x", type: "quantitative", title: axis(0), scale: { zero: false } },
      y: { field: "y", type: "quantitative", title: axis(1), scale: { zero: false } },
      color: { field: "group", type: "nominal", title: "group" },
      ...(options.labels ? { tooltip: [{ field: "label", type: "nominal" }, { field: "group", type: "nominal" }] } : {}),
    },
  } as TopLevelSpec;
}

/** Every summary of a SimilarityStats with a display name: "within A", "A × B". */
export function similaritySets(stats: SimilarityStats): { set: string; summary: SimilaritySummary }[] {
  return [
    ...Object.entries(stats.within).map(([name, summary]) => ({ set: `within ${name}`, summary })),
    ...stats.between.map(({ a, b, summary }) => ({ set: `${a} × ${b}`, summary })),
  ];
}

/** Overlaid histograms of the cosine similarities: the share of each set's pairs per bin. */
export function cosineHistogramSpec(stats: SimilarityStats, title = "Cosine similarity of hidden states: within and between groups"): TopLevelSpec {
  const values = similaritySets(stats).flatMap(({ set, summary }) => {
    const { edges, counts } = summary.histogram;
    return counts.map((c, i) => ({ set, low: edges[i]!, high: edges[i + 1]!, share: summary.n > 0 ? c / summary.n : 0 }));
  });
  return {
    title,
    width: WIDTH,
    height: 260,
    data: { values },
    mark: { type: "bar", opacity: 0.5, tooltip: true },
    encoding: {
      x: { field: "low", type: "quantitative", title: "cosine similarity", scale: { domain: [-1, 1] } },
      x2: { field: "high" },
      y: { field: "share", type: "quantitative", title: "share of pairs", stack: null },
      color: { field: "set", type: "nominal", title: "pairs" },
    },
  } as TopLevelSpec;
}

/** One box per set (quartiles, 1.5 IQR whiskers) over the pairwise cosines, with each set's mean. */
export function cosineBoxSpec(stats: SimilarityStats, title = "Cosine similarity of hidden states: within and between groups"): TopLevelSpec {
  const sets = similaritySets(stats);
  return {
    title,
    width: WIDTH,
    height: Math.max(60, 28 * sets.length),
    layer: [
      {
        data: { values: sets.flatMap(({ set, summary }) => summary.values.map((value) => ({ set, value }))) },
        mark: { type: "boxplot", extent: 1.5 },
        encoding: { y: { field: "set", type: "nominal", title: null }, x: { field: "value", type: "quantitative", title: "cosine similarity", scale: { domain: [-1, 1] } } },
      },
      {
        data: { values: sets.map(({ set, summary }) => ({ set, mean: summary.mean, low: summary.ci?.low ?? summary.mean, high: summary.ci?.high ?? summary.mean })) },
        mark: { type: "point", shape: "diamond", filled: true, color: "#d62728", tooltip: true },
        encoding: { y: { field: "set", type: "nominal" }, x: { field: "mean", type: "quantitative" } },
      },
    ],
  } as TopLevelSpec;
}
