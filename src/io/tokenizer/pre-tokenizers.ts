/**
 * tokenizer.json `pre_tokenizer` components (HF tokenizers/src/pre_tokenizers/*). A pre-tokenizer
 * turns one piece into several; the model then tokenizes each piece on its own.
 */
import { TokenizerError } from "../../errors.js";
import { GPT2_PATTERN, toByteLevel } from "./byte-level.js";
import { Normalized } from "./normalized.js";
import { patternRegex, prependTo as prependChar, replaceAll } from "./normalizers.js";
import { compileOnig, escapeRegex } from "./regex.js";

/** Pre-tokenize one piece into pieces (possibly rewritten, e.g. to the byte-level alphabet). */
export type PreTokenizerFn = (piece: Normalized) => Normalized[];

export type SplitBehavior = "Removed" | "Isolated" | "MergedWithPrevious" | "MergedWithNext" | "Contiguous";

type Json = Record<string, unknown>;
type Span = [start: number, end: number, isMatch: boolean];

/**
 * Split `piece` around the matches of `re` (HF normalizer.rs `NormalizedString::split` with a
 * `Pattern`, pattern.rs `find_matches`): the pieces cover the text, each flagged as a match or
 * not, then the behaviour decides what to keep and what to glue together. Empty pieces vanish
 * (PreTokenizedString::split drops them).
 */
export function splitPiece(piece: Normalized, re: RegExp, behavior: SplitBehavior, invert = false): Normalized[] {
  const text = piece.text;
  if (text.length === 0) return [];
  let spans: Span[] = [];
  let prev = 0;
  for (const m of text.matchAll(re)) {
    const a = m.index;
    const e = a + m[0].length;
    if (prev !== a) spans.push([prev, a, invert]);
    spans.push([a, e, !invert]);
    prev = e;
  }
  if (prev !== text.length) spans.push([prev, text.length, invert]);
  spans = applyBehavior(spans, behavior);
  const out: Normalized[] = [];
  for (const [a, e] of spans) if (e > a) out.push(a === 0 && e === text.length ? piece : piece.slice(a, e));
  return out;
}

function applyBehavior(spans: Span[], behavior: SplitBehavior): Span[] {
  switch (behavior) {
    case "Isolated":
      return spans;
    case "Removed":
      return spans.filter((s) => !s[2]);
    case "MergedWithPrevious": {
      const acc: Span[] = [];
      let previousMatch = false;
      for (const s of spans) {
        const last = acc[acc.length - 1];
        if (s[2] && !previousMatch && last) last[1] = s[1];
        else acc.push([s[0], s[1], s[2]]);
        previousMatch = s[2];
      }
      return acc;
    }
    case "MergedWithNext": {
      const acc: Span[] = [];
      let previousMatch = false;
      for (let i = spans.length - 1; i >= 0; i--) {
        const s = spans[i]!;
        const last = acc[acc.length - 1];
        if (s[2] && !previousMatch && last) last[0] = s[0];
        else acc.push([s[0], s[1], s[2]]);
        previousMatch = s[2];
      }
      return acc.reverse();
    }
    case "Contiguous": {
      const acc: Span[] = [];
      let previousMatch = false;
      for (const s of spans) {
        const last = acc[acc.length - 1];
        if (s[2] === previousMatch && last) last[1] = s[1];
        else acc.push([s[0], s[1], s[2]]);
        previousMatch = s[2];
      }
      return acc;
    }
  }
}

