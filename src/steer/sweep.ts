/**
 * Choosing where and how hard to steer, without touching the test set:
 * - `abSweep`: the A/B score for every (layer, α) of a grid, on the validation items;
 * - `abSearch`: TPE over (layer, α) with median pruning, the engine's sampler and pruner through
 *   its in-memory study loop (analysis/search/loop.ts): each trial scores the validation items in
 *   chunks and reports the running mean after each chunk, so a trial that is already worse than
 *   the median of finished trials at that chunk stops early (the last chunk is never pruned);
 * - `selectBest`: the best validation cell (highest score towards the behaviour, lowest away);
 * then the caller evaluates the chosen cell once on test.
 * Also the α-sweep table (rows α, columns layers) and a Vega-Lite spec of metric vs α per layer.
 */
import type { TopLevelSpec } from "vega-lite";
import { MedianPruner } from "../analysis/search/pruner.js";
import { TPESampler } from "../analysis/search/tpe.js";
import { searchInMemory } from "../analysis/search/loop.js";
import type { Direction } from "../analysis/search/types.js";
import type { AdditionPositions } from "../model/patch.js";
import type { Model } from "../model/types.js";
import type { ABScoringRow } from "./ab-data.js";
import { abScore } from "./ab-score.js";
import { residHook, steerModel, steeringPatch } from "./apply.js";

export interface SweepCell {
  layer: number;
  alpha: number;
  value: number;
}

export interface SweepOptions {
  positions?: AdditionPositions;
  method?: string;
  onCell?: (cell: SweepCell) => void;
}

/** A/B score of `rows` with vectors[layer] · α at blocks.layer.hook_resid_post. */
export async function abAt(model: Model, vector: Float32Array, layer: number, alpha: number, rows: readonly ABScoringRow[], options: SweepOptions = {}): Promise<number> {
  const steered = steerModel(model, steeringPatch({ vectors: { [residHook(layer)]: vector }, alpha, positions: options.positions, info: { method: options.method ?? "steer" } }));
  return (await abScore(steered, rows)).score;
}

export async function abSweep(model: Model, vectors: Record<number, Float32Array>, layers: readonly number[], alphas: readonly number[], rows: readonly ABScoringRow[], options: SweepOptions = {}): Promise<SweepCell[]> {
  const cells: SweepCell[] = [];
  for (const layer of layers) {
    for (const alpha of alphas) {
      const cell = { layer, alpha, value: await abAt(model, vectors[layer]!, layer, alpha, rows, options) };
      cells.push(cell);
      options.onCell?.(cell);
    }
  }
  return cells;
}

export function selectBest(cells: readonly SweepCell[], direction: Direction = "maximize"): SweepCell {
  if (cells.length === 0) throw new RangeError("selectBest: no cells");
  // Ties go to the smaller |α| (the gentler intervention), then the earlier layer.
  return [...cells].sort((a, b) => (direction === "maximize" ? b.value - a.value : a.value - b.value) || Math.abs(a.alpha) - Math.abs(b.alpha) || a.layer - b.layer)[0]!;
}

export interface SearchOptions extends SweepOptions {
  nTrials: number;
  seed: number;
  alphaLow: number;
  alphaHigh: number;
  direction?: Direction;
  /** Validation chunks per trial (pruning steps; default 4). */
  chunks?: number;
}

export interface SearchResult {
  trials: (SweepCell & { state: "complete" | "pruned"; steps: number })[];
  best: SweepCell;
}

/** TPE search over (layer, α) with median pruning on validation chunks. */
export async function abSearch(model: Model, vectors: Record<number, Float32Array>, layers: readonly number[], rows: readonly ABScoringRow[], options: SearchOptions): Promise<SearchResult> {
  const direction = options.direction ?? "maximize";
  const space = { layer: { kind: "categorical" as const, choices: [...layers] }, alpha: { kind: "float" as const, low: options.alphaLow, high: options.alphaHigh } };
  const nChunks = Math.max(1, Math.min(options.chunks ?? 4, rows.length));
  const chunk = Math.ceil(rows.length / nChunks);
  const out: SearchResult["trials"] = [];
  await searchInMemory({
    sampler: new TPESampler({ seed: options.seed, nStartupTrials: Math.min(8, Math.max(1, Math.floor(options.nTrials / 3))) }),
    pruner: new MedianPruner({ nStartupTrials: 3 }),
    space,
    direction,
    nTrials: options.nTrials,
    objective: async ({ params, report }) => {
      const layer = params.layer as number;
      const alpha = params.alpha as number;
      let sum = 0;
      let seen = 0;
      for (let step = 0; step < nChunks; step++) {
        const part = rows.slice(step * chunk, (step + 1) * chunk);
        if (part.length === 0) break;
        sum += (await abAt(model, vectors[layer]!, layer, alpha, part, options)) * part.length;
        seen += part.length;
        // Only a partial validation score can be pruned; the full one always completes the trial.
        if (report(step, sum / seen, seen < rows.length)) return sum / seen;
      }
      return sum / seen;
    },
    onTrial: (t) => {
      const cell = { layer: t.params.layer as number, alpha: t.params.alpha as number, value: t.value!, state: t.state as "complete" | "pruned", steps: t.intermediate.size };
      out.push(cell);
      options.onCell?.(cell);
    },
  });
  return { trials: out, best: selectBest(out.filter((t) => t.state === "complete"), direction) };
}

/** The α-sweep table as Markdown: one row per α, one column per layer. */
export function sweepTable(cells: readonly SweepCell[], metric = "A/B score"): string {
  const layers = [...new Set(cells.map((c) => c.layer))].sort((a, b) => a - b);
  const alphas = [...new Set(cells.map((c) => c.alpha))].sort((a, b) => a - b);
  const lines = [`| α \\ ${metric} | ${layers.map((l) => `layer ${l}`).join(" | ")} |`, `|---|${layers.map(() => "---").join("|")}|`];
  for (const a of alphas) {
    const row = layers.map((l) => {
      const c = cells.find((x) => x.layer === l && x.alpha === a);
      return c ? c.value.toFixed(4) : "";
    });
    lines.push(`| ${a} | ${row.join(" | ")} |`);
  }
  return lines.join("\n");
}

/** Whether the metric moves monotonically with α at a layer (non-decreasing, or non-increasing). */
export function monotone(cells: readonly SweepCell[], layer: number, increasing = true): boolean {
  const v = cells.filter((c) => c.layer === layer).sort((a, b) => a.alpha - b.alpha).map((c) => c.value);
  return v.every((x, i) => i === 0 || (increasing ? x >= v[i - 1]! : x <= v[i - 1]!));
}

/** Vega-Lite: metric vs α, one line per layer. */
export function sweepPlotSpec(cells: readonly SweepCell[], metric = "A/B score", title = "Steering: metric vs α per layer"): TopLevelSpec {
  return {
    title,
    width: 480,
    height: 280,
    data: { values: cells.map((c) => ({ alpha: c.alpha, value: c.value, layer: `layer ${c.layer}` })) },
    mark: { type: "line", point: true, tooltip: true },
    encoding: {
      x: { field: "alpha", type: "quantitative", title: "α" },
      y: { field: "value", type: "quantitative", title: metric },
      color: { field: "layer", type: "nominal", title: "layer" },
    },
  } as TopLevelSpec;
}
