/**
 * Covariance statistics of MLP keys: the uncentered second moment C = E[k kᵀ] of the input to a
 * layer's MLP output projection (hook `blocks.{l}.mlp.hook_post`, the input of W_out) over a text
 * corpus — ROME's "mom2" (rome/layer_stats.py: SecondMoment over flatten_masked_batch of the
 * rewrite module's input; ROME eq. 2 and MEMIT eq. 14 use it as the prior over keys).
 *
 * - Accumulated in float64: each batch's Gram matrix XᵀX (one float32 device matmul, as ROME's
 *   mom2_dtype "float32") is added to a float64 running sum; padding rows are zeroed first, so
 *   they contribute nothing and are not counted (flatten_masked_batch).
 * - Streamed: one batch of texts at a time, memory independent of the corpus size.
 * - Checkpointed: every `checkpointEvery` batches the running sum is written to the store under
 *   `<key>.partial`; a pass that was killed resumes from there (same batches, same order, so the
 *   result is bitwise the one an uninterrupted pass gives).
 * - Cached by content: the key hashes the model's weights (model/hash.ts), the layer, the corpus
 *   identity (its texts' hash unless named), the sample count and the truncation length.
 *
 * Browser-safe: storage goes through the StatsStore interface (stats-store-node.ts for Node).
 */
import { numpy as np } from "@jax-js/jax";
import { modelHash } from "../model/hash.js";
import { nativeFor } from "../model/native/executor.js";
import type { Model } from "../model/types.js";
import { disposeTree, readF32 } from "../tensor/own.js";
import { encodePrompt, padIdOf, padRight } from "./tokens.js";

