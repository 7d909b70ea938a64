/**
 * Token rows for dictionary training and evaluation (SAELens `context_size` + `prepend_bos`): the
 * texts' tokens are concatenated into one stream and cut into rows of contextSize − 1 tokens, each
 * row starting with BOS (when the tokenizer has one), so every row is a full context.
 */
import type { Tokenizer } from "../io/tokenizer/types.js";

export function tokenRows(tok: Tokenizer, texts: readonly string[], contextSize: number, maxRows = Infinity): number[][] {
  const bos = tok.bosId;
  const body = bos === undefined ? contextSize : contextSize - 1;
  const rows: number[][] = [];
  let cur: number[] = [];
  for (const t of texts) {
    for (const id of tok.encode(t, { addSpecialTokens: false }).ids) {
      cur.push(id);
      if (cur.length === body) {
        rows.push(bos === undefined ? cur : [bos, ...cur]);
        cur = [];
        if (rows.length >= maxRows) return rows;
      }
    }
  }
  return rows;
}
