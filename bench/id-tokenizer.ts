/**
 * A stand-in tokenizer for benchmarks on random weights: the bench feeds token ids directly, so
 * only decode (to fill generate()'s texts) is ever called; ids print as "<id>".
 */
import type { Tokenizer } from "../src/io/tokenizer/types.js";

export function idTokenizer(vocabSize: number): Tokenizer {
  const unsupported = (): never => {
    throw new Error("bench tokenizer: text encoding is not available; pass token ids");
  };
  return {
    vocabSize,
    bosId: undefined,
    eosId: undefined,
    padId: 0,
    encode: unsupported,
    encodeBatch: unsupported,
    decode: (ids) => ids.map((i) => `<${i}>`).join(""),
    tokenToId: (t) => (/^<\d+>$/.test(t) ? Number(t.slice(1, -1)) : undefined),
    idToToken: (i) => `<${i}>`,
    toJSON: () => ({}),
  };
}
