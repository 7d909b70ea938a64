/**
 * A Tokenizer built from a Hugging Face tokenizer.json (+ optional tokenizer_config.json).
 * Pure: no file access, so it runs in the browser too (the Node adapter is node.ts).
 *
 * Encoding follows HF tokenizers' `Tokenizer::encode` (tokenizers/src/tokenizer/mod.rs):
 *   added tokens (raw) → normalizer → added tokens (normalized) → pre-tokenizer → model →
 *   post-processor,
 * with offsets carried as UTF-16 positions into the caller's string throughout.
 *
 * Deliberate differences from the Rust library, following transformers instead:
 *   - `truncation`/`padding` stored in tokenizer.json are ignored (transformers' fast tokenizers
 *     reset them per call; GPT-2's file says max_length 50, which no caller wants silently).
 *   - tokenizer_config.json's add_bos_token/add_eos_token rebuild the post-processor for the
 *     tokenizer classes whose transformers fast tokenizer does so (`update_post_processor`).
 *   - decode never applies `clean_up_tokenization_spaces`, so decode(encode(x)) == x.
 */
import { ScalpelError, TokenizerError } from "../../errors.js";
import { Matcher, type AddedToken } from "./added-tokens.js";
import { BPE } from "./bpe.js";
import { buildDecoder } from "./decoders.js";
import type { TokenizerModel, TokenSink } from "./model.js";
import { Normalized } from "./normalized.js";
import { buildNormalizer } from "./normalizers.js";
import { buildPostProcessor, type Encoded } from "./post-processors.js";
import { buildPreTokenizer } from "./pre-tokenizers.js";
import type { BatchEncoding, EncodeOptions, Encoding, Tokenizer } from "./types.js";
import { WordLevel } from "./word-level.js";

type Json = Record<string, unknown>;

export interface TokenizerFromJSONOptions {
  /** The parsed tokenizer_config.json beside tokenizer.json (special tokens, add_bos_token…). */
  config?: Record<string, unknown>;
  /** Where the JSON came from, for error messages. */
  file?: string;
}

// transformers fast tokenizers whose update_post_processor() rebuilds the template from
// add_bos_token/add_eos_token, with their constructor defaults [add_bos, add_eos].
const TEMPLATE_CLASSES: Record<string, [boolean, boolean]> = {
  LlamaTokenizer: [true, false],
  LlamaTokenizerFast: [true, false],
  CodeLlamaTokenizer: [true, false],
  CodeLlamaTokenizerFast: [true, false],
  GemmaTokenizer: [true, false],
  GemmaTokenizerFast: [true, false],
  GPTNeoXTokenizer: [false, false],
  GPTNeoXTokenizerFast: [false, false],
};

/** Build a tokenizer from a parsed (or raw string) tokenizer.json. */
export function tokenizerFromJSON(json: unknown, options: TokenizerFromJSONOptions = {}): Tokenizer {
  const file = options.file;
  let spec: unknown = json;
  if (typeof json === "string") {
    try {
      spec = JSON.parse(json);
    } catch (e) {
      throw new TokenizerError("TOKENIZER_JSON", `tokenizer.json is not valid JSON: ${(e as Error).message}`, {
        file,
        fix: "re-download or re-save the tokenizer.json",
        cause: e,
      });
    }
  }
  if (spec === null || typeof spec !== "object" || Array.isArray(spec) || typeof (spec as Json).model !== "object" || (spec as Json).model === null) {
    throw new TokenizerError("TOKENIZER_JSON", "not a tokenizer.json: expected an object with a `model` section", { file, field: "model" });
  }
  try {
    return new JsonTokenizer(spec as Json, options.config ?? {}, file);
  } catch (e) {
    if (e instanceof ScalpelError) throw e;
    throw new TokenizerError("TOKENIZER_JSON", `malformed tokenizer.json: ${(e as Error).message}`, { file, cause: e });
  }
}

