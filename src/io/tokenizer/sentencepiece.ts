/**
 * SentencePiece `tokenizer.model` (a serialized ModelProto, sentencepiece_model.proto) → the
 * equivalent Hugging Face tokenizer.json, built the way transformers' LlamaConverter
 * (convert_slow_tokenizer.py) builds Llama's fast tokenizer:
 *   model:        BPE over the pieces, merges derived from vocab + scores (`generate_merges`),
 *                 unk_token = trainer_spec.unk_piece, fuse_unk, byte_fallback (<0xNN> pieces)
 *   normalizer:   legacy Sequence[Prepend("▁") (if add_dummy_prefix), Replace(" " → "▁")],
 *                 preceded by space squeezing when normalizer_spec.remove_extra_whitespaces
 *   pre_tokenizer: none (legacy); with tokenizer_config `legacy: false`, no normalizer and a
 *                 Metaspace(prepend_scheme "first", split false) instead
 *   decoder:      Sequence[Replace("▁" → " "), ByteFallback, Fuse, Strip(" ", 1, 0)]
 *   post_processor: TemplateProcessing "<s> $A" (LlamaTokenizerFast: add_bos_token=True,
 *                 add_eos_token=False; tokenizer_config.json or options may change both)
 *   added tokens: CONTROL pieces (special) and USER_DEFINED pieces, normalized=false, + unk.
 * Only BPE-type models are converted (Llama, llama2.c); Unigram models need a Unigram model.
 */
import { TokenizerError } from "../../errors.js";
import { fields, float32, int32, ProtobufError, string, type Field } from "./protobuf.js";
import { templateFor, tokenizerFromJSON } from "./tokenizer.js";
import type { Tokenizer } from "./types.js";

/** sentencepiece_model.proto SentencePiece.Type. */
export const PieceType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;
/** sentencepiece_model.proto TrainerSpec.ModelType. */
export const ModelType = { UNIGRAM: 1, BPE: 2, WORD: 3, CHAR: 4 } as const;

export interface SentencePieceModel {
  pieces: { piece: string; score: number; type: number }[];
  trainerSpec: {
    modelType: number;
    vocabSize: number;
    byteFallback: boolean;
    unkId: number;
    bosId: number;
    eosId: number;
    padId: number;
    unkPiece: string;
    bosPiece: string;
    eosPiece: string;
    padPiece: string;
  };
  normalizerSpec: {
    name: string;
    addDummyPrefix: boolean;
    removeExtraWhitespaces: boolean;
    escapeWhitespaces: boolean;
    hasPrecompiledCharsmap: boolean;
  };
}

/** Parse a ModelProto. Throws TokenizerError (naming `file`) on truncated or corrupt input. */
export function readSentencePieceModel(bytes: Uint8Array, file?: string): SentencePieceModel {
  const model: SentencePieceModel = {
    pieces: [],
    // Defaults from sentencepiece_model.proto: absent fields take these values.
    trainerSpec: { modelType: ModelType.UNIGRAM, vocabSize: 8000, byteFallback: false, unkId: 0, bosId: 1, eosId: 2, padId: -1, unkPiece: "<unk>", bosPiece: "<s>", eosPiece: "</s>", padPiece: "<pad>" },
    normalizerSpec: { name: "", addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true, hasPrecompiledCharsmap: false },
  };
  try {
    for (const f of fields(bytes)) {
      if (f.number === 1) model.pieces.push(readPiece(f));
      else if (f.number === 2) readTrainerSpec(sub(f), model.trainerSpec);
      else if (f.number === 3) readNormalizerSpec(sub(f), model.normalizerSpec);
      // 4 self_test_data, 5 denormalizer_spec: not needed.
    }
  } catch (e) {
    if (e instanceof ProtobufError) {
      throw new TokenizerError("TOKENIZER_PROTOBUF", `corrupt SentencePiece model: ${e.message}`, { file, fix: "re-download tokenizer.model", cause: e });
    }
    throw e;
  }
  if (model.pieces.length === 0) {
    throw new TokenizerError("TOKENIZER_PROTOBUF", "SentencePiece model has no pieces", { file, field: "pieces", fix: "re-download tokenizer.model" });
  }
  return model;
}

function sub(f: Field): Uint8Array {
  if (f.wire !== 2) throw new ProtobufError(`field ${f.number}: expected a sub-message, got wire type ${f.wire}`);
  return f.bytes;
}

