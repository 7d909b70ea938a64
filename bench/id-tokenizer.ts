/**
 * A stand-in tokenizer for benchmarks on random weights: ids print as "<id>", and a text written
 * that way ("<12><5><7>") encodes back to its ids, so code that takes texts (covariance
 * statistics) can be fed chosen token ids.
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
    encode: (text) => {
      const ids = [...text.matchAll(/<(\d+)>/g)].map((m) => Number(m[1]));
      if (ids.length === 0 && text.length > 0) unsupported();
      return { ids, offsets: ids.map(() => [0, 0] as [number, number]) };
    },
    encodeBatch: unsupported,
    decode: (ids) => ids.map((i) => `<${i}>`).join(""),
    tokenToId: (t) => (/^<\d+>$/.test(t) ? Number(t.slice(1, -1)) : undefined),
    idToToken: (i) => `<${i}>`,
    toJSON: () => ({}),
  };
}
