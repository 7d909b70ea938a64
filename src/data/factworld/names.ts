/**
 * Invented names: capitalised syllable strings that are no English word, so what the model knows
 * about them comes only from the fact world. Drawn without repetition from one seeded stream.
 */
import type { Rng } from "../../util/rng.js";

const ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "kr", "th", "sh", "v", "qu"];
const VOWELS = ["a", "e", "i", "o", "u", "ae", "ei", "ou"];
const CODAS = ["", "", "n", "r", "l", "s", "th", "x", "m"];

function syllable(rng: Rng): string {
  return ONSETS[rng.int(ONSETS.length)]! + VOWELS[rng.int(VOWELS.length)]! + CODAS[rng.int(CODAS.length)]!;
}

/** `n` distinct names of `syllables` syllables plus an optional suffix, none in `taken` (which grows). */
export function inventNames(rng: Rng, n: number, syllables: number, taken: Set<string>, suffix = ""): string[] {
  const out: string[] = [];
  while (out.length < n) {
    let w = "";
    for (let i = 0; i < syllables; i++) w += syllable(rng);
    w = w.charAt(0).toUpperCase() + w.slice(1) + suffix;
    if (w.length < 4 || w.length > 11 || taken.has(w)) continue;
    taken.add(w);
    out.push(w);
  }
  return out;
}
