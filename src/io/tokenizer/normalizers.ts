/**
 * tokenizer.json `normalizer` components (HF tokenizers/src/normalizers/*). Each is a pure
 * function Normalized → Normalized that keeps alignments to the original text.
 */
import { TokenizerError } from "../../errors.js";
import { toByteLevel } from "./byte-level.js";
import { Normalized, NormalizedBuilder } from "./normalized.js";
import { compileOnig, escapeRegex } from "./regex.js";

export type NormalizerFn = (n: Normalized) => Normalized;

type Json = Record<string, unknown>;

export function buildNormalizer(spec: unknown, file?: string): NormalizerFn | null {
  if (spec === null || spec === undefined) return null;
  const j = spec as Json;
  switch (j.type) {
    case "NFC":
    case "NFD":
    case "NFKC":
    case "NFKD": {
      const form = j.type;
      return (n) => unicodeNormalize(n, form);
    }
    case "Lowercase":
      return lowercase;
    case "Prepend": {
      const prepend = String(j.prepend ?? "");
      return (n) => prependTo(n, prepend);
    }
    case "Replace": {
      const re = patternRegex(j.pattern, file, "normalizer.pattern");
      const content = String(j.content ?? "");
      return (n) => replaceAll(n, re, content);
    }
    case "Strip": {
      const left = j.strip_left !== false;
      const right = j.strip_right !== false;
      return (n) => strip(n, left, right);
    }
    case "StripAccents":
      // normalizers/strip.rs: drop every combining mark (meant to follow NFD/NFKD).
      return (n) => mapCodePoints(n, (ch) => (/^\p{Mn}$/u.test(ch) ? "" : ch));
    case "ByteLevel":
      // normalizers/byte_level.rs: the whole text to the byte-level alphabet.
      return toByteLevel;
    case "Sequence": {
      const parts = ((j.normalizers as unknown[]) ?? []).map((s) => buildNormalizer(s, file)).filter((f): f is NormalizerFn => f !== null);
      return (n) => parts.reduce((acc, f) => f(acc), n);
    }
    default:
      throw new TokenizerError("TOKENIZER_UNSUPPORTED", `unsupported normalizer type ${JSON.stringify(j.type)}`, {
        file,
        field: "normalizer.type",
        fix: "supported normalizers: NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip, StripAccents, ByteLevel, Sequence",
      });
  }
}

/** A tokenizer.json pattern: {"String": s} (literal) or {"Regex": r} (Oniguruma). */
export function patternRegex(pattern: unknown, file: string | undefined, field: string): RegExp {
  const p = (pattern ?? {}) as Json;
  if (typeof p.String === "string") return new RegExp(escapeRegex(p.String), "gu");
  if (typeof p.Regex === "string") return compileOnig(p.Regex, { file, field });
  throw new TokenizerError("TOKENIZER_JSON", `pattern must be {"String": …} or {"Regex": …}`, { file, field });
}

/**
 * Rewrite code point by code point; `fn` returns the replacement for one character. Output for a
 * character aligns to that character (HF `transform`: changed characters keep the alignment of
 * the character they replace; inserted ones take their neighbour's).
 */
export function mapCodePoints(n: Normalized, fn: (ch: string) => string): Normalized {
  const text = n.text;
  let b: NormalizedBuilder | null = null;
  let kept = 0; // source code units already handed to the builder
  for (let i = 0; i < text.length; ) {
    const w = text.codePointAt(i)! > 0xffff ? 2 : 1;
    const ch = text.slice(i, i + w);
    const out = fn(ch);
    if (out !== ch) {
      b ??= new NormalizedBuilder(n);
      b.keep(kept, i);
      b.replace(out, i, i + w);
      kept = i + w;
    }
    i += w;
  }
  if (b === null) return n;
  b.keep(kept, text.length);
  return b.finish();
}

const ASCII = /^[\x00-\x7f]*$/;
const WHITE = /^\p{White_Space}$/u;

