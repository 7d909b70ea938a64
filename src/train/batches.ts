/**
 * Deterministic training batches from tokenised documents.
 *
 * Documents (each already carrying the BOS/EOS the caller wants) are concatenated into one token
 * stream and cut into rows of seqLen + 1 tokens with stride seqLen: row r = stream[r·seqLen,
 * r·seqLen + seqLen + 1), so the last token of one row is the first of the next and every token
 * after the first is a target exactly once (the trailing part shorter than a row is dropped).
 * Input = row[0:seqLen], target = row[1:seqLen+1] (nanoGPT's get_batch, packed).
 *
 * Each epoch visits the rows in a permutation drawn from Rng(deriveSeed(seed, epoch)); the
 * position is just (epoch, cursor), so a resumed run continues at exactly the next row — no
 * generator state needs saving. A batch that runs past an epoch's end continues in the next one.
 *
 * Loss mask: optional per document, one flag per token: whether predicting that token counts in
 * the loss (e.g. only answer tokens). Absent = every token counts.
 */
import { deriveSeed, Rng } from "../util/rng.js";
import { UsageError } from "../errors.js";

export interface TrainDocument {
  tokens: number[];
  /** 1 = predicting this token counts in the loss; same length as tokens. */
  lossMask?: number[];
}

export interface BatchPosition {
  epoch: number;
  /** Index of the next row within the epoch's permutation. */
  cursor: number;
}

export interface Batch {
  inputs: number[][];
  targets: number[][];
  /** [rows][seqLen]: 1 where the target counts in the loss. */
  mask: number[][];
}

export interface BatcherOptions {
  seqLen: number;
  seed: number;
}

export class Batcher {
  private readonly stream: Int32Array;
  private readonly streamMask: Uint8Array;
  readonly rows: number;
  private pos: BatchPosition = { epoch: 0, cursor: 0 };
  private perm: Uint32Array | undefined;
  private permEpoch = -1;

  constructor(docs: readonly TrainDocument[], private readonly opts: BatcherOptions) {
    if (!(Number.isInteger(opts.seqLen) && opts.seqLen > 0)) throw new RangeError(`seqLen must be a positive integer, got ${opts.seqLen}`);
    let n = 0;
    for (const d of docs) n += d.tokens.length;
    this.stream = new Int32Array(n);
    this.streamMask = new Uint8Array(n);
    let o = 0;
    docs.forEach((d, i) => {
      if (d.lossMask && d.lossMask.length !== d.tokens.length) {
        throw new UsageError("LOSS_MASK_LENGTH", `document ${i}: lossMask has ${d.lossMask.length} entries for ${d.tokens.length} tokens`, { field: `documents[${i}].lossMask`, fix: "give one flag per token" });
      }
      this.stream.set(d.tokens, o);
      for (let k = 0; k < d.tokens.length; k++) this.streamMask[o + k] = d.lossMask ? (d.lossMask[k] ? 1 : 0) : 1;
      o += d.tokens.length;
    });
    this.rows = n > opts.seqLen ? Math.floor((n - 1) / opts.seqLen) : 0;
    if (this.rows === 0) {
      throw new UsageError("TOO_LITTLE_DATA", `the data has ${n} tokens, fewer than one row of seqLen + 1 = ${opts.seqLen + 1}`, { field: "seqLen", fix: "give more text or a smaller seqLen" });
    }
  }

  /** Total tokens in the stream. */
  get tokenCount(): number {
    return this.stream.length;
  }

  get position(): BatchPosition {
    return { ...this.pos };
  }

  set position(p: BatchPosition) {
    if (!(Number.isInteger(p.epoch) && p.epoch >= 0 && Number.isInteger(p.cursor) && p.cursor >= 0 && p.cursor <= this.rows)) {
      throw new UsageError("BAD_DATA_POSITION", `data position ${JSON.stringify(p)} is outside the ${this.rows} rows of this data`, { field: "position", fix: "resume with the data the checkpoint was made with" });
    }
    this.pos = { ...p };
  }

  /** A stable fingerprint of the token stream and mask (FNV-1a), so a resume can check it has the same data. */
  fingerprint(): string {
    let h = 0x811c9dc5;
    const mix = (x: number) => {
      h ^= x & 0xff; h = Math.imul(h, 0x01000193);
      h ^= (x >>> 8) & 0xff; h = Math.imul(h, 0x01000193);
      h ^= (x >>> 16) & 0xff; h = Math.imul(h, 0x01000193);
      h ^= x >>> 24; h = Math.imul(h, 0x01000193);
    };
    for (let i = 0; i < this.stream.length; i++) mix(this.stream[i]! * 2 + this.streamMask[i]!);
    return `${this.stream.length}:${(h >>> 0).toString(16)}`;
  }

  private permutation(epoch: number): Uint32Array {
    if (this.permEpoch !== epoch) {
      const order = Array.from({ length: this.rows }, (_, i) => i);
      new Rng(deriveSeed(this.opts.seed, epoch)).shuffle(order);
      this.perm = Uint32Array.from(order);
      this.permEpoch = epoch;
    }
    return this.perm!;
  }

  /** The next `rows` rows; advances the position. */
  next(rows: number): Batch {
    const L = this.opts.seqLen;
    const batch: Batch = { inputs: [], targets: [], mask: [] };
    for (let b = 0; b < rows; b++) {
      if (this.pos.cursor >= this.rows) this.pos = { epoch: this.pos.epoch + 1, cursor: 0 };
      const r = this.permutation(this.pos.epoch)[this.pos.cursor]!;
      this.pos.cursor++;
      const start = r * L;
      batch.inputs.push(Array.from(this.stream.subarray(start, start + L)));
      batch.targets.push(Array.from(this.stream.subarray(start + 1, start + L + 1)));
      batch.mask.push(Array.from(this.streamMask.subarray(start + 1, start + L + 1)));
    }
    return batch;
  }
}
