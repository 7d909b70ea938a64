/**
 * GridSampler: every combination of the given values, each exactly once, in an order fixed by the
 * seed. As Optuna's GridSampler, the grid is the Cartesian product over parameter names in sorted
 * order, and each trial takes a grid point no trial in the history (any state) has taken yet;
 * Optuna picks it at random among the unvisited points, we walk a seeded permutation, so the
 * whole order is reproducible. When every point has been taken, `sample` throws
 * SearchExhaustedError (Optuna stops the study at that point).
 */
import { ScalpelError } from "../../errors.js";
import { Rng } from "../../util/rng.js";
import { stepOf } from "./space.js";
import type { Direction, Distribution, FrozenTrial, ParamValue, Sampler, SearchSpace, TrialParams } from "./types.js";

/** The grid has no unvisited point left. */
export class SearchExhaustedError extends ScalpelError {}

export interface GridSamplerOptions {
  /** Values per parameter. When omitted, taken from the search space (see `gridFromSpace`). */
  grid?: Record<string, readonly ParamValue[]>;
  seed?: number;
}

/** Grid values of a distribution: categorical choices, or every step of a discrete range. */
export function gridValues(name: string, d: Distribution): ParamValue[] {
  if (d.kind === "categorical") return [...d.choices];
  const step = stepOf(d);
  if (step === 0 || d.log)
    throw new ScalpelError("GRID_CONTINUOUS", `grid search cannot enumerate parameter '${name}' (continuous or log scale)`, {
      field: name,
      fix: "give it a step, make it categorical, or list its grid values explicitly",
    });
  const n = Math.floor((d.high - d.low) / step + 1e-9);
  return Array.from({ length: n + 1 }, (_, i) => (d.kind === "int" ? d.low + i * step : Number((d.low + i * step).toPrecision(15))));
}

export class GridSampler implements Sampler {
  readonly seed: number;
  private readonly explicit?: Record<string, readonly ParamValue[]>;

  constructor(options: GridSamplerOptions = {}) {
    this.seed = options.seed ?? 0;
    this.explicit = options.grid;
  }

  /** All grid points in the seeded visiting order. */
  points(space: SearchSpace = {}): TrialParams[] {
    const grid = this.explicit ?? Object.fromEntries(Object.entries(space).map(([k, d]) => [k, gridValues(k, d)]));
    const names = Object.keys(grid).sort();
    let all: TrialParams[] = [{}];
    for (const name of names) {
      const vals = grid[name]!;
      if (vals.length === 0) throw new ScalpelError("GRID_EMPTY", `grid parameter '${name}' has no values`, { field: name, fix: "list at least one value" });
      all = all.flatMap((p) => vals.map((v) => ({ ...p, [name]: v })));
    }
    return new Rng(this.seed).shuffle(all);
  }

  size(space: SearchSpace = {}): number {
    return this.points(space).length;
  }

  sample(space: SearchSpace, history: readonly FrozenTrial[], _direction: Direction, _trialNumber: number): TrialParams {
    const taken = new Set(history.map((t) => key(t.params)));
    const next = this.points(space).find((p) => !taken.has(key(p)));
    if (!next)
      throw new SearchExhaustedError("GRID_EXHAUSTED", "every grid point has already been tried", { fix: "stop the study or enlarge the grid" });
    return next;
  }
}

function key(p: TrialParams): string {
  return JSON.stringify(Object.keys(p).sort().map((k) => [k, p[k]]));
}
