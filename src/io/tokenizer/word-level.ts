/**
 * The WordLevel model of tokenizer.json (HF tokenizers/src/models/wordlevel/mod.rs): each
 * pre-tokenized piece is looked up whole; a piece not in the vocabulary becomes unk_token
 * (default "<unk>"), and without one encoding fails.
 */
import { TokenizerError } from "../../errors.js";
import { readVocab, type TokenizerModel, type TokenSink } from "./model.js";

export class WordLevel implements TokenizerModel {
  readonly size: number;
  private readonly vocab: Map<string, number>;
  private readonly rev: string[];
  private readonly unkToken: string;

  constructor(private readonly spec: Record<string, unknown>, private readonly file?: string) {
    const v = readVocab((spec.vocab ?? {}) as Record<string, number>);
    this.vocab = v.map;
    this.rev = v.rev;
    this.size = v.size;
    this.unkToken = typeof spec.unk_token === "string" ? spec.unk_token : "<unk>";
  }

  tokenize(piece: string, out: TokenSink): void {
    if (piece.length === 0) return;
    const id = this.vocab.get(piece) ?? this.vocab.get(this.unkToken);
    if (id === undefined) {
      throw new TokenizerError("TOKENIZER_NO_UNK", `${JSON.stringify(piece)} is not in the WordLevel vocabulary and there is no unk token`, {
        file: this.file,
        field: "model.unk_token",
        fix: `add ${JSON.stringify(this.unkToken)} to the vocabulary or set model.unk_token`,
      });
    }
    out.ids.push(id);
    out.starts.push(0);
    out.ends.push(piece.length);
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.rev[id];
  }

  toJSON(): unknown {
    return this.spec;
  }
}
