/**
 * GPT-2's byte-level alphabet: every byte 0..255 is shown as one printable Unicode character so
 * that BPE can run over "characters" while really working on bytes.
 *
 * Reference: openai/gpt-2 encoder.py `bytes_to_unicode`, mirrored by HF tokenizers
 * (tokenizers/src/pre_tokenizers/byte_level.rs `bytes_char`): printable Latin-1 bytes ('!'..'~',
 * '¡'..'¬', '®'..'ÿ') map to themselves, the remaining 68 bytes map in order to U+0100, U+0101, …
 * (so space 0x20 → 'Ġ' U+0120, newline 0x0A → 'Ċ' U+010A).
 */
import { Normalized, NormalizedBuilder } from "./normalized.js";

function buildAlphabet(): string[] {
  const table: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : 256 + n++);
  }
  return table;
}

/** BYTE_TO_CHAR[b] is the alphabet character standing for byte b. */
export const BYTE_TO_CHAR: readonly string[] = buildAlphabet();

/** Inverse of BYTE_TO_CHAR, indexed by char code (all alphabet characters are below U+0144). */
export const CHAR_TO_BYTE: Int16Array = (() => {
  const inv = new Int16Array(0x200).fill(-1);
  BYTE_TO_CHAR.forEach((ch, b) => (inv[ch.charCodeAt(0)] = b));
  return inv;
})();

/**
 * GPT-2's pre-tokenization pattern (byte_level.rs `RE`). Contractions are matched before letters,
 * `\s+(?!\S)` leaves the last space of a run to prefix the following word.
 */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

const ASCII = /^[\x00-\x7f]*$/;
const encoder = new TextEncoder();

/**
 * Replace every code unit of `piece` by the alphabet characters of its UTF-8 bytes. Each byte
 * character aligns to the original span of the character it came from (HF: all bytes of a
 * multi-byte character share that character's alignment), so a token holding half an emoji still
 * reports the emoji's full offsets.
 */
export function toByteLevel(piece: Normalized): Normalized {
  const text = piece.text;
  if (ASCII.test(text)) {
    // One byte per code unit: alignment unchanged, only the characters change.
    let s = "";
    for (let i = 0; i < text.length; i++) s += BYTE_TO_CHAR[text.charCodeAt(i)];
    return piece.withText(s);
  }
  const b = new NormalizedBuilder(piece);
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const w = cp > 0xffff ? 2 : 1;
    let s = "";
    if (cp < 0x80) s = BYTE_TO_CHAR[cp]!;
    else for (const byte of encoder.encode(text.slice(i, i + w))) s += BYTE_TO_CHAR[byte];
    b.replace(s, i, i + w);
    i += w;
  }
  return b.finish();
}

/** Decode byte-level tokens back to text (HF ByteLevel decoder). */
export function byteLevelDecode(tokens: readonly string[]): string {
  const bytes: number[] = [];
  for (const t of tokens) {
    let ok = true;
    const mark = bytes.length;
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      const b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c]! : -1;
      if (b < 0) {
        ok = false;
        break;
      }
      bytes.push(b);
    }
    // byte_level.rs decode_chain: a token with a character outside the alphabet (an added token
    // such as Pythia's runs of spaces) contributes its own UTF-8 bytes instead.
    if (!ok) {
      bytes.length = mark;
      for (const b of encoder.encode(t)) bytes.push(b);
    }
  }
  // Invalid UTF-8 becomes U+FFFD per maximal invalid subsequence, as Rust's from_utf8_lossy does.
  return new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }).decode(Uint8Array.from(bytes));
}
