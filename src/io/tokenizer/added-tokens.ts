/**
 * Added tokens (special tokens and user-added vocabulary), matched in the text before the model
 * sees it. Reference: HF tokenizers/src/tokenizer/added_vocabulary.rs.
 *
 *  - Tokens with `normalized: false` are matched on the raw input first; the remaining pieces are
 *    normalized and then searched for tokens with `normalized: true` (whose content is normalized
 *    the same way before matching).
 *  - Matching is Aho-Corasick leftmost-longest, non-overlapping. A match failing `single_word`
 *    (a word character touches it on either side) is dropped, and the search does not retry a
 *    shorter token at that spot — exactly like the Rust iterator.
 *  - `lstrip`/`rstrip` widen the match over adjacent whitespace (never back past the previous
 *    match), so the whitespace is swallowed into the token.
 */
import type { Normalized } from "./normalized.js";
import { escapeRegex } from "./regex.js";

export interface AddedToken {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** A piece of the input: either an added token (id set) or text for the normal pipeline. */
export interface Segment {
  piece: Normalized;
  id: number | undefined;
}

// Rust regex crate \w (Unicode): used for single_word boundaries.
const WORD_START = /^[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]/u;
const WORD_END = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]$/u;
const SPACE = /^\p{White_Space}$/u;

export class Matcher {
  private readonly re: RegExp | null;
  private readonly byContent = new Map<string, AddedToken>();

  /** `tokens` with their match text (the normalized content for normalized tokens). */
  constructor(tokens: { token: AddedToken; text: string }[]) {
    const live = tokens.filter((t) => t.text.length > 0);
    for (const t of live) if (!this.byContent.has(t.text)) this.byContent.set(t.text, t.token);
    // An alternation tried longest-first gives leftmost-longest matching.
    const alts = [...this.byContent.keys()].sort((a, b) => b.length - a.length).map(escapeRegex);
    this.re = alts.length ? new RegExp(alts.join("|"), "gu") : null;
  }

  get empty(): boolean {
    return this.re === null;
  }

  /** Split `piece` into added-token segments and plain segments (find_matches + split_with_indices). */
  split(piece: Normalized): Segment[] {
    const s = piece.text;
    if (this.re === null || s.length === 0) return [{ piece, id: undefined }];
    const out: Segment[] = [];
    let startOffset = 0;
    for (const m of s.matchAll(this.re)) {
      let start = m.index;
      let stop = start + m[0].length;
      const tok = this.byContent.get(m[0])!;
      if (tok.single_word) {
        const startSpace = start === 0 || !WORD_END.test(s.slice(Math.max(0, start - 2), start));
        const stopSpace = stop === s.length || !WORD_START.test(s.slice(stop, stop + 2));
        if (!startSpace || !stopSpace) continue;
      }
      if (tok.lstrip) {
        let a = start;
        while (a > 0 && SPACE.test(s[a - 1]!)) a--;
        start = Math.max(a, startOffset);
      }
      if (tok.rstrip) while (stop < s.length && SPACE.test(s[stop]!)) stop++;
      if (startOffset < start) out.push({ piece: piece.slice(startOffset, start), id: undefined });
      out.push({ piece: piece.slice(start, stop), id: tok.id });
      startOffset = stop;
    }
    if (startOffset !== s.length) out.push({ piece: piece.slice(startOffset, s.length), id: undefined });
    return out;
  }
}
