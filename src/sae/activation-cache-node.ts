/**
 * An activation cache on disk (SAELens `CacheActivationsRunner` / `use_cached_activations`): one
 * pass of the model over the token rows writes every position's activation at the input hook
 * (x.f32, [tokens, d_in] row-major float32) and, for a transcoder, the output hook (y.f32), with
 * meta.json describing them. Training then reads it back in chunks (FileActivations) — each epoch
 * in a new chunk order — so many epochs, sweeps and seeds pay for the model's forward passes once,
 * and memory stays at one chunk plus the training buffer. The folder is written under a temporary
 * name and renamed into place, so a folder that exists is complete.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { CheckpointError } from "../errors.js";
import { readJsonFile, writeJsonFile } from "../io/json.js";
import { deriveSeed, Rng } from "../util/rng.js";
import type { ActivationBatch, ActivationSource, ModelActivations } from "./activation-store.js";

export interface ActivationCacheMeta {
  version: 1;
  dIn: number;
  dOut: number;
  same: boolean;
  tokens: number;
}

const bytes = (f: Float32Array) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength);

/** Run `source` once over its rows (`passes` chunks) into `dir`; returns the cache's description. */
export async function writeActivationCache(dir: string, source: ModelActivations, passes: number): Promise<ActivationCacheMeta> {
  const tmp = `${dir}.tmp-${process.pid}`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  const fx = await fs.open(path.join(tmp, "x.f32"), "w");
  const fy = source.same ? undefined : await fs.open(path.join(tmp, "y.f32"), "w");
  let tokens = 0;
  try {
    for (let p = 0; p < passes; p++) {
      const b = await source.next();
      await fx.write(bytes(b.x));
      if (fy) await fy.write(bytes(b.y));
      tokens += b.n;
    }
  } finally {
    await fx.close();
    await fy?.close();
  }
  const meta: ActivationCacheMeta = { version: 1, dIn: source.dIn, dOut: source.dOut, same: source.same, tokens };
  await writeJsonFile(path.join(tmp, "meta.json"), meta);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(path.dirname(dir), { recursive: true });
  await fs.rename(tmp, dir);
  return meta;
}

/** Reads a cache folder back, `chunkTokens` at a time, in a fresh chunk order every epoch. */
export class FileActivations implements ActivationSource {
  readonly dIn: number;
  readonly dOut: number;
  readonly same: boolean;
  tokensRead = 0;
  private epoch = 0;
  private order: number[] = [];
  private cursor = 0;

  private constructor(
    private readonly dir: string,
    private readonly meta: ActivationCacheMeta,
    private readonly chunkTokens: number,
    private readonly seed: number,
  ) {
    this.dIn = meta.dIn;
    this.dOut = meta.dOut;
    this.same = meta.same;
  }

  static async open(dir: string, options: { chunkTokens?: number; seed: number }): Promise<FileActivations> {
    const file = path.join(dir, "meta.json");
    const meta = (await readJsonFile(file, { errorClass: CheckpointError })) as ActivationCacheMeta;
    if (meta?.version !== 1 || !(meta.tokens > 0) || !(meta.dIn > 0) || !(meta.dOut > 0)) {
      throw new CheckpointError("ACTIVATION_CACHE", "not an activation cache (meta.json lacks version 1, tokens, dIn or dOut)", { file, fix: "delete the folder; it is rebuilt from the model" });
    }
    for (const [name, d] of [["x.f32", meta.dIn], ...(meta.same ? [] : [["y.f32", meta.dOut]])] as [string, number][]) {
      const size = (await fs.stat(path.join(dir, name))).size;
      if (size !== meta.tokens * d * 4) throw new CheckpointError("ACTIVATION_CACHE", `${name} holds ${size} bytes, meta.json says ${meta.tokens} × ${d} float32`, { file: path.join(dir, name), fix: "delete the folder; it is rebuilt from the model" });
    }
    return new FileActivations(dir, meta, options.chunkTokens ?? 4096, options.seed);
  }

  get tokens(): number {
    return this.meta.tokens;
  }

  private async read(name: string, d: number, start: number, n: number): Promise<Float32Array> {
    const out = new Float32Array(n * d);
    const fh = await fs.open(path.join(this.dir, name), "r");
    try {
      await fh.read(bytes(out), 0, out.byteLength, start * d * 4);
    } finally {
      await fh.close();
    }
    return out;
  }

  async next(): Promise<ActivationBatch> {
    const chunks = Math.ceil(this.meta.tokens / this.chunkTokens);
    if (this.cursor >= this.order.length) {
      this.order = Array.from({ length: chunks }, (_, i) => i);
      new Rng(deriveSeed(this.seed, "chunks", this.epoch++)).shuffle(this.order);
      this.cursor = 0;
    }
    const c = this.order[this.cursor++]!;
    const start = c * this.chunkTokens;
    const n = Math.min(this.chunkTokens, this.meta.tokens - start);
    const x = await this.read("x.f32", this.dIn, start, n);
    const y = this.same ? x : await this.read("y.f32", this.dOut, start, n);
    return { x, y, n };
  }
}
