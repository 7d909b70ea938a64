/**
 * Attached modules: patches that add computation to a model rather than change its weights — an
 * SAE or transcoder spliced at a hook point, an unmerged LoRA adapter, later a GRACE codebook or a
 * WISE side memory with its router. DESIGN.md: "adding a kind is one file plus a registry line";
 * the file implements `ModuleKind` and the line is in model/modules/index.ts.
 *
 * A module acts through hooks. `hooks()` is called once per forward pass, so a module that needs a
 * value from one hook point at another (a transcoder reads the MLP's input and replaces its output;
 * a LoRA adapter reads a matrix's input and adds to its output) keeps it in that pass's closure —
 * never in module-level state — and two forwards (or two models) never see each other's values.
 * Everything a module is travels as host data: a JSON description plus named float32 tensors, which
 * is what its hash covers and what its file holds.
 */
import type { HostF32 } from "./patch.js";
import type { Arr, Hook, Model } from "./types.js";

/** The data of one attached module; `kind` names its ModuleKind. */
export interface AttachedModule {
  kind: string;
}

/** A module as plain data: what is hashed and saved. `meta` must be JSON (no typed arrays). */
export interface EncodedModule {
  /** What determines the module's effect (hashed and saved). */
  meta: unknown;
  tensors: Record<string, HostF32>;
  /** How it was made (saved, not hashed: two modules that compute the same thing share caches). */
  about?: unknown;
}

export interface ModuleKind<M extends AttachedModule = AttachedModule> {
  kind: M["kind"];
  /**
   * Checks `m` fits `model` (hook points exist, shapes agree: a RangeError naming what is wrong)
   * and returns the factory of one forward pass's hooks.
   */
  hooks(model: Model, m: M): () => Record<string, Hook>;
  encode(m: M): EncodedModule;
  /** The inverse of encode; throws a RangeError naming the bad field (the caller adds the file). */
  decode(e: EncodedModule): M;
}

/**
 * Per-pass hand-over of an activation from the hook point that reads it to the points that use it:
 * `put` keeps x (borrowed) for `uses` takers, each `take` returns an owned reference and the last
 * one releases the kept array, so nothing is left referenced after a complete pass.
 */
export class HandOver {
  private readonly held = new Map<string, { x: Arr; left: number }>();
  put(name: string, x: Arr, uses: number): void {
    this.held.get(name)?.x.dispose();
    this.held.set(name, { x: x.ref, left: uses });
  }
  take(name: string): Arr {
    const h = this.held.get(name);
    if (!h) throw new RangeError(`attached module: ${name} was not seen before it was needed (hook order)`);
    if (--h.left > 0) return h.x.ref;
    this.held.delete(name);
    return h.x;
  }
}