const WHITESPACE_CHAR = /\p{White_Space}/gu;
// pre_tokenizers/bert.rs is_punc: ASCII punctuation or any Unicode P* category.
const PUNCT_CHAR = /[!-\/:-@[-`{-~]|\p{P}/gu;
const DIGIT_CHAR = /\p{N}/gu; // Rust char::is_numeric: Nd, Nl, No
// pre_tokenizers/whitespace.rs: \w+|[^\w\s]+ with the Rust regex crate's Unicode \w and \s.
const RUST_W = "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}";
const WHITESPACE_WORDS = new RegExp(`[${RUST_W}]+|[^${RUST_W}\\p{White_Space}]+`, "gu");

export function buildPreTokenizer(spec: unknown, file?: string): PreTokenizerFn | null {
  if (spec === null || spec === undefined) return null;
  const j = spec as Json;
  switch (j.type) {
    case "ByteLevel": {
      const addPrefixSpace = j.add_prefix_space === true;
      const useRegex = j.use_regex !== false;
      const re = compileOnig(GPT2_PATTERN, { file, field: "pre_tokenizer" });
      return (piece) => {
        let p = piece;
        if (addPrefixSpace && !p.text.startsWith(" ")) p = prependChar(p, " ");
        const parts = useRegex ? splitPiece(p, re, "Isolated") : p.length ? [p] : [];
        return parts.map(toByteLevel);
      };
    }
    case "Split": {
      const re = patternRegex(j.pattern, file, "pre_tokenizer.pattern");
      const behavior = checkBehavior(j.behavior, file);
      const invert = j.invert === true;
      return (piece) => splitPiece(piece, re, behavior, invert);
    }
    case "Metaspace": {
      const replacement = String(j.replacement ?? "▁");
      // Older files say add_prefix_space: bool instead of prepend_scheme.
      const scheme = (j.prepend_scheme as string | undefined) ?? (j.add_prefix_space === false ? "never" : "always");
      const split = j.split !== false;
      const space = / /gu;
      const splitRe = new RegExp(escapeRegex(replacement), "gu");
      return (piece) => {
        let p = replaceAll(piece, space, replacement);
        const prepend =
          !p.text.startsWith(replacement) &&
          p.length > 0 &&
          (scheme === "always" || (scheme === "first" && p.startOf(0) === 0));
        if (prepend) p = prependChar(p, replacement);
        return split ? splitPiece(p, splitRe, "MergedWithNext") : p.length ? [p] : [];
      };
    }
    case "Whitespace":
      return (piece) => splitPiece(piece, WHITESPACE_WORDS, "Removed", true);
    case "WhitespaceSplit":
      return (piece) => splitPiece(piece, WHITESPACE_CHAR, "Removed");
    case "Punctuation": {
      const behavior = checkBehavior(j.behavior ?? "Isolated", file);
      return (piece) => splitPiece(piece, PUNCT_CHAR, behavior);
    }
    case "Digits": {
      const individual = j.individual_digits === true;
      return (piece) => splitPiece(piece, DIGIT_CHAR, individual ? "Isolated" : "Contiguous");
    }
    case "CharDelimiterSplit": {
      const re = new RegExp(escapeRegex(String(j.delimiter ?? " ")), "gu");
      return (piece) => splitPiece(piece, re, "Removed");
    }
    case "BertPreTokenizer":
      return (piece) => splitPiece(piece, WHITESPACE_CHAR, "Removed").flatMap((p) => splitPiece(p, PUNCT_CHAR, "Isolated"));
    case "Sequence": {
      const parts = ((j.pretokenizers as unknown[]) ?? []).map((s) => buildPreTokenizer(s, file)).filter((f): f is PreTokenizerFn => f !== null);
      return (piece) => parts.reduce<Normalized[]>((pieces, f) => pieces.flatMap(f), [piece]);
    }
    default:
      throw new TokenizerError("TOKENIZER_UNSUPPORTED", `unsupported pre_tokenizer type ${JSON.stringify(j.type)}`, {
        file,
        field: "pre_tokenizer.type",
        fix: "supported pre-tokenizers: ByteLevel, Split, Metaspace, Whitespace, WhitespaceSplit, CharDelimiterSplit, Punctuation, Digits, BertPreTokenizer, Sequence",
      });
  }
}

const BEHAVIORS = new Set(["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]);

function checkBehavior(b: unknown, file?: string): SplitBehavior {
  if (typeof b === "string" && BEHAVIORS.has(b)) return b as SplitBehavior;
  throw new TokenizerError("TOKENIZER_UNSUPPORTED", `unsupported split behavior ${JSON.stringify(b)}`, {
    file,
    field: "pre_tokenizer.behavior",
    fix: `use one of ${[...BEHAVIORS].join(", ")}`,
  });
}
