/**
 * Supervised fine-tuning batches: one example per row (prompt + completion, never packed, so every
 * completion token sees its whole prompt), right-padded to the batch's longest row, with the loss
 * on the completion tokens only (and the EOS after them when the tokenizer has one) — TRL's
 * `completion_only_loss`. Right padding needs no attention mask in a causal model: padding comes
 * after every counted position.
 *
 * Order: each epoch visits the examples in a permutation drawn from Rng(deriveSeed(seed, epoch));
 * the position (epoch, cursor) is the whole state, as in batches.ts, so a resume continues exactly.
 */
import { UsageError } from "../errors.js";
import type { Tokenizer } from "../io/tokenizer/types.js";
import { encodePrompt } from "../edit/tokens.js";
import { deriveSeed, Rng } from "../util/rng.js";
import type { Batch, BatchPosition } from "./batches.js";

export interface SftExample {
  prompt: string;
  /** The text after the prompt (a leading space is added when missing, as targets are written). */
  completion: string;
}

export interface SftRow {
  tokens: number[];
  /** Index of the first completion token in `tokens`. */
  completionStart: number;
}

/** Token rows of `examples`: BOS + prompt, then completion (+ EOS). */
export function sftRows(tok: Tokenizer, examples: readonly SftExample[], maxLen: number): SftRow[] {
  return examples.map((e, i) => {
    const prompt = encodePrompt(tok, e.prompt);
    const completion = e.completion.startsWith(" ") ? e.completion : " " + e.completion;
    const whole = encodePrompt(tok, e.prompt + completion);
    if (whole.slice(0, prompt.length).join() !== prompt.join()) {
      throw new UsageError("SFT_TOKENS", `example ${i}: the prompt's tokens change when the completion follows it`, { field: `examples[${i}]`, fix: "end the prompt at a token boundary (e.g. before a space)" });
    }
    const tokens = tok.eosId !== undefined ? [...whole, tok.eosId] : whole;
    if (tokens.length > maxLen) throw new UsageError("SFT_TOO_LONG", `example ${i} has ${tokens.length} tokens, more than the context ${maxLen}`, { field: `examples[${i}]`, fix: "shorten it" });
    return { tokens, completionStart: prompt.length };
  });
}

export class SftBatcher {
  private pos: BatchPosition = { epoch: 0, cursor: 0 };
  private perm: number[] = [];
  private permEpoch = -1;

  constructor(
    private readonly rows: readonly SftRow[],
    private readonly seed: number,
    private readonly padId: number,
  ) {
    if (rows.length === 0) throw new UsageError("SFT_EMPTY", "no fine-tuning examples", { field: "examples", fix: "give at least one example" });
  }

  get position(): BatchPosition {
    return { ...this.pos };
  }

  set position(p: BatchPosition) {
    if (!(Number.isInteger(p.epoch) && p.epoch >= 0 && Number.isInteger(p.cursor) && p.cursor >= 0 && p.cursor <= this.rows.length)) {
      throw new UsageError("BAD_DATA_POSITION", `data position ${JSON.stringify(p)} is outside the ${this.rows.length} examples`, { field: "position", fix: "resume with the data the checkpoint was made with" });
    }
    this.pos = { ...p };
  }

  /** FNV-1a over the rows, so a resume can check it has the same data. */
  fingerprint(): string {
    let h = 0x811c9dc5;
    for (const r of this.rows) for (const x of [r.completionStart, ...r.tokens, -1]) h = Math.imul(h ^ (x & 0xffff), 0x01000193);
    return `sft:${this.rows.length}:${(h >>> 0).toString(16)}`;
  }

  next(n: number): Batch {
    const picked: SftRow[] = [];
    for (let b = 0; b < n; b++) {
      if (this.pos.cursor >= this.rows.length) this.pos = { epoch: this.pos.epoch + 1, cursor: 0 };
      if (this.permEpoch !== this.pos.epoch) {
        this.perm = Array.from({ length: this.rows.length }, (_, i) => i);
        new Rng(deriveSeed(this.seed, this.pos.epoch)).shuffle(this.perm);
        this.permEpoch = this.pos.epoch;
      }
      picked.push(this.rows[this.perm[this.pos.cursor++]!]!);
    }
    const L = Math.max(...picked.map((r) => r.tokens.length)) - 1;
    const batch: Batch = { inputs: [], targets: [], mask: [] };
    for (const r of picked) {
      const padded = [...r.tokens, ...new Array<number>(L + 1 - r.tokens.length).fill(this.padId)];
      batch.inputs.push(padded.slice(0, L));
      batch.targets.push(padded.slice(1));
      // Target position t predicts token t+1: counted when t+1 is a completion token (or the EOS).
      batch.mask.push(Array.from({ length: L }, (_, t) => (t + 1 >= r.completionStart && t + 1 < r.tokens.length ? 1 : 0)));
    }
    return batch;
  }
}
