/**
 * createModel: a Model value from a config, parameters and a tokenizer (model/types.ts contract).
 *
 * Ownership: the model owns `params` (and a padded copy of the unembedding, see unembed.ts) until
 * dispose(). forward() borrows them; apply() consumes the parameters it is given.
 */
import type { Tokenizer } from "../io/tokenizer/types.js";
import { ConfigError } from "../errors.js";
import { disposeTree } from "../tensor/own.js";
import { forward, jitCore, type JittedCore } from "./forward.js";
import { hookNames } from "./hook-names.js";
import { paramSpecs } from "./param-shapes.js";
import type { ForwardOptions, ForwardResult, Model, ModelConfig, Params } from "./types.js";
import { prepareUnembed, type Unembed } from "./unembed.js";

/** Check that params hold every parameter the config implies, with the right shapes. */
export function checkParams(config: ModelConfig, params: Params): void {
  for (const spec of paramSpecs(config)) {
    const a = params[spec.name];
    if (!a) {
      throw new ConfigError("MISSING_PARAM", `parameter '${spec.name}' is missing`, { field: spec.name, fix: "pass a complete parameter set for this config" });
    }
    if (a.shape.length !== spec.shape.length || a.shape.some((d, i) => d !== spec.shape[i])) {
      throw new ConfigError("BAD_PARAM_SHAPE", `parameter '${spec.name}' has shape [${a.shape}], expected [${spec.shape}]`, { field: spec.name });
    }
  }
}

class ModelImpl implements Model {
  private unembedCache: Unembed | undefined;
  private disposed = false;
  private readonly names: string[];
  private jitted: JittedCore | undefined;

  constructor(
    readonly config: ModelConfig,
    readonly params: Params,
    readonly tokenizer: Tokenizer,
    private readonly useJit: boolean,
  ) {
    checkParams(config, params);
    this.names = hookNames(config);
  }

  private live(): void {
    if (this.disposed) throw new Error("this Model has been disposed");
  }

  forward(tokens: number[][], options: ForwardOptions = {}): ForwardResult {
    this.live();
    this.unembedCache ??= prepareUnembed(this.config, this.params);
    if (this.useJit) this.jitted ??= jitCore(this.config);
    const u = this.unembedCache;
    return forward(this.config, this.params, tokens, options, {
      unembed: { W: u.W.ref, ...(u.b ? { b: u.b.ref } : {}) },
      ...(this.jitted ? { jitted: this.jitted } : {}),
    });
  }

  apply(params: Params, tokens: number[][], options: ForwardOptions = {}): ForwardResult {
    try {
      return forward(this.config, params, tokens, options);
    } finally {
      disposeTree(params);
    }
  }

  hookNames(): string[] {
    return this.names.slice();
  }

  /**
   * `params` (consumed) replace parameters by name; parameters not named are shared by reference
   * with this model (jax-js arrays are immutable, so sharing is safe and costs no memory).
   */
  withParams(params: Params): Model {
    this.live();
    const merged: Params = {};
    for (const [name, a] of Object.entries(this.params)) if (!(name in params)) merged[name] = a.ref;
    Object.assign(merged, params);
    try {
      return new ModelImpl(this.config, merged, this.tokenizer, this.useJit);
    } catch (e) {
      disposeTree(merged);
      throw e;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeTree(this.params);
    if (this.unembedCache) disposeTree(this.unembedCache);
    this.unembedCache = undefined;
    this.jitted?.dispose();
    this.jitted = undefined;
  }
}

/** A model owning `params` (consumed: dispose the model, not the arrays). */
export interface CreateModelOptions {
  /**
   * Compile plain forwards (no hooks, cache, stopAt or KV cache) with jax-js `jit` (default true).
   * Each new [batch, length] compiles once; turn off for workloads whose shapes never repeat.
   */
  jit?: boolean;
}

export function createModel(config: ModelConfig, params: Params, tokenizer: Tokenizer, options: CreateModelOptions = {}): Model {
  return new ModelImpl(config, params, tokenizer, options.jit ?? true);
}

/** Number of scalar parameters (the unembedding counted once when tied). */
export function paramCount(model: Model): number {
  let n = 0;
  for (const a of Object.values(model.params)) n += a.size;
  return n;
}
