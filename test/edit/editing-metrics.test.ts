/** Golden tests of the editing metrics on hand-computed examples (src/eval/editing). */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  aggregateMetrics, allTokensAccuracy, caseMetrics, generationEntropy, harmonicMean, localityAgreement, magnitudeNew, magnitudeTrue,
  nGramEntropy, successNew, successTrue, tfidfSimilarity, TfidfVectorizer, tokenAccuracy, wordTokens, type CaseScores, type PairScore,
} from "../../src/eval/editing/index.js";
import { fwCase } from "./edit-fixtures.js";

const close = (a: number | undefined, b: number, tol = 1e-9) => assert.ok(a !== undefined && Math.abs(a - b) < tol, `${a} vs ${b}`);

// Two prompts: P(new) = 0.5 vs P(true) = 0.25 (success), and P(new) = 0.1 vs P(true) = 0.4 (failure).
const pairs: PairScore[] = [
  { nllNew: -Math.log(0.5), nllTrue: -Math.log(0.25), newCorrect: true, trueCorrect: false },
  { nllNew: -Math.log(0.1), nllTrue: -Math.log(0.4), newCorrect: false, trueCorrect: true },
];

test("ROME efficacy/paraphrase score and magnitude: mean of [P(new) > P(true)] and of P(new) − P(true)", () => {
  close(successNew(pairs), 0.5);
  close(magnitudeNew(pairs), ((0.5 - 0.25) + (0.1 - 0.4)) / 2); // −0.025
  assert.equal(successNew([]), undefined);
});

test("ROME neighbourhood score and magnitude: mean of [P(true) > P(new)] and of P(true) − P(new)", () => {
  close(successTrue(pairs), 0.5);
  close(magnitudeTrue(pairs), 0.025);
  close(successTrue([pairs[1]!]), 1);
});

test("all-tokens-correct accuracy reads the expected target's flag", () => {
  close(allTokensAccuracy(pairs, "new"), 0.5);
  close(allTokensAccuracy([pairs[0]!], "true"), 0);
});

test("score S is the harmonic mean (scipy.stats.hmean), 0 if any part is 0", () => {
  close(harmonicMean([1, 0.5, 0.25]), 3 / 7);
  assert.equal(harmonicMean([1, 0, 0.5]), 0);
});

test("generation entropy: mean(2/3·H2, 4/3·H3) in bits (ROME compute_n_gram_entropy)", () => {
  // "a b a b": bigrams ab, ba, ab → H2 = −(2/3 log2 2/3 + 1/3 log2 1/3) = 0.918296; trigrams aba, bab → H3 = 1.
  const h2 = -((2 / 3) * Math.log2(2 / 3) + (1 / 3) * Math.log2(1 / 3));
  close(nGramEntropy(["a", "b", "a", "b"], 2), h2);
  close(nGramEntropy(["a", "b", "a", "b"], 3), 1);
  close(generationEntropy("a b a b"), ((2 / 3) * h2 + (4 / 3) * 1) / 2);
  close(generationEntropy("a b a b"), 0.9727652, 1e-6);
  // A repetitive generation has low entropy: one distinct bigram and trigram.
  close(generationEntropy("x x x x x"), 0);
  assert.deepEqual(wordTokens("Aldo Venn, born in Kelmar."), ["Aldo", "Venn", ",", "born", "in", "Kelmar", "."]);
});

test("tf-idf similarity: smooth idf ln((1+n)/(1+df)) + 1, L2 rows, cosine (sklearn defaults)", () => {
  const vec = new TfidfVectorizer(["aa bb", "aa cc"]);
  // idf(aa) = 1, idf(bb) = idf(cc) = ln(3/2) + 1 = 1.405465; cos = 1 / (1 + 1.405465²) = 0.336097.
  const idf = Math.log(1.5) + 1;
  close(tfidfSimilarity("aa bb", "aa cc", vec), 1 / (1 + idf * idf));
  close(tfidfSimilarity("AA bb", "aa bb", vec), 1);
  // Single-character words are not terms (token_pattern \b\w\w+\b); unknown terms are ignored.
  close(tfidfSimilarity("a zz", "aa", vec), 0);
});

test("EasyEdit token accuracy and locality agreement", () => {
  close(tokenAccuracy([1, 2, 3, 4], [1, 9, 3, 9]), 0.5);
  close(localityAgreement([5, 6, 7], [5, 6, 8]), 2 / 3);
  assert.throws(() => tokenAccuracy([1], [1, 2]), RangeError);
});

test("caseMetrics maps scores to named metrics; locality needs the unedited scores", () => {
  const c = fwCase("0", "Aldo Venn", "Tovia", "Kelmar");
  const s: CaseScores = {
    rewrite: [pairs[0]!],
    paraphrase: pairs,
    neighborhood: [pairs[1]!],
    reliability: [1],
    generalization: [1, 0.5],
    localityArgmax: [[3, 4]],
    portability: [],
  };
  const pre: CaseScores = { ...s, localityArgmax: [[3, 5]] };
  const m = caseMetrics(c, s, pre);
  close(m.efficacy_score, 1);
  close(m.paraphrase_score, 0.5);
  close(m.neighborhood_score, 1);
  close(m.generalization, 0.75);
  close(m.locality, 0.5);
  assert.equal(m.portability, undefined);
  assert.equal(caseMetrics(c, s).locality, undefined);
});

test("aggregates: mean and population std over cases (np.std as ROME's summarize), S from the means", () => {
  const agg = aggregateMetrics([
    { efficacy_score: 1, paraphrase_score: 0.5, neighborhood_score: 1 },
    { efficacy_score: 0, paraphrase_score: 0.5, neighborhood_score: 0.5 },
  ]);
  close(agg.efficacy_score!.mean, 0.5);
  close(agg.efficacy_score!.std, 0.5);
  close(agg.neighborhood_score!.std, 0.25);
  close(agg.score!.mean, harmonicMean([0.5, 0.5, 0.75]));
  assert.equal(agg.locality, undefined);
});