function buildModel(spec: Json, file?: string): TokenizerModel {
  const type = spec.type ?? (spec.merges !== undefined ? "BPE" : undefined);
  if (type === "BPE") return new BPE(spec, file);
  if (type === "WordLevel") return new WordLevel(spec, file);
  throw new TokenizerError("TOKENIZER_UNSUPPORTED", `unsupported model type ${JSON.stringify(type)}`, {
    file,
    field: "model.type",
    fix: "scalpel reads BPE and WordLevel tokenizers (Unigram and WordPiece are not implemented)",
  });
}

/** A special-token entry of tokenizer_config.json: "…" or {"content": "…"}. */
function tokenName(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as Json).content === "string") return (v as Json).content as string;
  return undefined;
}

class JsonTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly padId: number | undefined;
  private readonly model: TokenizerModel;
  private readonly added: AddedToken[];
  private readonly addedById = new Map<number, AddedToken>();
  private readonly addedByContent = new Map<string, AddedToken>();
  private readonly rawMatcher: Matcher;
  private readonly normMatcher: Matcher;
  private readonly normalizer;
  private readonly preTokenizer;
  private readonly postProcessor;
  private readonly decoder;
  private readonly postSpec: unknown;
  private readonly preSpec: unknown;

  constructor(private readonly spec: Json, private readonly config: Json, private readonly file?: string) {
    this.model = buildModel(spec.model as Json, file);
    this.added = ((spec.added_tokens ?? []) as Partial<AddedToken>[]).map((t) => ({
      id: Number(t.id),
      content: String(t.content),
      single_word: t.single_word === true,
      lstrip: t.lstrip === true,
      rstrip: t.rstrip === true,
      normalized: t.normalized !== false,
      special: t.special === true,
    }));
    for (const t of this.added) {
      this.addedById.set(t.id, t);
      this.addedByContent.set(t.content, t);
    }
    this.normalizer = buildNormalizer(spec.normalizer, file);
    this.preSpec = effectivePreTokenizer(spec.pre_tokenizer, config);
    this.preTokenizer = buildPreTokenizer(this.preSpec, file);
    this.decoder = buildDecoder(spec.decoder, file);
    // added_vocabulary.rs refresh_added_tokens: specials first, then the rest (order matters only
    // for identical contents); normalized ones match their normalized form.
    const ordered = [...this.added.filter((t) => t.special), ...this.added.filter((t) => !t.special)];
    this.rawMatcher = new Matcher(ordered.filter((t) => !t.normalized).map((token) => ({ token, text: token.content })));
    this.normMatcher = new Matcher(
      ordered
        .filter((t) => t.normalized)
        .map((token) => ({ token, text: this.normalizer ? this.normalizer(Normalized.original(token.content)).text : token.content })),
    );

    // Without a tokenizer_config.json, BOS/EOS are read off the post-processor's template
    // ("<s> $A" → BOS <s>), which is where a bare tokenizer.json records them.
    // Failing that, "<|endoftext|>" is both, as in transformers' GPT2TokenizerFast and
    // GPTNeoXTokenizerFast constructor defaults (GPT-2's post-processor adds no tokens).
    const template = templateSpecials(spec.post_processor);
    const endoftext = this.tokenToId("<|endoftext|>") !== undefined ? "<|endoftext|>" : undefined;
    const bos = tokenName(config.bos_token) ?? (config.bos_token === undefined ? template.bos ?? (template.eos ? undefined : endoftext) : undefined);
    const eos = tokenName(config.eos_token) ?? (config.eos_token === undefined ? template.eos ?? (template.bos ? undefined : endoftext) : undefined);
    const pad = tokenName(config.pad_token);
    this.bosId = bos === undefined ? undefined : this.tokenToId(bos);
    this.eosId = eos === undefined ? undefined : this.tokenToId(eos);
    // Padding uses the pad token, else EOS (the usual choice for GPT-2-style models).
    this.padId = (pad === undefined ? undefined : this.tokenToId(pad)) ?? this.eosId;

    this.postSpec = this.effectivePostProcessor(spec.post_processor, config, bos, eos);
    this.postProcessor = buildPostProcessor(this.postSpec, (id) => this.idToToken(id), file);

    let size = this.model.size;
    for (const t of this.added) size = Math.max(size, t.id + 1);
    this.vocabSize = size;
  }

  /** transformers' update_post_processor: a template from add_bos_token / add_eos_token. */
  private effectivePostProcessor(original: unknown, config: Json, bos?: string, eos?: string): unknown {
    const cls = typeof config.tokenizer_class === "string" ? config.tokenizer_class : undefined;
    const hasFlag = typeof config.add_bos_token === "boolean" || typeof config.add_eos_token === "boolean";
    if (!hasFlag) return original;
    const defaults = cls === undefined ? [false, false] : TEMPLATE_CLASSES[cls];
    if (!defaults) return original;
    const addBos = typeof config.add_bos_token === "boolean" ? config.add_bos_token : defaults[0];
    const addEos = typeof config.add_eos_token === "boolean" ? config.add_eos_token : defaults[1];
    return templateFor(addBos && bos !== undefined ? [bos, this.tokenToId(bos)!] : null, addEos && eos !== undefined ? [eos, this.tokenToId(eos)!] : null, this.file);
  }

  encode(text: string, options: EncodeOptions = {}): Encoding {
    const ids: number[] = [];
    const sink: TokenSink = { ids: [], starts: [], ends: [] };
    const offsets: [number, number][] = [];
    const pushAdded = (piece: Normalized, id: number) => {
      ids.push(id);
      offsets.push(piece.originalRange(0, piece.length));
    };
    for (const raw of this.rawMatcher.split(Normalized.original(text))) {
      if (raw.id !== undefined) {
        pushAdded(raw.piece, raw.id);
        continue;
      }
      const normalized = this.normalizer ? this.normalizer(raw.piece) : raw.piece;
      for (const seg of this.normMatcher.split(normalized)) {
        if (seg.id !== undefined) {
          pushAdded(seg.piece, seg.id);
          continue;
        }
        const pieces = this.preTokenizer ? this.preTokenizer(seg.piece) : seg.piece.length ? [seg.piece] : [];
        for (const p of pieces) {
          sink.ids.length = sink.starts.length = sink.ends.length = 0;
          this.model.tokenize(p.text, sink);
          for (let k = 0; k < sink.ids.length; k++) {
            ids.push(sink.ids[k]!);
            offsets.push(p.originalRange(sink.starts[k]!, sink.ends[k]!));
          }
        }
      }
    }
    let enc: Encoded = { ids, offsets };
    const add = options.addSpecialTokens !== false;
    if (this.postProcessor) enc = this.postProcessor(enc, add);
    if (options.prependBos && this.bosId !== undefined && enc.ids[0] !== this.bosId) {
      enc = { ids: [this.bosId, ...enc.ids], offsets: [[0, 0], ...enc.offsets] };
    }
    return enc;
  }

  encodeBatch(texts: string[], options: EncodeOptions & { padding?: "left" | "right" } = {}): BatchEncoding {
    const rows = texts.map((t) => this.encode(t, options).ids);
    const width = rows.reduce((m, r) => Math.max(m, r.length), 0);
    const needsPad = rows.some((r) => r.length < width);
    if (needsPad && this.padId === undefined) {
      throw new TokenizerError("TOKENIZER_NO_PAD", "cannot pad a batch: the tokenizer has neither a pad token nor an EOS token", {
        file: this.file,
        field: "pad_token",
        fix: "set pad_token (or eos_token) in tokenizer_config.json, or encode the texts one by one",
      });
    }
    const left = options.padding === "left";
    const ids: number[][] = [];
    const attentionMask: number[][] = [];
    for (const r of rows) {
      const padding = new Array<number>(width - r.length).fill(this.padId ?? 0);
      const zeros = new Array<number>(width - r.length).fill(0);
      const ones = new Array<number>(r.length).fill(1);
      ids.push(left ? [...padding, ...r] : [...r, ...padding]);
      attentionMask.push(left ? [...zeros, ...ones] : [...ones, ...zeros]);
    }
    return { ids, attentionMask };
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    const tokens: string[] = [];
    for (const id of ids) {
      const added = this.addedById.get(id);
      if (added) {
        if (!(options.skipSpecialTokens && added.special)) tokens.push(added.content);
        continue;
      }
      const t = this.model.idToToken(id);
      if (t !== undefined) tokens.push(t);
    }
    // tokenizer/mod.rs decode: without a decoder the tokens are joined by spaces.
    return this.decoder ? this.decoder(tokens).join("") : tokens.join(" ");
  }

  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token)?.id ?? this.model.tokenToId(token);
  }

  idToToken(id: number): string | undefined {
    return this.addedById.get(id)?.content ?? this.model.idToToken(id);
  }

  toConfigJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { ...this.config };
    const roles: [string, number | undefined][] = [["bos_token", this.bosId], ["eos_token", this.eosId]];
    for (const [key, id] of roles) if (out[key] === undefined && id !== undefined) out[key] = this.idToToken(id);
    return out;
  }

  toJSON(): unknown {
    return {
      version: this.spec.version ?? "1.0",
      truncation: this.spec.truncation ?? null,
      padding: this.spec.padding ?? null,
      added_tokens: [...this.added].sort((a, b) => a.id - b.id),
      normalizer: this.spec.normalizer ?? null,
      pre_tokenizer: this.preSpec ?? null,
      post_processor: this.postSpec ?? null,
      decoder: this.spec.decoder ?? null,
      model: this.model.toJSON(),
    };
  }
}

