/**
 * The fact world's tokenizer: word level over the world's vocabulary (whitespace split), written
 * as a standard tokenizer.json. BOS is added to every encoded text, as Llama's tokenizer does, and
 * training documents end with EOS.
 */
import { wordLevelTokenizer } from "../../io/tokenizer/index.js";
import type { Tokenizer } from "../../io/tokenizer/types.js";
import type { FactWorld } from "./types.js";

export const SPECIALS = { bos: "<s>", eos: "</s>", pad: "<pad>", unk: "<unk>" } as const;

export function factWorldTokenizer(world: FactWorld): Tokenizer {
  return wordLevelTokenizer(world.vocabulary, { ...SPECIALS, addBos: true });
}
