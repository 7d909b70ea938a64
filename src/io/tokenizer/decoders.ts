/**
 * tokenizer.json `decoder` components (HF tokenizers/src/decoders/*). A decoder maps the list of
 * token strings to a new list (`decode_chain`); the final text is the concatenation.
 */
import { TokenizerError } from "../../errors.js";
import { byteLevelDecode } from "./byte-level.js";
import { patternRegex } from "./normalizers.js";

export type DecoderFn = (tokens: string[]) => string[];

type Json = Record<string, unknown>;

const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;

export function buildDecoder(spec: unknown, file?: string): DecoderFn | null {
  if (spec === null || spec === undefined) return null;
  const j = spec as Json;
  switch (j.type) {
    case "ByteLevel":
      return (tokens) => [byteLevelDecode(tokens)];
    case "Metaspace": {
      // pre_tokenizers/metaspace.rs decode_chain: ▁ → space, except that in the first token
      // every ▁ is dropped (unless prepend_scheme is "never").
      const replacement = String(j.replacement ?? "▁");
      const scheme = (j.prepend_scheme as string | undefined) ?? (j.add_prefix_space === false ? "never" : "always");
      return (tokens) =>
        tokens.map((t, i) => t.split(replacement).join(i === 0 && scheme !== "never" ? "" : " "));
    }
    case "ByteFallback":
      return byteFallback;
    case "Fuse":
      return (tokens) => [tokens.join("")];
    case "Strip": {
      const content = String(j.content ?? " ");
      const start = Number(j.start ?? 0);
      const stop = Number(j.stop ?? 0);
      return (tokens) => tokens.map((t) => stripChars(t, content, start, stop));
    }
    case "Replace": {
      const re = patternRegex(j.pattern, file, "decoder.pattern");
      const content = String(j.content ?? "");
      return (tokens) => tokens.map((t) => t.replace(re, () => content));
    }
    case "WordPiece": {
      // decoders/wordpiece.rs: glue "##" continuations, optionally tidy spaces before punctuation.
      const prefix = String(j.prefix ?? "##");
      const cleanup = j.cleanup !== false;
      return (tokens) =>
        tokens.map((t, i) => {
          let s = i > 0 ? (t.startsWith(prefix) ? t.slice(prefix.length) : " " + t) : t;
          if (cleanup) s = cleanupSpaces(s);
          return s;
        });
    }
    case "BPEDecoder": {
      const suffix = String(j.suffix ?? "</w>");
      return (tokens) => tokens.map((t, i) => t.split(suffix).join(i === tokens.length - 1 ? "" : " "));
    }
    case "Sequence": {
      const parts = ((j.decoders as unknown[]) ?? []).map((d) => buildDecoder(d, file)).filter((f): f is DecoderFn => f !== null);
      return (tokens) => parts.reduce((ts, f) => f(ts), tokens);
    }
    default:
      throw new TokenizerError("TOKENIZER_UNSUPPORTED", `unsupported decoder type ${JSON.stringify(j.type)}`, {
        file,
        field: "decoder.type",
        fix: "supported decoders: ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace, WordPiece, BPEDecoder, Sequence",
      });
  }
}

/**
 * decoders/byte_fallback.rs: runs of <0xNN> tokens become their bytes decoded as UTF-8; a run that
 * is not valid UTF-8 becomes one U+FFFD per byte.
 */
function byteFallback(tokens: string[]): string[] {
  const out: string[] = [];
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length === 0) return;
    try {
      out.push(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(Uint8Array.from(bytes)));
    } catch {
      out.push("\ufffd".repeat(bytes.length));
    }
    bytes = [];
  };
  for (const t of tokens) {
    const m = t.length === 6 ? BYTE_TOKEN.exec(t) : null;
    if (m) bytes.push(parseInt(m[1]!, 16));
    else {
      flush();
      out.push(t);
    }
  }
  flush();
  return out;
}

/** decoders/strip.rs: remove up to `start` leading and `stop` trailing `content` characters. */
function stripChars(t: string, content: string, start: number, stop: number): string {
  const chars = [...t];
  let a = 0;
  while (a < start && a < chars.length && chars[a] === content) a++;
  let e = chars.length;
  while (chars.length - e < stop && e > a && chars[e - 1] === content) e--;
  return chars.slice(a, e).join("");
}

/** transformers' clean_up_tokenization, used by the WordPiece decoder's `cleanup`. */
export function cleanupSpaces(s: string): string {
  return s
    .replaceAll(" .", ".")
    .replaceAll(" ?", "?")
    .replaceAll(" !", "!")
    .replaceAll(" ,", ",")
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}
