/** The tokenizer layer's public surface (pure parts; the Node file loader is in node.ts). */
export type { BatchEncoding, EncodeOptions, Encoding, Tokenizer } from "./types.js";
export { tokenizerFromJSON, type TokenizerFromJSONOptions } from "./tokenizer.js";
export {
  tokenizerFromSentencePiece,
  readSentencePieceModel,
  sentencePieceToTokenizerJSON,
  type SentencePieceModel,
  type SentencePieceOptions,
} from "./sentencepiece.js";
export { wordLevelTokenizer, type WordLevelSpecials } from "./word-level-builder.js";
// Node-only when called (it imports node:fs lazily), so importing this module stays browser-safe.
export { loadTokenizer } from "./node.js";
