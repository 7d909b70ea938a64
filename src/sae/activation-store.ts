/**
 * Streaming activations for dictionary training in constant memory (SAELens `ActivationsStore`):
 * token rows go through the model a batch at a time (the pass stops at the last hook needed), every
 * position's activation at the input hook (and, for a transcoder, the output hook) goes into a
 * fixed-size host buffer, and training batches are drawn from the buffer in random order. When half
 * the buffer has been served it is refilled from the next rows, so activations from different
 * texts mix in every batch and memory stays at `bufferTokens` rows whatever the corpus size.
 *
 * Rows cycle: after the last row the store starts again (an epoch), with the same row order.
 */
import type { Model } from "../model/types.js";
import { disposeTree, readF32 } from "../tensor/own.js";
import { Rng } from "../util/rng.js";

export interface ActivationBatch {
  /** [n, dIn] */
  x: Float32Array;
  /** [n, dOut]: the output hook's values (transcoders); the input itself for an SAE. */
  y: Float32Array;
  n: number;
}

export interface ActivationStoreOptions {
  model: Model;
  hookIn: string;
  hookOut: string;
  /** Token rows (equal length or not); each forward pass takes `rowsPerPass` of them. */
  rows: readonly number[][];
  bufferTokens?: number;
  rowsPerPass?: number;
  seed: number;
}

export class ActivationStore {
  readonly dIn: number;
  readonly dOut: number;
  private readonly x: Float32Array;
  private readonly y: Float32Array;
  private filled = 0;
  private order: Uint32Array = new Uint32Array(0);
  private served = 0;
  private nextRow = 0;
  private readonly rng: Rng;
  private readonly same: boolean;
  /** Model passes made (rows consumed), for throughput accounting. */
  tokensRead = 0;

  constructor(private readonly o: ActivationStoreOptions) {
    const { dModel } = o.model.config;
    this.dIn = dModel;
    this.dOut = dModel;
    this.same = o.hookIn === o.hookOut;
    const cap = o.bufferTokens ?? 16384;
    this.x = new Float32Array(cap * this.dIn);
    this.y = this.same ? this.x : new Float32Array(cap * this.dOut);
    this.rng = new Rng(o.seed);
    if (o.rows.length === 0) throw new RangeError("the activation store needs token rows");
  }

  private get capacity(): number {
    return this.x.length / this.dIn;
  }

  /** Replace the served part of the buffer with fresh activations, then reshuffle. */
  private async refill(): Promise<void> {
    // The rows not yet served stay; the served ones (and the empty tail) get new data.
    const keep = Array.from(this.order.subarray(this.served));
    const free: number[] = [...Array.from(this.order.subarray(0, this.served))];
    for (let i = this.filled; i < this.capacity; i++) free.push(i);
    let k = 0;
    const { model, hookIn, hookOut } = this.o;
    const per = this.o.rowsPerPass ?? 16;
    const stopAt = model.hookNames().indexOf(hookIn) > model.hookNames().indexOf(hookOut) ? hookIn : hookOut;
    while (k < free.length) {
      const rows = Array.from({ length: per }, () => this.o.rows[this.nextRow++ % this.o.rows.length]!);
      const L = Math.min(...rows.map((r) => r.length));
      const batch = rows.map((r) => r.slice(0, L));
      const { cache, logits } = model.forward(batch, { cache: this.same ? [hookIn] : [hookIn, hookOut], stopAt });
      logits?.dispose();
      const xs = await readF32(cache[hookIn]!.ref);
      const ys = this.same ? xs : await readF32(cache[hookOut]!.ref);
      disposeTree(cache);
      this.tokensRead += batch.length * L;
      for (let t = 0; t < batch.length * L && k < free.length; t++, k++) {
        const slot = free[k]!;
        this.x.set(xs.subarray(t * this.dIn, (t + 1) * this.dIn), slot * this.dIn);
        if (!this.same) this.y.set(ys.subarray(t * this.dOut, (t + 1) * this.dOut), slot * this.dOut);
      }
    }
    this.filled = this.capacity;
    const all = [...keep, ...free];
    this.rng.shuffle(all);
    this.order = Uint32Array.from(all);
    this.served = 0;
  }

  /** The next `n` activations (n ≤ half the buffer). */
  async next(n: number): Promise<ActivationBatch> {
    if (n > this.capacity / 2) throw new RangeError(`batch of ${n} tokens is more than half the activation buffer (${this.capacity}); raise bufferTokens`);
    if (this.filled < this.capacity || this.served + n > this.capacity / 2) await this.refill();
    const x = new Float32Array(n * this.dIn);
    const y = this.same ? x : new Float32Array(n * this.dOut);
    for (let i = 0; i < n; i++) {
      const slot = this.order[this.served++]!;
      x.set(this.x.subarray(slot * this.dIn, (slot + 1) * this.dIn), i * this.dIn);
      if (!this.same) y.set(this.y.subarray(slot * this.dOut, (slot + 1) * this.dOut), i * this.dOut);
    }
    return { x, y, n };
  }
}