function readPiece(f: Field): SentencePieceModel["pieces"][number] {
  const p = { piece: "", score: 0, type: PieceType.NORMAL as number };
  for (const g of fields(sub(f))) {
    if (g.number === 1) p.piece = string(g);
    else if (g.number === 2) p.score = float32(g);
    else if (g.number === 3) p.type = g.varint;
  }
  return p;
}

function readTrainerSpec(bytes: Uint8Array, t: SentencePieceModel["trainerSpec"]): void {
  for (const g of fields(bytes)) {
    switch (g.number) {
      case 3: t.modelType = g.varint; break;
      case 4: t.vocabSize = int32(g); break;
      case 35: t.byteFallback = g.varint !== 0; break;
      case 40: t.unkId = int32(g); break;
      case 41: t.bosId = int32(g); break;
      case 42: t.eosId = int32(g); break;
      case 43: t.padId = int32(g); break;
      case 45: t.unkPiece = string(g); break;
      case 46: t.bosPiece = string(g); break;
      case 47: t.eosPiece = string(g); break;
      case 48: t.padPiece = string(g); break;
    }
  }
}

function readNormalizerSpec(bytes: Uint8Array, n: SentencePieceModel["normalizerSpec"]): void {
  for (const g of fields(bytes)) {
    switch (g.number) {
      case 1: n.name = string(g); break;
      case 2: n.hasPrecompiledCharsmap = g.bytes.length > 0; break;
      case 3: n.addDummyPrefix = g.varint !== 0; break;
      case 4: n.removeExtraWhitespaces = g.varint !== 0; break;
      case 5: n.escapeWhitespaces = g.varint !== 0; break;
    }
  }
}

/**
 * convert_slow_tokenizer.py `generate_merges(vocab, vocab_scores)`: every split of every piece
 * into two pieces is a merge; merges are ordered by the merged piece's score (descending), then
 * by the lengths (in code points) of the left and right parts (descending), ties keeping vocab
 * order — Python's stable sort with reverse=True.
 */
export function generateMerges(pieces: readonly { piece: string; score: number }[]): [string, string][] {
  const vocab = new Map<string, number>();
  pieces.forEach((p, i) => {
    if (!vocab.has(p.piece)) vocab.set(p.piece, i);
  });
  const merges: { l: string; r: string; score: number; ll: number; rl: number }[] = [];
  for (const { piece, score } of pieces) {
    const chars = [...piece];
    const local: typeof merges = [];
    for (let k = 1; k < chars.length; k++) {
      const l = chars.slice(0, k).join("");
      const r = chars.slice(k).join("");
      if (vocab.has(l) && vocab.has(r)) local.push({ l, r, score, ll: k, rl: chars.length - k });
    }
    local.sort((a, b) => vocab.get(a.l)! - vocab.get(b.l)! || vocab.get(a.r)! - vocab.get(b.r)!);
    merges.push(...local);
  }
  merges.sort((a, b) => b.score - a.score || b.ll - a.ll || b.rl - a.rl);
  return merges.map((m) => [m.l, m.r]);
}

export interface SentencePieceOptions {
  /** tokenizer_config.json beside the model (add_bos_token, add_eos_token, special tokens). */
  config?: Record<string, unknown>;
  file?: string;
}

