/**
 * Search-space helpers shared by the samplers: validation, Optuna's internal representation
 * (categorical → choice index, numbers as they are) and step/log bounds.
 */
import { ConfigError } from "../../errors.js";
import type { Distribution, ParamValue, SearchSpace } from "./types.js";

/** Step of a numeric distribution: ints default to 1 (Optuna's IntDistribution), floats to 0 = continuous. */
export function stepOf(d: Distribution): number {
  if (d.kind === "categorical") return 0;
  if (d.kind === "int") return d.step ?? 1;
  return d.step ?? 0;
}

export function validateSpace(space: SearchSpace): void {
  for (const [name, d] of Object.entries(space)) {
    const bad = (msg: string, fix: string) => new ConfigError("SEARCH_SPACE", `search space parameter '${name}': ${msg}`, { field: name, fix });
    if (d.kind === "categorical") {
      if (d.choices.length === 0) throw bad("has no choices", "list at least one choice");
      continue;
    }
    if (!(Number.isFinite(d.low) && Number.isFinite(d.high)) || d.low > d.high) throw bad(`needs finite low ≤ high, got [${d.low}, ${d.high}]`, "fix the bounds");
    if (d.log && d.low <= 0) throw bad("log scale needs low > 0", "set low above 0 or drop log");
    const step = stepOf(d);
    if (d.log && step !== 0 && !(d.kind === "int" && step === 1)) throw bad("log scale cannot be combined with a step", "drop step or log (as in Optuna)");
    if (d.kind === "int" && (!Number.isInteger(d.low) || !Number.isInteger(d.high) || !Number.isInteger(step))) throw bad("int bounds and step must be integers", "use whole numbers");
    if (step < 0) throw bad("step must be positive", "set a positive step");
  }
}

/** Internal representation of a parameter value, or undefined when it does not fit the distribution. */
export function toInternal(d: Distribution, v: ParamValue | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (d.kind === "categorical") {
    const i = d.choices.indexOf(v);
    return i < 0 ? undefined : i;
  }
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export function toExternal(d: Distribution, x: number): ParamValue {
  if (d.kind === "categorical") return d.choices[x]!;
  if (d.kind === "int") return Math.round(x);
  return x;
}

/** numpy.round: round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Snap x to low + k·step and clip to [low, high] (Optuna's discrete alignment). */
export function alignToStep(x: number, low: number, high: number, step: number): number {
  const v = low + roundHalfEven((x - low) / step) * step;
  return Math.min(Math.max(v, low), high);
}
