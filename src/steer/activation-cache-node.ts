/**
 * The activation cache on disk (Node adapter of steer/collect.ts): activations of a dataset at
 * hook points, keyed by the content hash of everything they depend on — the model's weights
 * (modelHash), the patch applied (patchHash), the dataset's name, its token ids and position
 * selections (which already encode the tokenisation), the tokenisation settings, the hooks and the
 * format version. A second request with the same key reads the stored rows and runs no forward pass.
 *
 * Layout: ROOT/<key>/meta.json plus one raw little-endian float32 file per hook (rows × width,
 * row-major). Rows are streamed to temporary files while they are computed, renamed into place,
 * and meta.json is written last (atomically): a directory without meta.json is an interrupted
 * write and is recomputed. Reading streams fixed-size row batches from the files, so a dataset
 * larger than memory can be consumed (probes, means) without loading it whole.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { CheckpointError } from "../errors.js";
import { canonicalJson, sha256HexSync } from "../util/hash.js";

const hashValue = (v: unknown) => sha256HexSync(canonicalJson(v));
import { modelHash } from "../model/hash.js";
import { applyPatch, type Patch } from "../model/patch.js";
import type { Model } from "../model/types.js";
import { collectActivations, rowCount, type CollectItem } from "./collect.js";
import { patchHash } from "../model/patch-hash.js";
import { writeFileAtomic } from "../io/atomic.js";

const FORMAT = 1;

export interface ActivationRequest {
  /** The unpatched model (its weights are hashed). */
  model: Model;
  /** Applied to `model` before collecting (e.g. a steering vector); part of the key. */
  patch?: Patch;
  /** A name for the dataset (part of the key and of meta.json; the items are hashed too). */
  dataset: string;
  items: readonly CollectItem[];
  hooks: readonly string[];
  /** How the texts were tokenised (template, separator, special tokens …), recorded in the key. */
  tokenization?: Record<string, unknown>;
  batchSize?: number;
  /** Recorded in meta.json but not part of the key (code version, command line …). */
  provenance?: Record<string, unknown>;
}

export interface CacheMeta {
  format: number;
  key: string;
  dataset: string;
  modelHash: string;
  patchHash: string;
  hooks: string[];
  widths: Record<string, number>;
  /** Rows per hook (the same for every hook). */
  rows: number;
  /** First row of each item (rows of item i are [itemStart[i], itemStart[i+1]) ). */
  itemStart: number[];
  tokenization: Record<string, unknown>;
  createdAt: string;
  provenance?: Record<string, unknown>;
}

export interface CachedActivations {
  store: ActivationStore;
  /** Forward passes run to make the cache (0 when it was already there). */
  passes: number;
  hit: boolean;
}

/** The key of a request (sha256 hex). */
export async function activationKey(req: ActivationRequest): Promise<{ key: string; modelHash: string; patchHash: string }> {
  const mh = await modelHash(req.model);
  const ph = await patchHash(req.patch);
  const items = hashValue(req.items.map((it) => [it.tokens, it.select]));
  const key = hashValue({ format: FORMAT, model: mh, patch: ph, dataset: req.dataset, items, hooks: req.hooks, tokenization: req.tokenization ?? {} });
  return { key, modelHash: mh, patchHash: ph };
}

/** Activations for `req`, computed once and stored under `root`, then read back from disk. */
export async function cachedActivations(root: string, req: ActivationRequest): Promise<CachedActivations> {
  const { key, modelHash: mh, patchHash: ph } = await activationKey(req);
  const dir = path.join(root, key);
  const existing = await openActivationStore(dir).catch(() => undefined);
  if (existing) return { store: existing, passes: 0, hit: true };

  await fs.mkdir(dir, { recursive: true });
  const files = new Map<string, { tmp: string; handle: fs.FileHandle; pos: number }>();
  const widths: Record<string, number> = {};
  const tag = `${process.pid}.${randomBytes(4).toString("hex")}`;
  let passes = 0;
  try {
    for (const [i, h] of req.hooks.entries()) {
      const tmp = path.join(dir, `.${i}.f32.${tag}.tmp`);
      files.set(h, { tmp, handle: await fs.open(tmp, "w"), pos: 0 });
    }
    const model = req.patch ? applyPatch(req.model, req.patch) : req.model;
    passes = await collectActivations(model, req.items, req.hooks, {
      async rows(hook, rows, _count, width) {
        widths[hook] = width;
        const f = files.get(hook)!;
        const bytes = new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength);
        let done = 0;
        while (done < bytes.length) {
          const { bytesWritten } = await f.handle.write(bytes, done, bytes.length - done, f.pos);
          done += bytesWritten;
          f.pos += bytesWritten;
        }
      },
    }, { batchSize: req.batchSize });
    for (const [i, h] of req.hooks.entries()) {
      const f = files.get(h)!;
      await f.handle.sync();
      await f.handle.close();
      await fs.rename(f.tmp, path.join(dir, `${i}.f32`));
    }
  } catch (e) {
    for (const f of files.values()) {
      await f.handle.close().catch(() => undefined);
      await fs.rm(f.tmp, { force: true });
    }
    throw e;
  }
  const itemStart: number[] = [];
  let r = 0;
  for (const it of req.items) {
    itemStart.push(r);
    r += rowCount(it);
  }
  const meta: CacheMeta = {
    format: FORMAT, key, dataset: req.dataset, modelHash: mh, patchHash: ph, hooks: [...req.hooks], widths, rows: r, itemStart,
    tokenization: req.tokenization ?? {}, createdAt: new Date().toISOString(), ...(req.provenance ? { provenance: req.provenance } : {}),
  };
  await writeFileAtomic(path.join(dir, "meta.json"), JSON.stringify(meta, null, 1));
  return { store: await openActivationStore(dir), passes, hit: false };
}

