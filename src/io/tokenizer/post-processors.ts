/**
 * tokenizer.json `post_processor` components (HF tokenizers/src/processors/*): add BOS/EOS
 * around a single sequence and adjust offsets. Pairs of sequences are not part of scalpel's
 * contract, so only the `single` side of templates is used.
 */
import { TokenizerError } from "../../errors.js";

export interface Encoded {
  ids: number[];
  offsets: [number, number][];
}

export type PostProcessorFn = (enc: Encoded, addSpecialTokens: boolean) => Encoded;

type Json = Record<string, unknown>;

export function buildPostProcessor(spec: unknown, idToToken: (id: number) => string | undefined, file?: string): PostProcessorFn | null {
  if (spec === null || spec === undefined) return null;
  const j = spec as Json;
  switch (j.type) {
    case "TemplateProcessing": {
      const specials = (j.special_tokens ?? {}) as Record<string, { ids: number[] }>;
      const single = parseTemplate(j.single, file);
      return (enc, add) => {
        if (!add) return enc;
        const ids: number[] = [];
        const offsets: [number, number][] = [];
        for (const piece of single) {
          if (piece === "A") {
            // A loop, not push(...spread): a long document would overflow the call stack.
            for (let k = 0; k < enc.ids.length; k++) {
              ids.push(enc.ids[k]!);
              offsets.push(enc.offsets[k]!);
            }
            continue;
          }
          const sp = specials[piece];
          if (!sp) throw new TokenizerError("TOKENIZER_JSON", `template uses special token ${JSON.stringify(piece)} missing from special_tokens`, { file, field: "post_processor.special_tokens" });
          for (const id of sp.ids) {
            ids.push(id);
            offsets.push([0, 0]); // specials cover no input text
          }
        }
        return { ids, offsets };
      };
    }
    case "BertProcessing":
    case "RobertaProcessing": {
      const cls = (j.cls as [string, number])[1];
      const sep = (j.sep as [string, number])[1];
      const trim = j.type === "RobertaProcessing" && j.trim_offsets !== false;
      const addPrefixSpace = j.add_prefix_space !== false;
      return (enc, add) => {
        const e = trim ? trimOffsets(enc, idToToken, addPrefixSpace) : enc;
        if (!add) return e;
        return { ids: [cls, ...e.ids, sep], offsets: [[0, 0], ...e.offsets, [0, 0]] };
      };
    }
    case "ByteLevel": {
      const trim = j.trim_offsets !== false;
      const addPrefixSpace = j.add_prefix_space !== false;
      return (enc) => (trim ? trimOffsets(enc, idToToken, addPrefixSpace) : enc);
    }
    case "Sequence": {
      const parts = ((j.processors as unknown[]) ?? []).map((p) => buildPostProcessor(p, idToToken, file)).filter((f): f is PostProcessorFn => f !== null);
      return (enc, add) => parts.reduce((e, f) => f(e, add), enc);
    }
    default:
      throw new TokenizerError("TOKENIZER_UNSUPPORTED", `unsupported post_processor type ${JSON.stringify(j.type)}`, {
        file,
        field: "post_processor.type",
        fix: "supported post-processors: TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing, Sequence",
      });
  }
}

/**
 * A template's `single` list → "A" for the sequence and token strings for specials. Accepts both
 * the serialized form ([{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}]) and the
 * string shorthand ("<s> $A").
 */
function parseTemplate(single: unknown, file?: string): string[] {
  if (typeof single === "string") {
    return single.split(/\s+/).filter(Boolean).map((p) => {
      const name = p.replace(/:\d+$/, "");
      return name === "$A" || name === "$" || name === "$0" ? "A" : name;
    });
  }
  if (!Array.isArray(single)) throw new TokenizerError("TOKENIZER_JSON", "TemplateProcessing.single must be a list", { file, field: "post_processor.single" });
  return single.map((p: Json) => {
    if (p.Sequence) return "A";
    if (p.SpecialToken) return String((p.SpecialToken as Json).id);
    throw new TokenizerError("TOKENIZER_JSON", `bad template piece ${JSON.stringify(p)}`, { file, field: "post_processor.single" });
  });
}

const WHITE = /\p{White_Space}/u;

/**
 * pre_tokenizers/byte_level.rs `process_offsets`: shrink each token's offsets past the whitespace
 * (shown as 'Ġ' in byte-level tokens) at its ends — leading and trailing runs counted
 * independently — except the one space ByteLevel itself prepended to the first token.
 */
function trimOffsets(enc: Encoded, idToToken: (id: number) => string | undefined, addPrefixSpace: boolean): Encoded {
  const isSpace = (c: string) => c === "Ġ" || WHITE.test(c);
  const offsets = enc.offsets.map(([s, e], i): [number, number] => {
    const chars = [...(idToToken(enc.ids[i]!) ?? "")];
    let lead = 0;
    while (lead < chars.length && isSpace(chars[lead]!)) lead++;
    let trail = 0;
    while (trail < chars.length && isSpace(chars[chars.length - 1 - trail]!)) trail++;
    if (lead > 0) {
      if ((i === 0 || s === 0) && addPrefixSpace && lead === 1) lead = 0;
      s = Math.min(s + lead, e);
    }
    if (trail > 0 && e >= trail) e = Math.max(e - trail, s);
    return [s, e];
  });
  return { ids: enc.ids, offsets };
}