/**
 * transformers' byte-level fast tokenizers (GPT2TokenizerFast, GPTNeoXTokenizerFast, …) overwrite
 * a top-level ByteLevel pre-tokenizer's add_prefix_space with tokenizer_config.json's value.
 */
function effectivePreTokenizer(pre: unknown, config: Json): unknown {
  const p = pre as Json | null | undefined;
  if (typeof config.add_prefix_space !== "boolean" || !p || p.type !== "ByteLevel" || p.add_prefix_space === config.add_prefix_space) return pre;
  return { ...p, add_prefix_space: config.add_prefix_space };
}

/** The special tokens before and after $A in a TemplateProcessing's single template. */
function templateSpecials(post: unknown): { bos?: string; eos?: string } {
  const p = post as Json | null | undefined;
  if (!p || p.type !== "TemplateProcessing" || !Array.isArray(p.single)) return {};
  const single = p.single as Json[];
  const special = (piece: Json | undefined) => (piece?.SpecialToken ? String((piece.SpecialToken as Json).id) : undefined);
  const first = special(single[0]);
  const last = single.length > 1 ? special(single[single.length - 1]) : undefined;
  return { bos: first, eos: last };
}

/** A TemplateProcessing spec "bos? $A eos?" as transformers' update_post_processor builds it. */
export function templateFor(bos: [string, number] | null, eos: [string, number] | null, file?: string): Json {
  for (const t of [bos, eos]) {
    if (t && t[1] === undefined) throw new TokenizerError("TOKENIZER_CONFIG", `special token ${JSON.stringify(t[0])} is not in the vocabulary`, { file, field: "bos_token/eos_token" });
  }
  const piece = (id: string, kind: "SpecialToken" | "Sequence", typeId: number) => ({ [kind]: { id, type_id: typeId } });
  const single = [...(bos ? [piece(bos[0], "SpecialToken", 0)] : []), piece("A", "Sequence", 0), ...(eos ? [piece(eos[0], "SpecialToken", 0)] : [])];
  const pair = [...single, ...(bos ? [piece(bos[0], "SpecialToken", 1)] : []), piece("B", "Sequence", 1), ...(eos ? [piece(eos[0], "SpecialToken", 1)] : [])];
  const special_tokens: Record<string, unknown> = {};
  for (const t of [bos, eos]) if (t) special_tokens[t[0]] = { id: t[0], ids: [t[1]], tokens: [t[0]] };
  return { type: "TemplateProcessing", single, pair, special_tokens };
}
