/**
 * A small whitespace-split word-level tokenizer built in code: for toy models, tests and
 * synthetic tasks. It is an ordinary tokenizer.json (WordLevel model, WhitespaceSplit
 * pre-tokenizer), so `toJSON()` saves it like any Hugging Face tokenizer.
 */
import { TokenizerError } from "../../errors.js";
import { templateFor, tokenizerFromJSON } from "./tokenizer.js";
import type { Tokenizer } from "./types.js";

export interface WordLevelSpecials {
  bos?: string;
  eos?: string;
  pad?: string;
  unk?: string;
  /** Add BOS before every encoding (needs `bos`). Default false. */
  addBos?: boolean;
  /** Add EOS after every encoding (needs `eos`). Default false. */
  addEos?: boolean;
}

/**
 * `vocab[i]` gets id i; special tokens missing from `vocab` are appended after it. Specials are
 * matched anywhere in the text (as added special tokens) and skipped by decode's
 * skipSpecialTokens. Decoding joins words with single spaces.
 */
export function wordLevelTokenizer(vocab: readonly string[], specials: WordLevelSpecials = {}): Tokenizer {
  const ids = new Map<string, number>();
  for (const w of vocab) {
    if (ids.has(w)) throw new TokenizerError("TOKENIZER_VOCAB", `word ${JSON.stringify(w)} appears twice in the vocabulary`, { field: "vocab", fix: "deduplicate the word list" });
    if (w === "" || /\s/u.test(w)) throw new TokenizerError("TOKENIZER_VOCAB", `word ${JSON.stringify(w)} is empty or contains whitespace, so it can never be produced`, { field: "vocab", fix: "use whitespace-free words" });
    ids.set(w, ids.size);
  }
  const names = [specials.bos, specials.eos, specials.pad, specials.unk].filter((s): s is string => s !== undefined);
  for (const s of names) if (!ids.has(s)) ids.set(s, ids.size);
  const added = [...new Set(names)].map((content) => ({ id: ids.get(content)!, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  if (specials.addBos && specials.bos === undefined) throw new TokenizerError("TOKENIZER_CONFIG", "addBos needs a bos token", { field: "bos" });
  if (specials.addEos && specials.eos === undefined) throw new TokenizerError("TOKENIZER_CONFIG", "addEos needs an eos token", { field: "eos" });
  const json = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added.sort((a, b) => a.id - b.id),
    normalizer: null,
    pre_tokenizer: { type: "WhitespaceSplit" },
    post_processor: templateFor(
      specials.addBos ? [specials.bos!, ids.get(specials.bos!)!] : null,
      specials.addEos ? [specials.eos!, ids.get(specials.eos!)!] : null,
    ),
    decoder: null,
    model: { type: "WordLevel", vocab: Object.fromEntries(ids), unk_token: specials.unk ?? "<unk>" },
  };
  const config: Record<string, unknown> = {};
  if (specials.bos !== undefined) config.bos_token = specials.bos;
  if (specials.eos !== undefined) config.eos_token = specials.eos;
  if (specials.pad !== undefined) config.pad_token = specials.pad;
  if (specials.unk !== undefined) config.unk_token = specials.unk;
  return tokenizerFromJSON(json, { config });
}
