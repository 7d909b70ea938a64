/**
 * A model whose every forward pass runs extra hooks: how an activation-level patch (a steering
 * vector, later an SAE splice) becomes "a new model" that any code — scoring, generation,
 * evaluation — uses without knowing it is patched. The base model is untouched and shared.
 *
 * Order at a hook point: the attached hook runs first, then the caller's hook for the same point
 * sees its result (so a user reading an activation of a steered model reads the steered value).
 */
import type { ForwardOptions, ForwardResult, Hook, Model, Params } from "./types.js";

export function composeHooks(first: Record<string, Hook>, then: Record<string, Hook> | undefined): Record<string, Hook> {
  if (!then) return first;
  const out: Record<string, Hook> = { ...then };
  for (const [name, h] of Object.entries(first)) {
    const g = then[name];
    out[name] = g ? (x, ctx) => g(h(x, ctx), ctx) : h;
  }
  return out;
}

class HookedModel implements Model {
  constructor(
    readonly base: Model,
    /** Called once per forward pass (attached modules keep per-pass values in its closure). */
    readonly attached: () => Record<string, Hook>,
  ) {}
  get config() {
    return this.base.config;
  }
  get tokenizer() {
    return this.base.tokenizer;
  }
  get params() {
    return this.base.params;
  }
  forward(tokens: number[][], options: ForwardOptions = {}): ForwardResult {
    return this.base.forward(tokens, { ...options, hooks: composeHooks(this.attached(), options.hooks) });
  }
  apply(params: Params, tokens: number[][], options: ForwardOptions = {}): ForwardResult {
    return this.base.apply(params, tokens, { ...options, hooks: composeHooks(this.attached(), options.hooks) });
  }
  hookNames(): string[] {
    return this.base.hookNames();
  }
  withParams(params: Params): Model {
    return new HookedModel(this.base.withParams(params), this.attached);
  }
  /** The base model is shared, not owned: disposing a hooked view frees nothing. */
  dispose(): void {}
}

/**
 * `model` with `hooks` attached to every forward pass (the original is unchanged). `hooks` may be a
 * factory called once per pass, for hooks that hand values from one point to another.
 */
export function withHooks(model: Model, hooks: Record<string, Hook> | (() => Record<string, Hook>)): Model {
  const factory = typeof hooks === "function" ? hooks : () => hooks;
  const names = model.hookNames();
  for (const name of Object.keys(factory())) {
    if (!names.includes(name)) throw new RangeError(`withHooks: ${name} is not a hook point of this model`);
  }
  return new HookedModel(model, factory);
}