function lowercase(n: Normalized): Normalized {
  // Rust's char::to_lowercase has no context (Σ → σ always), unlike String.toLowerCase's final-
  // sigma rule, so non-ASCII text is lowered one code point at a time.
  if (ASCII.test(n.text)) return n.withText(n.text.toLowerCase());
  return mapCodePoints(n, (ch) => ch.toLowerCase());
}

/** HF NormalizedString::prepend. */
export function prependTo(n: Normalized, prepend: string): Normalized {
  // normalizers/prepend.rs: only a non-empty string gets the prefix; it aligns to the first char.
  if (n.length === 0 || prepend === "") return n;
  const w = n.text.codePointAt(0)! > 0xffff ? 2 : 1;
  const b = new NormalizedBuilder(n);
  b.replace(prepend + n.text.slice(0, w), 0, w);
  b.keep(w, n.length);
  return b.finish();
}

export function replaceAll(n: Normalized, re: RegExp, content: string): Normalized {
  re.lastIndex = 0;
  const any = re.test(n.text);
  re.lastIndex = 0; // matchAll starts from the regex's lastIndex
  if (!any) return n;
  const b = new NormalizedBuilder(n);
  let kept = 0;
  for (const m of n.text.matchAll(re)) {
    const a = m.index;
    const e = a + m[0].length;
    if (e === a) continue;
    b.keep(kept, a);
    b.replace(content, a, e); // every replacement char aligns to the whole matched span
    kept = e;
  }
  b.keep(kept, n.length);
  return b.finish();
}

function strip(n: Normalized, left: boolean, right: boolean): Normalized {
  const t = n.text;
  let a = 0;
  let e = t.length;
  // Rust char::is_whitespace = Unicode White_Space.
  if (left) while (a < e && WHITE.test(t[a]!)) a++;
  if (right) while (e > a && WHITE.test(t[e - 1]!)) e--;
  return a === 0 && e === t.length ? n : n.slice(a, e);
}

/**
 * NFC/NFD/NFKC/NFKD with alignments. Text already in the form is returned as is (the common
 * case). Otherwise we normalize segment by segment — a segment starts at each character that is
 * not a combining mark — and within a changed segment output character k aligns to source
 * character min(k, last): composition keeps the first character's alignment and expansion
 * attaches the extra characters to the last one, which is what HF's alignment-tracking
 * `unicode_normalization_alignments` transform produces. If per-segment normalization disagrees
 * with whole-string normalization (composition across segments, e.g. Hangul jamo), coarser
 * segments are used so the text is always exactly `String.normalize(form)`.
 */
function unicodeNormalize(n: Normalized, form: "NFC" | "NFD" | "NFKC" | "NFKD"): Normalized {
  const text = n.text;
  const whole = text.normalize(form);
  if (whole === text) return n;
  for (const splitter of [/\P{M}\p{M}*|\p{M}+/gu, /[\x00-\x7f]|[^\x00-\x7f]+/gu]) {
    const segs = [...text.matchAll(splitter)];
    if (segs.map((m) => m[0].normalize(form)).join("") !== whole) continue;
    const b = new NormalizedBuilder(n);
    for (const m of segs) {
      const src = m[0];
      const out = src.normalize(form);
      if (out === src) {
        b.keep(m.index, m.index + src.length);
        continue;
      }
      const srcChars = [...src];
      let pos = m.index;
      const srcStarts = srcChars.map((c) => {
        const s = pos;
        pos += c.length;
        return s;
      });
      let k = 0;
      for (const ch of out) {
        const j = Math.min(k, srcChars.length - 1);
        b.replace(ch, srcStarts[j]!, srcStarts[j]! + srcChars[j]!.length);
        k++;
      }
    }
    return b.finish();
  }
  // Fall back to one segment for the whole string.
  const b = new NormalizedBuilder(n);
  b.replace(whole, 0, text.length);
  return b.finish();
}