/** The tokenizer.json that transformers' LlamaConverter would write for this model. */
export function sentencePieceToTokenizerJSON(model: SentencePieceModel, options: SentencePieceOptions = {}): Record<string, unknown> {
  const { file } = options;
  const t = model.trainerSpec;
  if (t.modelType !== ModelType.BPE) {
    const name = Object.entries(ModelType).find(([, v]) => v === t.modelType)?.[0] ?? String(t.modelType);
    throw new TokenizerError("TOKENIZER_UNSUPPORTED", `unsupported SentencePiece model type ${name}`, {
      file,
      field: "trainer_spec.model_type",
      fix: "scalpel converts BPE SentencePiece models (Llama, llama2.c); use a tokenizer.json for Unigram models",
    });
  }
  // LlamaConverter.vocab: the first three pieces get score 0.
  const pieces = model.pieces.map((p, i) => ({ piece: p.piece, score: i < 3 ? 0 : p.score, type: p.type }));
  // A Map first: pieces such as "constructor" or "__proto__" must not meet Object.prototype.
  const ids = new Map<string, number>();
  pieces.forEach((p, i) => {
    if (!ids.has(p.piece)) ids.set(p.piece, i);
  });
  const vocab: Record<string, number> = Object.fromEntries(ids);
  const unk = pieces[t.unkId]?.piece ?? t.unkPiece;
  const added_tokens = pieces
    .map((p, id) => ({ p, id }))
    .filter(({ p }) => p.type === PieceType.CONTROL || p.type === PieceType.USER_DEFINED || p.type === PieceType.UNKNOWN)
    .map(({ p, id }) => ({ id, content: p.piece, single_word: false, lstrip: false, rstrip: false, normalized: false, special: p.type !== PieceType.USER_DEFINED }));

  const cfg = options.config ?? {};
  // transformers: `legacy` (default true) and `add_prefix_space` (default: the model's
  // add_dummy_prefix) choose between the legacy normalizer and a Metaspace pre-tokenizer.
  const legacy = cfg.legacy !== false;
  const dummy = typeof cfg.add_prefix_space === "boolean" ? cfg.add_prefix_space : model.normalizerSpec.addDummyPrefix;
  const normalizers: unknown[] = [];
  if (model.normalizerSpec.removeExtraWhitespaces) {
    // SentencePiece normalizer.cc: drop leading and trailing spaces and squeeze runs of spaces
    // (U+0020 only; tabs and newlines stay). LlamaConverter ignores this flag because Llama's
    // model has it off; llama2.c's models have it on, so we honour it to match SentencePiece.
    normalizers.push({ type: "Replace", pattern: { Regex: "\\A +| +\\z" }, content: "" });
    normalizers.push({ type: "Replace", pattern: { Regex: " {2,}" }, content: " " });
  }
  if (legacy) {
    if (dummy) normalizers.push({ type: "Prepend", prepend: "▁" });
    normalizers.push({ type: "Replace", pattern: { String: " " }, content: "▁" });
  }
  // Non-legacy: the dummy prefix goes only before the text's first piece, not after every
  // special token (LlamaConverter.pre_tokenizer, _get_prepend_scheme → "first").
  const pre_tokenizer = legacy ? null : { type: "Metaspace", replacement: "▁", prepend_scheme: dummy ? "first" : "never", split: false };
  const decoders: unknown[] = [
    { type: "Replace", pattern: { String: "▁" }, content: " " },
    { type: "ByteFallback" },
    { type: "Fuse" },
  ];
  if (dummy) decoders.push({ type: "Strip", content: " ", start: 1, stop: 0 });

  const bosName = tokenName(cfg.bos_token) ?? (t.bosId >= 0 ? pieces[t.bosId]?.piece : undefined);
  const eosName = tokenName(cfg.eos_token) ?? (t.eosId >= 0 ? pieces[t.eosId]?.piece : undefined);
  const addBos = typeof cfg.add_bos_token === "boolean" ? cfg.add_bos_token : true;
  const addEos = typeof cfg.add_eos_token === "boolean" ? cfg.add_eos_token : false;
  const post = templateFor(
    addBos && bosName !== undefined ? [bosName, ids.get(bosName)!] : null,
    addEos && eosName !== undefined ? [eosName, ids.get(eosName)!] : null,
    file,
  );

  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens,
    normalizer: normalizers.length ? { type: "Sequence", normalizers } : null,
    pre_tokenizer,
    post_processor: post,
    decoder: { type: "Sequence", decoders },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: unk,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges: generateMerges(pieces),
    },
  };
}

/** The tokenizer_config.json transformers would save beside it (special tokens, BOS/EOS flags). */
export function sentencePieceConfig(model: SentencePieceModel, config: Record<string, unknown> = {}): Record<string, unknown> {
  const t = model.trainerSpec;
  const name = (id: number) => (id >= 0 ? model.pieces[id]?.piece : undefined);
  return {
    tokenizer_class: "LlamaTokenizerFast",
    add_bos_token: true,
    add_eos_token: false,
    bos_token: name(t.bosId),
    eos_token: name(t.eosId),
    unk_token: name(t.unkId),
    ...(t.padId >= 0 ? { pad_token: name(t.padId) } : {}),
    ...config,
  };
}

/** Build a Tokenizer from the bytes of a SentencePiece tokenizer.model. */
export function tokenizerFromSentencePiece(bytes: Uint8Array, options: SentencePieceOptions = {}): Tokenizer {
  const model = readSentencePieceModel(bytes, options.file);
  const json = sentencePieceToTokenizerJSON(model, options);
  // The config (what transformers would save as tokenizer_config.json) names the special tokens
  // and carries add_bos_token/add_eos_token, which rebuild the same template the JSON holds.
  return tokenizerFromJSON(json, { config: sentencePieceConfig(model, options.config), file: options.file });
}

function tokenName(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as Record<string, unknown>).content === "string") return (v as Record<string, string>).content;
  return undefined;
}
