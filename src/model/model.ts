/**
 * createModel: a Model value from a config, parameters and a tokenizer (model/types.ts contract).
 *
 * Ownership: the model owns `params` (and weights derived from them: a padded copy of the
 * unembedding, see unembed.ts, and fused Q/K/V projections, see attention.ts) until dispose().
 * forward() borrows them; apply() consumes the parameters it is given.
 */
import { engineDevice } from "../tensor/engine.js";
import { checkBufferLimits } from "../tensor/webgpu-guard.js";
import type { Tokenizer } from "../io/tokenizer/types.js";
import { ConfigError } from "../errors.js";
import { disposeTree } from "../tensor/own.js";
import { fuseQKV, type FusedQKV } from "./attention.js";
import { coreShape, forward, jitCore, jitPrefix, type JittedCore, type JittedPrefix, type Prepared } from "./forward.js";
import { hookNames } from "./hook-names.js";
import { paramSpecs } from "./param-shapes.js";
import type { Arr, ForwardOptions, ForwardResult, Model, ModelConfig, Params } from "./types.js";
import { borrowUnembed, type Unembed } from "./unembed.js";
import { embeddingBlocks, splitNames, unembedWeights, vocabBlockRows } from "./vocab-split.js";
import { markNativeEligible, releaseNative } from "./native/executor.js";

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

/** The parameters each derived weight is computed from (identity decides whether it still applies). */
function unembedSources(config: ModelConfig, params: Params): (Arr | undefined)[] {
  return [config.tiedEmbeddings ? params["embed.W_E"] : params["unembed.W_U"], params["unembed.b_U"]];
}

function qkvSources(params: Params, l: number): (Arr | undefined)[] {
  const a = `blocks.${l}.attn.`;
  return ["W_Q", "W_K", "W_V", "b_Q", "b_K", "b_V"].map((n) => params[a + n]);
}

const same = (a: (Arr | undefined)[], b: (Arr | undefined)[]) => a.every((x, i) => x === b[i]);