/** Open a complete cache directory (throws when meta.json is missing or does not match the files). */
export async function openActivationStore(dir: string): Promise<ActivationStore> {
  const metaFile = path.join(dir, "meta.json");
  const meta = JSON.parse(await fs.readFile(metaFile, "utf8")) as CacheMeta;
  if (meta.format !== FORMAT) throw new CheckpointError("ACTIVATION_CACHE", `activation cache format ${meta.format} is not ${FORMAT}`, { file: metaFile, fix: "delete the directory; it is recomputed" });
  for (const [i, h] of meta.hooks.entries()) {
    const st = await fs.stat(path.join(dir, `${i}.f32`));
    if (st.size !== meta.rows * (meta.widths[h] ?? 0) * 4) {
      throw new CheckpointError("ACTIVATION_CACHE", `${i}.f32 (${h}) has ${st.size} bytes, meta.json says ${meta.rows} rows × ${meta.widths[h]}`, { file: path.join(dir, `${i}.f32`), fix: "delete the directory; it is recomputed" });
    }
  }
  return new ActivationStore(dir, meta);
}

export class ActivationStore {
  constructor(
    readonly dir: string,
    readonly meta: CacheMeta,
  ) {}

  width(hook: string): number {
    const w = this.meta.widths[hook];
    if (w === undefined) throw new RangeError(`the activation cache holds no ${hook} (it has ${this.meta.hooks.join(", ")})`);
    return w;
  }

  private file(hook: string): string {
    return path.join(this.dir, `${this.meta.hooks.indexOf(hook)}.f32`);
  }

  /** Rows [start, start + count) of `hook`. */
  async readRows(hook: string, start: number, count: number): Promise<Float32Array> {
    const w = this.width(hook);
    const out = new Float32Array(count * w);
    const h = await fs.open(this.file(hook), "r");
    try {
      await h.read(new Uint8Array(out.buffer), 0, out.byteLength, start * w * 4);
    } finally {
      await h.close();
    }
    return out;
  }

  /** Stream `hook`'s rows in batches of at most `batchRows` (one file handle, one batch in memory). */
  async *batches(hook: string, batchRows = 1024): AsyncGenerator<{ start: number; count: number; rows: Float32Array }> {
    const w = this.width(hook);
    const h = await fs.open(this.file(hook), "r");
    try {
      for (let start = 0; start < this.meta.rows; start += batchRows) {
        const count = Math.min(batchRows, this.meta.rows - start);
        const rows = new Float32Array(count * w);
        await h.read(new Uint8Array(rows.buffer), 0, rows.byteLength, start * w * 4);
        yield { start, count, rows };
      }
    } finally {
      await h.close();
    }
  }

  /** Every row of `hook` ([rows × width]); for datasets that fit in memory. */
  async readAll(hook: string): Promise<Float32Array> {
    return this.readRows(hook, 0, this.meta.rows);
  }
}

/**
 * An ActivationSource (steer/fit.ts) backed by the disk cache under `root`: the first request
 * computes and stores, later ones read. `onPasses` receives the forward passes each request ran.
 */
export function diskSource(root: string, model: Model, options: { patch?: Patch; tokenization?: Record<string, unknown>; provenance?: Record<string, unknown>; onPasses?: (n: number) => void } = {}) {
  return async (dataset: string, items: readonly CollectItem[], hooks: readonly string[]) => {
    const { store, passes } = await cachedActivations(root, { model, patch: options.patch, dataset, items, hooks, tokenization: options.tokenization, provenance: options.provenance });
    options.onPasses?.(passes);
    const out: Record<string, { data: Float32Array; rows: number; cols: number }> = {};
    for (const h of hooks) out[h] = { data: await store.readAll(h), rows: store.meta.rows, cols: store.width(h) };
    return out;
  };
}
