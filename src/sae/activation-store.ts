/**
 * Streaming activations for dictionary training in constant memory (SAELens `ActivationsStore`):
 * a source hands over chunks of activations — fresh from the model (ModelActivations) or read back
 * from an activation cache on disk (activation-cache-node.ts, SAELens' `use_cached_activations`) —
 * which go into a fixed-size host buffer; training batches are drawn from the buffer in random
 * order. When half the buffer has been served it is refilled from the source, so activations from
 * different texts mix in every batch and memory stays at `bufferTokens` rows whatever the corpus.
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

/** Where activations come from: chunks of any size, endlessly (a source cycles through its data). */
export interface ActivationSource {
  readonly dIn: number;
  readonly dOut: number;
  /** Input and output are one hook (an SAE): y is x. */
  readonly same: boolean;
  next(): Promise<ActivationBatch>;
  /** Tokens the model has processed (live sources), for throughput accounting. */
  tokensRead: number;
}

/** Activations computed on the fly: `rowsPerPass` token rows per forward pass, cycling through `rows`. */
export class ModelActivations implements ActivationSource {
  readonly dIn: number;
  readonly dOut: number;
  readonly same: boolean;
  tokensRead = 0;
  private nextRow = 0;
  private readonly stopAt: string;

  constructor(
    private readonly model: Model,
    private readonly hookIn: string,
    private readonly hookOut: string,
    private readonly rows: readonly number[][],
    private readonly rowsPerPass = 32,
  ) {
    if (rows.length === 0) throw new RangeError("activations need token rows");
    const names = model.hookNames();
    for (const h of [hookIn, hookOut]) if (!names.includes(h)) throw new RangeError(`${h} is not a hook point of this model`);
    this.dIn = model.config.dModel;
    this.dOut = model.config.dModel;
    this.same = hookIn === hookOut;
    this.stopAt = names.indexOf(hookIn) > names.indexOf(hookOut) ? hookIn : hookOut;
  }

  async next(): Promise<ActivationBatch> {
    const rows = Array.from({ length: Math.min(this.rowsPerPass, this.rows.length) }, () => this.rows[this.nextRow++ % this.rows.length]!);
    const L = Math.min(...rows.map((r) => r.length));
    const { cache, logits } = this.model.forward(rows.map((r) => r.slice(0, L)), { cache: this.same ? [this.hookIn] : [this.hookIn, this.hookOut], stopAt: this.stopAt });
    logits?.dispose();
    const x = await readF32(cache[this.hookIn]!.ref);
    const y = this.same ? x : await readF32(cache[this.hookOut]!.ref);
    disposeTree(cache);
    this.tokensRead += rows.length * L;
    return { x, y, n: rows.length * L };
  }
}

export class ActivationStore {
  private readonly x: Float32Array;
  private readonly y: Float32Array;
  private readonly capacity: number;
  private filled = 0;
  private order: Uint32Array = new Uint32Array(0);
  private served = 0;
  private readonly rng: Rng;
  private carry: { b: ActivationBatch; at: number } | undefined;

  constructor(
    readonly source: ActivationSource,
    options: { bufferTokens?: number; seed: number },
  ) {
    this.capacity = options.bufferTokens ?? 16384;
    this.x = new Float32Array(this.capacity * source.dIn);
    this.y = source.same ? this.x : new Float32Array(this.capacity * source.dOut);
    this.rng = new Rng(options.seed);
  }

  get dIn(): number {
    return this.source.dIn;
  }

  get dOut(): number {
    return this.source.dOut;
  }

  /** Replace the served part of the buffer (and the empty tail) with fresh activations, then reshuffle. */
  private async refill(): Promise<void> {
    const { dIn, dOut, same } = this.source;
    const keep = Array.from(this.order.subarray(this.served));
    const free = Array.from(this.order.subarray(0, this.served));
    for (let i = this.filled; i < this.capacity; i++) free.push(i);
    let k = 0;
    while (k < free.length) {
      // A chunk larger than the free room is kept for the next refill (no activation is skipped).
      const c = this.carry ?? { b: await this.source.next(), at: 0 };
      this.carry = undefined;
      for (; c.at < c.b.n && k < free.length; c.at++, k++) {
        const slot = free[k]!;
        this.x.set(c.b.x.subarray(c.at * dIn, (c.at + 1) * dIn), slot * dIn);
        if (!same) this.y.set(c.b.y.subarray(c.at * dOut, (c.at + 1) * dOut), slot * dOut);
      }
      if (c.at < c.b.n) this.carry = c;
    }
    this.filled = this.capacity;
    const all = [...keep, ...free];
    this.rng.shuffle(all);
    this.order = Uint32Array.from(all);
    this.served = 0;
  }

  /** The next `n` activations (n ≤ half the buffer). */
  async next(n: number): Promise<ActivationBatch> {
    const { dIn, dOut, same } = this.source;
    if (n > this.capacity / 2) throw new RangeError(`batch of ${n} tokens is more than half the activation buffer (${this.capacity}); raise bufferTokens`);
    if (this.filled < this.capacity || this.served + n > this.capacity / 2) await this.refill();
    const x = new Float32Array(n * dIn);
    const y = same ? x : new Float32Array(n * dOut);
    for (let i = 0; i < n; i++) {
      const slot = this.order[this.served++]!;
      x.set(this.x.subarray(slot * dIn, (slot + 1) * dIn), i * dIn);
      if (!same) y.set(this.y.subarray(slot * dOut, (slot + 1) * dOut), i * dOut);
    }
    return { x, y, n };
  }
}
