/**
 * Steering vectors as patches (model/patch.ts ActivationPatch): x' = x + α·v at a hook point, at
 * every position or only from the last prompt token on ("after-prompt", as CAA steers from the end
 * of the instruction). A steering patch saves, loads and composes like any patch.
 *
 * The zero-steering guarantee: `steerModel` drops additions whose α is 0 and returns the original
 * model object itself when none is left, so α = 0 runs the exact same code path as the unsteered
 * model (no hook attached: the compiled forward, the same kernels) and its logits are bitwise equal
 * and its greedy generations identical — by construction, and tested for every method.
 */
import { applyPatch, type ActivationPatch, type AdditionPositions, type Patch, type PatchInfo } from "../model/patch.js";
import type { Model } from "../model/types.js";

/** The residual-stream hook CAA steers (the output of decoder layer `layer`). */
export function residHook(layer: number): string {
  return `blocks.${layer}.hook_resid_post`;
}

export interface SteeringSpec {
  /** Hook point → steering vector ([d_model]). */
  vectors: Record<string, Float32Array>;
  alpha: number;
  positions?: AdditionPositions;
  info: PatchInfo;
}

export function steeringPatch(spec: SteeringSpec): ActivationPatch {
  return {
    type: "activations",
    info: spec.info,
    additions: Object.entries(spec.vectors).map(([hook, vector]) => ({ hook, vector, alpha: spec.alpha, positions: spec.positions ?? "after-prompt" })),
  };
}

/** The same patch with every α multiplied by `scale` (α-sweeps reuse one fitted vector). */
export function scalePatch(patch: Patch, scale: number): Patch {
  switch (patch.type) {
    case "activations":
      return { ...patch, additions: patch.additions.map((a) => ({ ...a, alpha: a.alpha * scale })) };
    case "composed":
      return { ...patch, patches: patch.patches.map((p) => scalePatch(p, scale)) };
    default:
      return patch;
  }
}

/** Remove additions with α = 0 (and empty activation patches); undefined when nothing is left. */
export function dropZeroAdditions(patch: Patch): Patch | undefined {
  switch (patch.type) {
    case "activations": {
      const additions = patch.additions.filter((a) => a.alpha !== 0);
      return additions.length ? { ...patch, additions } : undefined;
    }
    case "composed": {
      const patches = patch.patches.map(dropZeroAdditions).filter((p): p is Patch => p !== undefined);
      return patches.length ? { ...patch, patches } : undefined;
    }
    default:
      return patch;
  }
}

/** `model` with the steering patch applied; the very same `model` object when every α is 0. */
export function steerModel(model: Model, patch: Patch): Model {
  const live = dropZeroAdditions(patch);
  return live ? applyPatch(model, live) : model;
}
