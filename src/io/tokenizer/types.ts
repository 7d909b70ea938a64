/** The tokenizer contract every other layer codes against. */

export interface Encoding {
  ids: number[];
  /** [start, end) character offsets (UTF-16 code units) of each token in the input text. */
  offsets: [number, number][];
}

export interface BatchEncoding {
  /** [batch][pos], padded to the longest row with `padId`. */
  ids: number[][];
  /** [batch][pos], 1 for real tokens, 0 for padding. */
  attentionMask: number[][];
}

export interface EncodeOptions {
  /** Add BOS/EOS as the tokenizer's post-processor / tokenizer_config.json says. Default true. */
  addSpecialTokens?: boolean;
  /**
   * Put the BOS token first even when the post-processor would not (GPT-2 style models evaluated
   * TransformerLens-style with prepend_bos). No effect when the ids already start with BOS or the
   * tokenizer has no BOS token. Default false.
   */
  prependBos?: boolean;
}

export interface Tokenizer {
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly padId: number | undefined;
  encode(text: string, options?: EncodeOptions): Encoding;
  encodeBatch(texts: string[], options?: EncodeOptions & { padding?: "left" | "right" }): BatchEncoding;
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** A standard Hugging Face tokenizer.json describing this tokenizer (for saving checkpoints). */
  toJSON(): unknown;
  /**
   * The tokenizer_config.json to save beside toJSON() (special-token roles, add_bos_token …),
   * without which a reloaded tokenizer would not know its BOS/EOS/pad ids. Optional in the
   * contract so that hand-written test tokenizers need not provide it.
   */
  toConfigJSON?(): Record<string, unknown>;
}
