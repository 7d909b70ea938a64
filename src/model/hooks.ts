/**
 * Hook points: the one place where a forward pass lets a caller read (cache) or replace an
 * activation, and where `stopAt` ends the pass early.
 *
 * Cost when unused: `point()` is a Map lookup and a predicate call; no array is copied or
 * referenced unless the point is hooked or cached.
 */
import type { Arr, CacheSpec, Hook, HookContext } from "./types.js";

export class HookRunner {
  readonly cache: Record<string, Arr> = {};
  /** Set once the `stopAt` point has run; later points pass activations through untouched. */
  stopped = false;
  private readonly hooks: Map<string, Hook>;
  private readonly wants: (name: string) => boolean;

  constructor(
    hooks: Record<string, Hook> | undefined,
    cache: CacheSpec | undefined,
    private readonly stopAt: string | undefined,
    private readonly positions: number[],
    private readonly promptLength?: number,
    private readonly queryPositions: number[] = [],
  ) {
    this.hooks = new Map(Object.entries(hooks ?? {}));
    if (typeof cache === "function") this.wants = cache;
    else if (cache && cache.length > 0) {
      const set = new Set(cache);
      this.wants = (n) => set.has(n);
    } else this.wants = () => false;
  }

  /** Run the hook point `name` on `x` (consumed); returns the activation to continue with. */
  point(name: string, x: Arr, layer?: number): Arr {
    if (this.stopped) return x;
    const hook = this.hooks.get(name);
    if (hook) {
      const ctx: HookContext = { name, positions: this.positions, queryPositions: this.queryPositions };
      if (layer !== undefined) ctx.layer = layer;
      if (this.promptLength !== undefined) ctx.promptLength = this.promptLength;
      x = hook(x, ctx);
    }
    if (this.wants(name)) {
      this.cache[name]?.dispose();
      this.cache[name] = x.ref;
    }
    if (name === this.stopAt) this.stopped = true;
    return x;
  }
}
