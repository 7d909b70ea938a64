/** What every tokenizer.json `model` (BPE, WordLevel) provides to the pipeline. */
export interface TokenSink {
  ids: number[];
  /** [start, end) in code units of the piece that was tokenized. */
  starts: number[];
  ends: number[];
}

export interface TokenizerModel {
  /** Append the tokens of one pre-tokenized piece to `out`. */
  tokenize(piece: string, out: TokenSink): void;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** Largest id + 1. */
  readonly size: number;
  /** The model section of a tokenizer.json. */
  toJSON(): unknown;
}

/** Read a `vocab` object {token: id} into forward and reverse maps. */
export function readVocab(vocab: Record<string, number>): { map: Map<string, number>; rev: string[]; size: number } {
  const map = new Map<string, number>();
  const rev: string[] = [];
  let size = 0;
  for (const [tok, id] of Object.entries(vocab)) {
    map.set(tok, id);
    rev[id] = tok;
    if (id + 1 > size) size = id + 1;
  }
  return { map, rev, size };
}
