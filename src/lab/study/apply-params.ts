/** A trial's config: the study's base config with each sampled parameter set at its dotted path. */
import type { TrialParams } from "../search/types.js";

export function applyParams(base: Record<string, unknown>, params: TrialParams): Record<string, unknown> {
  const out = structuredClone(base);
  for (const [dotted, value] of Object.entries(params)) {
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
