/**
 * A trial's config and seed from its sampled parameters: each parameter is set at its dotted path
 * in the study's base config, except `seed`, which is the trial's run seed (so a sweep over
 * `seed: [0, 1, 2]` runs replicates of one config).
 */
import { deriveSeed } from "../../util/rng.js";
import type { TrialParams } from "../../analysis/search/types.js";

/** The parameter name that sets a trial's run seed rather than a config field. */
export const SEED_PARAM = "seed";

/** The run seed of trial `number`: the `seed` parameter when the study sweeps it, else derived from the study seed. */
export function trialSeed(studySeed: number, number: number, params: TrialParams): number {
  const v = params[SEED_PARAM];
  return typeof v === "number" ? v : deriveSeed(studySeed, "trial", number);
}

export function applyParams(base: Record<string, unknown>, params: TrialParams): Record<string, unknown> {
  const out = structuredClone(base);
  for (const [dotted, value] of Object.entries(params)) {
    if (dotted === SEED_PARAM) continue;
    const parts = dotted.split(".");
    let node: Record<string, unknown> | unknown[] = out;
    for (const part of parts.slice(0, -1)) {
      const next: unknown = (node as Record<string, unknown>)[part];
      if (next === null || typeof next !== "object") {
        // Config validation checked the path exists in the schema; an absent (null) parent is created.
        (node as Record<string, unknown>)[part] = {};
      }
      node = (node as Record<string, unknown>)[part] as Record<string, unknown>;
    }
    (node as Record<string, unknown>)[parts.at(-1)!] = value;
  }
  return out;
}
