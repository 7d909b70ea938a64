/**
 * Reference consistency (ROME's RS / "reference_score"): the tf-idf cosine similarity between the
 * concatenated generated texts and the concatenated reference texts about the new target.
 *
 * Reference: rome/experiments/py/eval_utils_counterfact.py tfidf_similarity(text_a, text_b, vec)
 * = cos(vec.transform([a, b])), where vec is a scikit-learn TfidfVectorizer whose idf and
 * vocabulary ROME fits on Wikipedia (dsets/tfidf_stats.py). Its defaults, reproduced here:
 * lowercase, token_pattern (?u)\b\w\w+\b (words of ≥ 2 characters), raw term counts,
 * smooth idf(t) = ln((1 + n) / (1 + df(t))) + 1, rows L2-normalised; terms outside the
 * fitted vocabulary are ignored.
 *
 * scalpel has no Wikipedia snippets: the idf is fitted on the texts at hand — each case's reference
 * texts (its attribute prompts completed with target_new, i.e. statements about subjects that truly
 * have the new object) as one document per text, over every case of the evaluated dataset. The
 * metric is therefore named attribute_similarity, not reference_score (metrics.ts): the tf-idf and
 * cosine are ROME's, the texts compared against and the idf corpus are not.
 */

export function tfidfTerms(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}_]{2,}/gu) ?? []);
}

export class TfidfVectorizer {
  readonly vocabulary = new Map<string, number>();
  private idf: number[] = [];

  /** Fit the vocabulary and smooth idf on `documents`. */
  constructor(documents: readonly string[]) {
    const df = new Map<string, number>();
    for (const doc of documents) for (const t of new Set(tfidfTerms(doc))) df.set(t, (df.get(t) ?? 0) + 1);
    const terms = [...df.keys()].sort();
    const n = documents.length;
    terms.forEach((t, i) => this.vocabulary.set(t, i));
    this.idf = terms.map((t) => Math.log((1 + n) / (1 + df.get(t)!)) + 1);
  }

  /** L2-normalised tf-idf vector of one text (all zeros when no term is in the vocabulary). */
  transform(text: string): Float64Array {
    const v = new Float64Array(this.vocabulary.size);
    for (const t of tfidfTerms(text)) {
      const i = this.vocabulary.get(t);
      if (i !== undefined) v[i]! += 1;
    }
    let norm = 0;
    for (let i = 0; i < v.length; i++) {
      v[i] = v[i]! * this.idf[i]!;
      norm += v[i]! * v[i]!;
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (let i = 0; i < v.length; i++) v[i] = v[i]! / norm;
    return v;
  }
}

/**
 * ROME's tfidf_similarity: cosine of the two tf-idf vectors. A text with no known term has a zero
 * vector; the reference then divides by zero (NaN) — here the similarity is 0 in that case.
 */
export function tfidfSimilarity(a: string, b: string, vec: TfidfVectorizer): number {
  const x = vec.transform(a);
  const y = vec.transform(b);
  let dot = 0;
  for (let i = 0; i < x.length; i++) dot += x[i]! * y[i]!;
  return dot;
}
