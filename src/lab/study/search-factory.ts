/**
 * Samplers and pruners by the `type:` name used in configs. Implementations register here
 * (study/builtin-search.ts registers scalpel's own); tests and plugins may register more.
 */
import { ConfigError } from "../../errors.js";
import { suggest } from "../suggest.js";
import type { Pruner, Sampler, SearchSpace } from "../../analysis/search/types.js";

export interface SamplerContext {
  /** The study seed: samplers derive all their randomness from it. */
  seed: number;
  space: SearchSpace;
  nTrials: number;
}

export type SamplerFactory = (options: Record<string, unknown>, ctx: SamplerContext) => Sampler;
export type PrunerFactory = (options: Record<string, unknown>) => Pruner;

const samplers = new Map<string, SamplerFactory>();
const pruners = new Map<string, PrunerFactory>();

export function registerSampler(type: string, factory: SamplerFactory): void {
  samplers.set(type, factory);
}

export function registerPruner(type: string, factory: PrunerFactory): void {
  pruners.set(type, factory);
}

export function makeSampler(spec: { type: string; [k: string]: unknown }, ctx: SamplerContext): Sampler {
  const { type, ...options } = spec;
  const factory = samplers.get(type);
  if (!factory) throw new ConfigError("UNKNOWN_SAMPLER", `sampler '${type}' is not available (${[...samplers.keys()].join(", ")})${suggest(type, [...samplers.keys()])}`, { field: "study.sampler" });
  return factory(options, ctx);
}

/** The study's pruner, or undefined for `none`. */
export function makePruner(spec: { type: string; [k: string]: unknown }): Pruner | undefined {
  if (spec.type === "none") return undefined;
  const { type, ...options } = spec;
  const factory = pruners.get(type);
  if (!factory) throw new ConfigError("UNKNOWN_PRUNER", `pruner '${type}' is not available (${[...pruners.keys()].join(", ")})${suggest(type, [...pruners.keys()])}`, { field: "study.pruner" });
  return factory(options);
}