class ModelImpl implements Model {
  /**
   * Weights derived from this model's own parameters, built on first use and owned by the model:
   * the padded unembedding (unembed.ts) and each block's fused Q/K/V projection (attention.ts).
   * They serve forward() and also apply() whenever the parameters apply() is given are this
   * model's own arrays (jax-js arrays are immutable, so identity means equal values): under `grad`
   * w.r.t. one weight, the others are the model's arrays and their derived copies stay valid.
   * Re-padding the tied unembedding on every apply() took 4.1 s vs 1.2 s for forward().
   */
  private prepared: { unembed?: Unembed; embed?: Arr[]; qkv: (FusedQKV | undefined)[] } = { qkv: [] };
  private disposed = false;
  private readonly names: string[];
  /** Compiled plain forwards, one per combination of paddedLogits / logitsPositions. */
  private readonly jitted = new Map<string, JittedCore>();
  /** Compiled first-k-blocks programs, by k (forward.ts jitPrefix). */
  private readonly prefixes = new Map<number, JittedPrefix>();

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
    const prepared = this.preparedFor(this.params);
    let jitted: JittedCore | undefined;
    if (this.useJit) {
      const shape = coreShape(options);
      const key = `${shape.paddedLogits}|${shape.lastOnly}`;
      jitted = this.jitted.get(key);
      if (!jitted) this.jitted.set(key, (jitted = jitCore(this.config, shape)));
    }
    return forward(this.config, this.params, tokens, options, { prepared, ...(jitted ? { jitted } : {}), ...this.prefixFor(this.params) });
  }

  apply(params: Params, tokens: number[][], options: ForwardOptions = {}): ForwardResult {
    try {
      return forward(this.config, params, tokens, options, this.disposed ? {} : { prepared: this.preparedFor(params), ...this.prefixFor(params) });
    } finally {
      disposeTree(params);
    }
  }

  /** The compiled-prefix internals for `params` (forward.ts jitPrefix): how many leading blocks are ours. */
  private prefixFor(params: Params): { ownLayers: number; prefix: (k: number) => JittedPrefix } | {} {
    if (!this.useJit) return {};
    const n = this.config.nLayers;
    let k = n;
    if (params !== this.params) {
      for (const name of new Set([...Object.keys(params), ...Object.keys(this.params)])) {
        if (params[name] === this.params[name]) continue;
        const m = /^blocks\.(\d+)\./.exec(name);
        k = Math.min(k, m ? Number(m[1]) : name.startsWith("embed.") || name.startsWith("pos_embed.") ? 0 : n);
      }
    }
    const prefix = (layers: number) => {
      let f = this.prefixes.get(layers);
      if (!f) this.prefixes.set(layers, (f = jitPrefix(this.config, layers)));
      return f;
    };
    return { ownLayers: k, prefix };
  }

  /**
   * The derived weights that hold for `params` (borrowed from the model's cache), building the
   * missing ones. A piece is used only when every parameter it is computed from is this model's
   * own array; otherwise forward computes from `params` directly (a traced weight gets its
   * gradient through the ordinary path: padding on the fly, three separate projections).
   */
  private preparedFor(params: Params): Prepared {
    const c = this.config;
    const p = this.prepared;
    const out: Prepared = {};
    if (same(unembedSources(c, params), unembedSources(c, this.params))) out.unembed = p.unembed ??= unembedWeights(c, this.params);
    const rows = vocabBlockRows(c);
    if (rows !== undefined && params["embed.W_E"] === this.params["embed.W_E"]) out.embed = p.embed ??= embeddingBlocks(this.params["embed.W_E"]!, rows);
    const qkv: (FusedQKV | undefined)[] = [];
    for (let l = 0; l < c.nLayers; l++) {
      const src = qkvSources(this.params, l);
      if (!same(qkvSources(params, l), src)) continue;
      const [W_Q, W_K, W_V, b_Q, b_K, b_V] = src;
      if (!W_Q || !W_K || !W_V) continue;
      const biases = b_Q && b_K && b_V ? ([b_Q, b_K, b_V] as [Arr, Arr, Arr]) : undefined;
      if (!biases && (b_Q || b_K || b_V)) continue; // partial biases: keep the separate projections
      qkv[l] = p.qkv[l] ??= fuseQKV(W_Q, W_K, W_V, biases);
    }
    if (qkv.length) out.qkv = qkv;
    return out;
  }

  /** Take over (by reference) the derived weights of `parent` whose sources this model shares. */
  inherit(parent: ModelImpl): void {
    const c = this.config;
    const pp = parent.prepared;
    if (pp.unembed && same(unembedSources(c, this.params), unembedSources(c, parent.params))) {
      this.prepared.unembed = borrowUnembed(pp.unembed);
    }
    if (pp.embed && this.params["embed.W_E"] === parent.params["embed.W_E"]) this.prepared.embed = pp.embed.map((b) => b.ref);
    pp.qkv.forEach((f, l) => {
      if (f && same(qkvSources(this.params, l), qkvSources(parent.params, l))) this.prepared.qkv[l] = { W: f.W.ref, ...(f.b ? { b: f.b.ref } : {}) };
    });
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
    let child: ModelImpl;
    try {
      child = new ModelImpl(this.config, merged, this.tokenizer, this.useJit);
    } catch (e) {
      disposeTree(merged);
      throw e;
    }
    child.inherit(this);
    return child;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    releaseNative(this);
    disposeTree(this.params);
    if (this.prepared.unembed) disposeTree(this.prepared.unembed);
    if (this.prepared.embed) disposeTree(this.prepared.embed);
    for (const f of this.prepared.qkv) if (f) disposeTree(f);
    this.prepared = { qkv: [] };
    for (const j of this.jitted.values()) j.dispose();
    this.jitted.clear();
    for (const j of this.prefixes.values()) j.dispose();
    this.prefixes.clear();
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
  // A weight one WebGPU binding cannot hold would make its kernels return zeros: refuse it here,
  // unless it is a vocabulary matrix, which the model runs in blocks (vocab-split.ts).
  if (engineDevice() === "webgpu") checkBufferLimits(params, splitNames(config));
  const model = new ModelImpl(config, params, tokenizer, options.jit ?? true);
  markNativeEligible(model);
  return model;
}

/** Number of scalar parameters (the unembedding counted once when tied). */
export function paramCount(model: Model): number {
  let n = 0;
  for (const a of Object.values(model.params)) n += a.size;
  return n;
}
