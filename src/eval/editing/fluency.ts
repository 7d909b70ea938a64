/**
 * Generation entropy (ROME's "fluency", GE): the weighted n-gram entropy of generated text.
 *
 * Reference: rome/experiments/py/eval_utils_counterfact.py compute_n_gram_entropy, with its
 * defaults ns = [2, 3], weights = [2/3, 4/3], agg = "arith":
 *   H_n = −Σ_g f(g) log2 f(g)   over the frequency distribution of word n-grams g of the text
 *   GE(text) = mean(2/3 · H_2, 4/3 · H_3) = H_2/3 + 2·H_3/3
 * (the "H₂/3 + 2H₃/3" is this). n_gram_entropy averages GE over the generated texts.
 * Words come from nltk.word_tokenize in the reference; here from wordTokens below (words and
 * punctuation marks as separate tokens), which equals it on the fact world's space-separated text
 * where punctuation is already its own word.
 */

/** Word and punctuation tokens (a simplified nltk.word_tokenize: splits off punctuation marks). */
export function wordTokens(text: string): string[] {
  return text.match(/[\p{L}\p{N}_]+(?:['’][\p{L}]+)*|[^\s\p{L}\p{N}_]/gu) ?? [];
}

/** Entropy in bits of the n-gram frequency distribution of `tokens` (0 when there are no n-grams). */
export function nGramEntropy(tokens: readonly string[], n: number): number {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join("\u0000");
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let total = 0;
  for (const c of counts.values()) total += c;
  let h = 0;
  for (const c of counts.values()) {
    const f = c / total;
    h -= f * Math.log2(f);
  }
  return h;
}

/** ROME's compute_n_gram_entropy of one text: mean(2/3·H_2, 4/3·H_3). */
export function generationEntropy(text: string): number {
  const tokens = wordTokens(text);
  return (((2 / 3) * nGramEntropy(tokens, 2)) + ((4 / 3) * nGramEntropy(tokens, 3))) / 2;
}

/** ROME's n_gram_entropy: the arithmetic mean of generationEntropy over texts. */
export function meanGenerationEntropy(texts: readonly string[]): number {
  if (texts.length === 0) return NaN;
  return texts.reduce((s, t) => s + generationEntropy(t), 0) / texts.length;
}
