/**
 * Patches: what every intervention returns (DESIGN.md "Models and hook points").
 *
 * - "weights": parameter deltas, W' = W + Δ (ROME, MEMIT, AlphaEdit, FT, merged LoRA).
 * - "activations": vectors added at hook points, x' = x + α·v (CAA/PCA steering vectors, probe
 *   directions), at every position or only at positions after the prompt.
 * - "module": an attached module (model/attached.ts): an SAE/transcoder splice, an unmerged LoRA
 *   adapter … — computation added through hooks, of a kind registered in model/modules/index.ts.
 * - "composed": patches applied in order.
 *
 * applyPatch returns a new model and leaves the original untouched (jax-js arrays are immutable and
 * unchanged parameters are shared), so reverting is returning to the original: `unpatch(patched)`
 * gives it back, bitwise identical. Patches are plain data (host Float32Arrays), so they hash,
 * save and load (model/patch-file.ts) without a device.
 */
import { numpy as np } from "@jax-js/jax";
import type { AttachedModule } from "./attached.js";
import { moduleKind } from "./modules/index.js";
import type { Hook, HookContext, Model, Params } from "./types.js";
import { withHooks } from "./with-hooks.js";

/** How a patch was made: method, its config, seed, code version, the base model's hash. */
export interface PatchInfo {
  method: string;
  description?: string;
  config?: unknown;
  seed?: number;
  createdAt?: string;
  codeVersion?: string;
  baseModelHash?: string;
  [key: string]: unknown;
}

export interface HostF32 {
  shape: number[];
  data: Float32Array;
}

export interface WeightPatch {
  type: "weights";
  info: PatchInfo;
  /** Normalised parameter name (model/types.ts) → Δ of the parameter's shape. */
  deltas: Record<string, HostF32>;
}

/**
 * Where an added vector applies. "all": every position of every forward pass. "after-prompt": the
 * positions whose outputs are generated text — the last prompt token (it predicts the first new
 * token) and every generated token, i.e. positions ≥ ctx.promptLength − 1 (set by generate(); see
 * HookContext), as CAA steers from the end of the instruction on. In a forward without
 * promptLength (plain scoring) the caller must say where the prompt ends: nothing is added.
 */
export type AdditionPositions = "all" | "after-prompt";

export interface ActivationAddition {
  /** Hook point, e.g. "blocks.3.hook_resid_post" (shape [batch, pos, d_model]). */
  hook: string;
  /** [d_model]. */
  vector: Float32Array;
  alpha: number;
  positions: AdditionPositions;
}

export interface ActivationPatch {
  type: "activations";
  info: PatchInfo;
  additions: ActivationAddition[];
}

export interface ModulePatch {
  type: "module";
  info: PatchInfo;
  module: AttachedModule;
}

export interface ComposedPatch {
  type: "composed";
  info: PatchInfo;
  patches: Patch[];
}

export type Patch = WeightPatch | ActivationPatch | ModulePatch | ComposedPatch;
/** A patch that is not a composition. */
export type LeafPatch = WeightPatch | ActivationPatch | ModulePatch;

const bases = new WeakMap<Model, Model>();

/** The model with `patch` applied; `model` is unchanged. */
export function applyPatch(model: Model, patch: Patch): Model {
  const out = applyOne(model, patch);
  bases.set(out, bases.get(model) ?? model);
  return out;
}

/** The unpatched model a patched one was made from (itself when it was never patched). */
export function unpatch(model: Model): Model {
  return bases.get(model) ?? model;
}

function applyOne(model: Model, patch: Patch): Model {
  switch (patch.type) {
    case "weights":
      return model.withParams(addDeltas(model, patch.deltas));
    case "activations":
      return withHooks(model, additionHooks(patch.additions));
    case "module":
      return withHooks(model, moduleKind(patch.module.kind).hooks(model, patch.module));
    case "composed":
      return patch.patches.reduce(applyOne, model);
  }
}

function addDeltas(model: Model, deltas: Record<string, HostF32>): Params {
  const out: Params = {};
  for (const [name, d] of Object.entries(deltas)) {
    const W = model.params[name];
    if (!W) throw new RangeError(`patch changes ${name}, which this model does not have`);
    if (W.shape.join() !== d.shape.join()) throw new RangeError(`patch delta for ${name} has shape [${d.shape}], the parameter [${W.shape}]`);
    out[name] = W.ref.add(np.array(d.data).reshape(d.shape));
  }
  return out;
}

/** Hooks adding α·v at each addition's hook point (several additions at one point are summed). */
export function additionHooks(additions: readonly ActivationAddition[]): Record<string, Hook> {
  const byHook = new Map<string, ActivationAddition[]>();
  for (const a of additions) byHook.set(a.hook, [...(byHook.get(a.hook) ?? []), a]);
  const hooks: Record<string, Hook> = {};
  for (const [hook, list] of byHook) {
    hooks[hook] = (x, ctx) => list.reduce((acc, a) => addVector(acc, a, ctx), x);
  }
  return hooks;
}

function addVector(x: ReturnType<Hook>, a: ActivationAddition, ctx: HookContext): ReturnType<Hook> {
  // α = 0 returns x itself: the zero-steering guarantee (bitwise-identical logits) by construction.
  if (a.alpha === 0) return x;
  const [, pos, d] = x.shape as [number, number, number];
  if (d !== a.vector.length) throw new RangeError(`steering vector at ${a.hook} has ${a.vector.length} entries, the activation ${d}`);
  const scaled = a.vector.map((v) => v * a.alpha);
  if (a.positions === "all") return x.add(np.array(scaled));
  if (ctx.promptLength === undefined) return x;
  const from = ctx.promptLength - 1;
  // Mask [pos, 1]: left padding ends every row's prompt at the same position, so one mask serves the batch.
  const mask = Float32Array.from(ctx.positions, (p) => (p >= from ? 1 : 0));
  if (mask.every((m) => m === 1)) return x.add(np.array(scaled));
  if (mask.every((m) => m === 0)) return x;
  return x.add(np.array(mask).reshape([pos, 1]).mul(np.array(scaled)));
}

/** All patches of a (possibly composed) patch, flattened in application order. */
export function flattenPatch(patch: Patch): LeafPatch[] {
  return patch.type === "composed" ? patch.patches.flatMap(flattenPatch) : [patch];
}

export function composePatches(patches: Patch[], info: PatchInfo = { method: "compose" }): ComposedPatch {
  return { type: "composed", info, patches };
}