/** Byte storage for statistics by key (content-addressed: a key's bytes never change). */
export interface StatsStore {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, data: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface Mom2Stats {
  /** Key dimension (d_mlp). */
  d: number;
  /** Σ k kᵀ over all counted tokens, row-major [d × d]. */
  sum: Float64Array;
  /** Number of tokens counted. */
  count: number;
  /** Texts consumed. */
  samples: number;
}

export interface Mom2Options {
  layer: number;
  /** The corpus; the first `nSamples` non-empty texts are used. */
  texts: readonly string[];
  /** Corpus name for the cache key (default: a hash of the texts used). */
  corpusId?: string;
  /** Texts to use (ROME's mom2_n_samples; default all). */
  nSamples?: number;
  /** Tokens kept per text (ROME truncates to the context size; default min(nCtx, 256)). */
  maxLength?: number;
  /** Texts per forward pass (default 8). */
  batchSize?: number;
  store?: StatsStore;
  /** Batches between checkpoints (default 8; needs a store). */
  checkpointEvery?: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

const VERSION = 1;

export function hookOfLayer(layer: number): string {
  return `blocks.${layer}.mlp.hook_post`;
}

/** E[k kᵀ] = Σ k kᵀ / count (SecondMoment.moment()). */
export function moment(s: Mom2Stats): Float64Array {
  const out = new Float64Array(s.sum.length);
  for (let i = 0; i < out.length; i++) out[i] = s.sum[i]! / s.count;
  return out;
}

/** The texts a pass over `opts` uses (non-empty, first nSamples). */
export function corpusSample(texts: readonly string[], nSamples?: number): string[] {
  const out: string[] = [];
  for (const t of texts) {
    if (t.trim() === "") continue;
    out.push(t);
    if (nSamples !== undefined && out.length >= nSamples) break;
  }
  return out;
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The cache key of a pass: model weights, layer, corpus, sample count, truncation. */
export async function mom2Key(model: Model, opts: Mom2Options): Promise<string> {
  const texts = corpusSample(opts.texts, opts.nSamples);
  const corpus = opts.corpusId ?? (await sha256(texts.join("\u0000")));
  const spec = { v: VERSION, model: await modelHash(model), hook: hookOfLayer(opts.layer), corpus, n: texts.length, maxLength: maxLengthOf(model, opts) };
  return `mom2-${(await sha256(JSON.stringify(spec))).slice(0, 32)}`;
}

function maxLengthOf(model: Model, opts: Mom2Options): number {
  return opts.maxLength ?? Math.min(model.config.nCtx, 256);
}

/** Collect (or read from the store, or resume) the second moment of layer `opts.layer`'s keys. */
export async function collectMom2(model: Model, opts: Mom2Options): Promise<Mom2Stats> {
  const key = await mom2Key(model, opts);
  const store = opts.store;
  const done = store && (await store.get(key));
  if (done) return decode(done);
  const texts = corpusSample(opts.texts, opts.nSamples);
  const d = model.config.dMlp;
  const partial = store && (await store.get(`${key}.partial`));
  const state: Mom2Stats = partial ? decode(partial) : { d, sum: new Float64Array(d * d), count: 0, samples: 0 };
  const batchSize = opts.batchSize ?? 8;
  const every = opts.checkpointEvery ?? 8;
  const maxLen = maxLengthOf(model, opts);
  const hook = hookOfLayer(opts.layer);
  const stage = `covariance ${hook}`;
  let batches = 0;
  opts.onProgress?.(stage, state.samples, texts.length);
  // Resuming starts at a batch boundary (checkpoints are written only there), so the batches are
  // the ones an uninterrupted pass would run.
  for (let start = state.samples; start < texts.length; start += batchSize) {
    const rows = texts.slice(start, start + batchSize).map((t) => encodePrompt(model.tokenizer, t).slice(0, maxLen));
    const { gram, count } = await batchGram(model, rows, hook);
    for (let i = 0; i < gram.length; i++) state.sum[i]! += gram[i]!;
    state.count += count;
    state.samples = Math.min(start + batchSize, texts.length);
    batches++;
    opts.onProgress?.(stage, state.samples, texts.length);
    if (store && batches % every === 0 && state.samples < texts.length) await store.put(`${key}.partial`, encode(state));
  }
  if (store) {
    await store.put(key, encode(state));
    await store.delete(`${key}.partial`);
  }
  return state;
}

/**
 * Batch lengths are rounded up to a multiple of this: the forward runs eagerly (it reads a hook),
 * and every new shape compiles new kernels, so a corpus of texts of every length paid a compile
 * per batch (the fact world's 2,000-text covariance in Node: 30.6 s unbucketed, 22.5 s with 16; bench/README.md "Web lab").
 * Right padding is causal-safe (no real token attends to it) and masked out of the Gram matrix.
 */
const LENGTH_BUCKET = 16;

/** XᵀX (float64) of one batch's keys, padding rows zeroed; and the number of real tokens. */
async function batchGram(model: Model, rows: number[][], hook: string): Promise<{ gram: Float64Array; count: number }> {
  const { tokens, mask } = padRight(rows, padIdOf(model.tokenizer), LENGTH_BUCKET);
  const count = mask.flat().reduce((a, b) => a + b, 0);
  // The batch's Gram matrix in float32 (one matmul; float64 matmuls on the Wasm backend ran at
  // ~0.35 GFLOP/s here, 19 GFLOP per 1024 GPT-2 tokens), added to the float64 running sum: each
  // entry is a sum of at most B·T products (relative error ~√(B·T)·6e-8), the total is float64.
  const native = nativeFor(model);
  if (native) {
    // Keys and Gram matrix both on the native executor; padding rows zeroed on the host.
    const { cache } = await native.forward(model, tokens, { attentionMask: mask, cache: [hook], stopAt: hook });
    const { data, shape } = cache[hook]!;
    const d = shape[2]!;
    mask.flat().forEach((m, row) => m === 0 && data.fill(0, row * d, (row + 1) * d));
    return { gram: Float64Array.from(await native.gram({ data, shape: [data.length / d, d] })), count };
  }
  const { cache, logits } = model.forward(tokens, { attentionMask: mask, cache: [hook], stopAt: hook });
  logits?.dispose();
  const acts = cache[hook]!;
  delete cache[hook];
  disposeTree(cache);
  const [B, T, d] = acts.shape as [number, number, number];
  const X = acts.mul(np.array(Float32Array.from(mask.flat())).reshape([B, T, 1])).reshape([B * T, d]);
  return { gram: Float64Array.from(await readF32(np.matmul(np.transpose(X.ref), X))), count };
}

/** Layout: u32 header length, JSON header {v, d, count, samples}, pad to 8, float64 sum. */
export function encode(s: Mom2Stats): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ v: VERSION, d: s.d, count: s.count, samples: s.samples }));
  const off = Math.ceil((4 + header.length) / 8) * 8;
  const out = new Uint8Array(off + s.sum.byteLength);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  out.set(new Uint8Array(s.sum.buffer, s.sum.byteOffset, s.sum.byteLength), off);
  return out;
}

export function decode(bytes: Uint8Array): Mom2Stats {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = view.getUint32(0, true);
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + len))) as { v: number; d: number; count: number; samples: number };
  if (h.v !== VERSION) throw new RangeError(`covariance statistics of format ${h.v}, expected ${VERSION}`);
  const off = Math.ceil((4 + len) / 8) * 8;
  const sum = new Float64Array(h.d * h.d);
  new Uint8Array(sum.buffer).set(bytes.subarray(off, off + sum.byteLength));
  if (bytes.length - off !== sum.byteLength) throw new RangeError(`covariance statistics: ${bytes.length - off} data bytes, expected ${sum.byteLength}`);
  return { d: h.d, sum, count: h.count, samples: h.samples };
}
