/**
 * Collect activations at hook points for a dataset of token sequences, at chosen positions:
 * - "last": the last token of the sequence (the last prompt token);
 * - "at": one given position (e.g. the answer letter, ab-data.ts tokenizeAnswer().letterPos);
 * - "all": every token (one row per token);
 * - "mean": the mean over a span [from, to) (one row).
 * Each selected position gives one row of the hook's trailing dimensions flattened ([d_model] for
 * the residual stream, heads × d_head for hook_z). Rows are handed to a sink batch by batch, so a
 * caller can stream them to disk (steer/activation-cache-node.ts) without holding the dataset in memory.
 *
 * Batches are right-padded with an attention mask (padding is masked and, being after the real
 * tokens, invisible to them under causal attention); the pass stops at the last requested hook.
 */
import { UsageError } from "../errors.js";
import type { Model } from "../model/types.js";
import { disposeTree, readF32 } from "../tensor/own.js";

export type PositionSelect =
  | { kind: "last" }
  | { kind: "at"; pos: number }
  | { kind: "all" }
  | { kind: "mean"; from: number; to: number };

export interface CollectItem {
  tokens: number[];
  select: PositionSelect;
}

export interface ActivationSink {
  /** Rows for one hook from one batch: `rows` holds `count` rows of `width` floats, items in order. */
  rows(hook: string, rows: Float32Array, count: number, width: number): void | Promise<void>;
}

export interface CollectOptions {
  /** Sequences per forward pass (default 16). */
  batchSize?: number;
}

/** How many rows an item gives. */
export function rowCount(item: CollectItem): number {
  return item.select.kind === "all" ? item.tokens.length : 1;
}

function checkItem(item: CollectItem, i: number, nCtx: number): void {
  const n = item.tokens.length;
  if (n === 0) throw new UsageError("EMPTY_ITEM", `item ${i} has no tokens`, { fix: "drop empty texts from the dataset" });
  if (n > nCtx) throw new UsageError("ITEM_TOO_LONG", `item ${i} has ${n} tokens, more than the context window (${nCtx})`, { fix: "shorten the texts" });
  const s = item.select;
  if (s.kind === "at" && !(Number.isInteger(s.pos) && s.pos >= 0 && s.pos < n)) throw new UsageError("BAD_POSITION", `item ${i}: position ${s.pos} is outside its ${n} tokens`);
  if (s.kind === "mean" && !(Number.isInteger(s.from) && Number.isInteger(s.to) && 0 <= s.from && s.from < s.to && s.to <= n)) {
    throw new UsageError("BAD_POSITION", `item ${i}: span [${s.from}, ${s.to}) is not a non-empty span inside its ${n} tokens`);
  }
}

/**
 * Run the model over `items` and send the selected rows at every hook in `hooks` to `sink`.
 * Returns the number of forward passes made (callers and tests count them).
 */
export async function collectActivations(model: Model, items: readonly CollectItem[], hooks: readonly string[], sink: ActivationSink, options: CollectOptions = {}): Promise<number> {
  const names = model.hookNames();
  for (const h of hooks) if (!names.includes(h)) throw new UsageError("UNKNOWN_HOOK", `no hook point '${h}' in this model`, { fix: "run 'scalpel inspect --model DIR --all-hooks' for the names" });
  if (hooks.length === 0) return 0;
  items.forEach((it, i) => checkItem(it, i, model.config.nCtx));
  const batchSize = options.batchSize ?? 16;
  const stopAt = hooks.reduce((a, b) => (names.indexOf(a) > names.indexOf(b) ? a : b));
  const padId = model.tokenizer.padId ?? model.tokenizer.eosId ?? 0;
  let passes = 0;
  for (let start = 0; start < items.length; start += batchSize) {
    const batch = items.slice(start, start + batchSize);
    const T = Math.max(...batch.map((b) => b.tokens.length));
    const tokens = batch.map((b) => [...b.tokens, ...new Array(T - b.tokens.length).fill(padId)]);
    const mask = batch.map((b) => [...new Array(b.tokens.length).fill(1), ...new Array(T - b.tokens.length).fill(0)]);
    const res = model.forward(tokens, { cache: [...hooks], stopAt, attentionMask: mask });
    passes++;
    res.logits?.dispose();
    const cache = res.cache;
    try {
      for (const hook of hooks) {
        const a = cache[hook]!;
        delete cache[hook];
        const width = (a.shape as number[]).slice(2).reduce((x, y) => x * y, 1);
        const flat = await readF32(a);
        const count = batch.reduce((s, b) => s + rowCount(b), 0);
        const out = new Float32Array(count * width);
        let r = 0;
        batch.forEach((b, i) => {
          const row = (p: number) => flat.subarray((i * T + p) * width, (i * T + p + 1) * width);
          const s = b.select;
          if (s.kind === "all") {
            for (let p = 0; p < b.tokens.length; p++) out.set(row(p), (r++) * width);
          } else if (s.kind === "mean") {
            // Float64 accumulation: the reported mean should not carry float32 summation error.
            const acc = new Float64Array(width);
            for (let p = s.from; p < s.to; p++) {
              const v = row(p);
              for (let k = 0; k < width; k++) acc[k]! += v[k]!;
            }
            const o = out.subarray(r * width, (r + 1) * width);
            for (let k = 0; k < width; k++) o[k] = acc[k]! / (s.to - s.from);
            r++;
          } else {
            out.set(row(s.kind === "last" ? b.tokens.length - 1 : s.pos), (r++) * width);
          }
        });
        await sink.rows(hook, out, count, width);
      }
    } finally {
      disposeTree(cache);
    }
  }
  return passes;
}

/** A sink that keeps everything in memory: hook → rows ([n, width] as one Float32Array). */
export class MemorySink implements ActivationSink {
  readonly parts = new Map<string, { chunks: Float32Array[]; count: number; width: number }>();
  rows(hook: string, rows: Float32Array, count: number, width: number): void {
    const p = this.parts.get(hook) ?? { chunks: [], count: 0, width };
    p.chunks.push(rows);
    p.count += count;
    this.parts.set(hook, p);
  }
  /** All rows of `hook` as one [count × width] array. */
  matrix(hook: string): { data: Float32Array; count: number; width: number } {
    const p = this.parts.get(hook);
    if (!p) throw new RangeError(`no rows collected for ${hook}`);
    const data = new Float32Array(p.count * p.width);
    let off = 0;
    for (const c of p.chunks) {
      data.set(c, off);
      off += c.length;
    }
    return { data, count: p.count, width: p.width };
  }
}
