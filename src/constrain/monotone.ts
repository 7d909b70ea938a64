/**
 * Monotone (non-negative) weight constraints: a constraint is a value handed to training, not a
 * flag. It says which parameters (scalpel names, `*` = one name segment, e.g. "blocks.*.mlp.W_in")
 * must stay ≥ 0, and how:
 *
 * - "project": train W directly and clamp W ← max(W, 0) after every optimiser step (projected
 *   gradient descent);
 * - "softplus" / "exp": reparameterise W = softplus(V) = log(1 + eᵛ) or W = exp(V) and train V,
 *   so W > 0 by construction.
 *
 * Starting from a pretrained model, the "apply monotonicity" step maps every constrained W to a
 * non-negative one first: "abs" (|W|, keeps magnitudes) or "clamp" (max(W, 0), keeps the positive
 * part). Reparameterised training then starts from V = softplus⁻¹(W) = log(eᵂ − 1) or V = log W,
 * with W floored at `floor` (default 1e-6) so the inverse exists.
 *
 * The monotone-FFN robustness studies this serves (non-negative feed-forward weights, then recovery
 * training) constrain every MLP matrix: the default pattern list is W_in, W_gate and W_out of
 * every block.
 */
import { numpy as np } from "@jax-js/jax";
import { ConfigError } from "../errors.js";
import type { Arr, Model, Params } from "../model/types.js";
import { readF32 } from "../tensor/own.js";
import type { TrainConstraint } from "../train/loop.js";

export type ConstraintMethod = "project" | "softplus" | "exp";
export type ConstraintInit = "abs" | "clamp";

export interface MonotoneConstraint {
  /** Parameter-name patterns; `*` matches one dot-free segment. */
  params: string[];
  method: ConstraintMethod;
  /** How a pretrained W is made non-negative before training (applyMonotonicity). */
  init: ConstraintInit;
  /** Smallest W the reparameterised start allows (softplus⁻¹ and log need W > 0). Default 1e-6. */
  floor?: number;
}

export const DEFAULT_MONOTONE_PARAMS = ["blocks.*.mlp.W_in", "blocks.*.mlp.W_gate", "blocks.*.mlp.W_out"];

export function monotoneConstraint(partial: Partial<MonotoneConstraint> = {}): MonotoneConstraint {
  return { params: partial.params ?? DEFAULT_MONOTONE_PARAMS, method: partial.method ?? "project", init: partial.init ?? "abs", ...(partial.floor !== undefined ? { floor: partial.floor } : {}) };
}

function patternRegExp(p: string): RegExp {
  return new RegExp(`^${p.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^.]+")}$`);
}

/** The names of `model`'s parameters the constraint covers; a pattern that matches nothing is an error (a typo would silently constrain nothing). */
export function constrainedNames(model: Pick<Model, "params">, c: MonotoneConstraint): string[] {
  const names = Object.keys(model.params);
  const out = new Set<string>();
  for (const p of c.params) {
    const re = patternRegExp(p);
    const hit = names.filter((n) => re.test(n));
    if (hit.length === 0) {
      throw new ConfigError("CONSTRAINT_PARAMS", `constraint pattern '${p}' matches no parameter of this model`, {
        field: "params", fix: `use scalpel parameter names, e.g. ${names.filter((n) => n.includes("mlp")).slice(0, 3).join(", ") || names.slice(0, 3).join(", ")}`,
      });
    }
    for (const n of hit) out.add(n);
  }
  return [...out].sort();
}

/** The "apply monotonicity" step: every constrained W mapped to |W| or max(W, 0). A new model; the input is untouched. */
export function applyMonotonicity(model: Model, c: MonotoneConstraint): Model {
  const names = new Set(constrainedNames(model, c));
  const params: Params = {};
  for (const [n, a] of Object.entries(model.params)) params[n] = names.has(n) ? (c.init === "abs" ? np.abs(a.ref) : np.maximum(a.ref, 0)) : a.ref;
  return model.withParams(params);
}

/** Projection after an optimiser step: W ← max(W, 0) on the constrained names (consumes `params`). */
export function projectParams(params: Params, names: readonly string[]): Params {
  const out: Params = { ...params };
  for (const n of names) out[n] = np.maximum(params[n]!, 0);
  return out;
}

/** W from V (differentiable): softplus(V) = log(1 + eᵛ), computed stably as max(V, 0) + log(1 + e^−|V|); or exp(V). */
export function weightOf(v: Arr, method: Exclude<ConstraintMethod, "project">): Arr {
  if (method === "exp") return np.exp(v);
  return np.maximum(v.ref, 0).add(np.log1p(np.exp(np.abs(v).mul(-1))));
}

/** V from W for a reparameterised start: softplus⁻¹(W) = W + log(−expm1(−W)) (stable form of log(eᵂ − 1)), or log W; W floored first. */
export function paramOf(w: Arr, method: Exclude<ConstraintMethod, "project">, floor = 1e-6): Arr {
  const wf = np.maximum(w, floor);
  if (method === "exp") return np.log(wf);
  return wf.ref.add(np.log(np.expm1(wf.mul(-1)).mul(-1)));
}

/** Fraction of negative entries of each constrained tensor (0 everywhere for a monotone model). */
export async function negativeFractions(model: Model, c: MonotoneConstraint): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const n of constrainedNames(model, c)) {
    const w = await readF32(model.params[n]!.ref);
    let neg = 0;
    for (const x of w) if (x < 0) neg++;
    out[n] = neg / w.length;
  }
  return out;
}

/** The constraint as training applies it (train/loop.ts TrainConstraint) for `model`'s parameter names. */
export function trainingConstraint(model: Pick<Model, "params">, c: MonotoneConstraint): TrainConstraint {
  const names = constrainedNames(model, c);
  const id = JSON.stringify({ monotone: c.method, params: names });
  if (c.method === "project") return { id, project: (p) => projectParams(p, names) };
  const method = c.method;
  const map = (p: Params, f: (a: Arr) => Arr): Params => {
    const out: Params = { ...p };
    for (const n of names) out[n] = f(p[n]!);
    return out;
  };
  return { id, toTrained: (p) => map(p, (w) => paramOf(w, method, c.floor)), toModel: (p) => map(p, (v) => weightOf(v, method)) };
}
