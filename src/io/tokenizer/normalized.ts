/**
 * A string being transformed by the tokenizer pipeline, with the alignment of each of its UTF-16
 * code units back to the original input. This is the TypeScript counterpart of Hugging Face
 * tokenizers' `NormalizedString` (tokenizers/src/tokenizer/normalizer.rs): every normalizer and
 * pre-tokenizer rewrites `text`, and offsets of the final tokens are read back through the
 * alignments, so offsets always point into the caller's original string.
 *
 * HF keeps byte-based alignments per UTF-8 byte; we keep them per UTF-16 code unit because that is
 * what JavaScript strings index by and what the `Encoding.offsets` contract promises.
 */
export class Normalized {
  /**
   * `starts[i]`/`ends[i]` give the original [start, end) range of code unit i. When both are null
   * the alignment is the identity shifted by `base` (the common case: nothing changed the text), so
   * plain ASCII runs never allocate alignment arrays.
   */
  private constructor(
    readonly text: string,
    private readonly base: number,
    private readonly starts: Int32Array | null,
    private readonly ends: Int32Array | null,
  ) {}

  /** The original text itself, starting at original offset `base`. */
  static original(text: string, base = 0): Normalized {
    return new Normalized(text, base, null, null);
  }

  /** A text whose code unit i came from original range [starts[i], ends[i]). */
  static aligned(text: string, starts: Int32Array, ends: Int32Array): Normalized {
    return new Normalized(text, 0, starts, ends);
  }

  get length(): number {
    return this.text.length;
  }

  /** Original start offset of code unit i. */
  startOf(i: number): number {
    return this.starts === null ? this.base + i : this.starts[i]!;
  }

  /** Original end offset of code unit i. */
  endOf(i: number): number {
    return this.ends === null ? this.base + i + 1 : this.ends[i]!;
  }

  /**
   * Original range covered by normalized code units [a, b). HF's `convert_offsets` takes the start
   * of the first alignment and the end of the last one; an empty range maps to an empty range at
   * the position it sits at.
   */
  originalRange(a: number, b: number): [number, number] {
    if (b <= a) {
      const at = a < this.length ? this.startOf(a) : this.length > 0 ? this.endOf(this.length - 1) : this.base;
      return [at, at];
    }
    return [this.startOf(a), this.endOf(b - 1)];
  }

  /** The same alignment under a new text of equal length (a 1:1 character substitution). */
  withText(s: string): Normalized {
    if (s.length !== this.text.length) throw new Error("withText needs a text of the same length");
    return new Normalized(s, this.base, this.starts, this.ends);
  }

  /** Code units [a, b) as their own Normalized, keeping their alignments. */
  slice(a: number, b: number): Normalized {
    if (this.starts === null) return new Normalized(this.text.slice(a, b), this.base + a, null, null);
    return new Normalized(this.text.slice(a, b), 0, this.starts.subarray(a, b), this.ends!.subarray(a, b));
  }
}

/**
 * Builds a new Normalized from an old one, segment by segment. Each pushed segment says "this
 * output text stands for source code units [srcStart, srcEnd)": every output code unit then aligns
 * to the original range of that whole source span. HF's `transform` aligns inserted characters to
 * their neighbour; callers reproduce that by attaching inserted text to a neighbouring span
 * (Prepend attaches "▁" to the first character, as HF does).
 */
export class NormalizedBuilder {
  private text = "";
  private starts: number[] = [];
  private ends: number[] = [];

  constructor(private readonly source: Normalized) {}

  /** Copy source code units [a, b) unchanged. */
  keep(a: number, b: number): void {
    if (b <= a) return;
    this.text += this.source.text.slice(a, b);
    for (let i = a; i < b; i++) {
      this.starts.push(this.source.startOf(i));
      this.ends.push(this.source.endOf(i));
    }
  }

  /** Emit `out` in place of source code units [a, b) (a < b; the span must be non-empty). */
  replace(out: string, a: number, b: number): void {
    if (out.length === 0) return;
    const [s, e] = this.source.originalRange(a, b);
    this.text += out;
    for (let i = 0; i < out.length; i++) {
      this.starts.push(s);
      this.ends.push(e);
    }
  }

  finish(): Normalized {
    return Normalized.aligned(this.text, Int32Array.from(this.starts), Int32Array.from(this.ends));
  }
}
