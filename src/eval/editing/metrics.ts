/**
 * Per-case editing metrics from the scores of the unedited ("pre") and edited ("post") models,
 * and their aggregates. Every metric has a name, a definition and a version (METRICS), stored
 * with the numbers.
 */
import type { EditCase } from "../../data/editing/case.js";
import { allTokensAccuracy, harmonicMean, magnitudeNew, magnitudeTrue, successNew, successTrue } from "./counterfact.js";
import { meanGenerationEntropy } from "./fluency.js";
import type { CaseScores } from "./score.js";
import { tfidfSimilarity, TfidfVectorizer } from "./tfidf.js";
import { localityAgreement } from "./token-accuracy.js";

export const METRICS = {
  efficacy_score: { version: 1, def: "ROME ES: mean over rewrite prompts of [P(target_new) > P(target_true)], P = exp(−mean token NLL)" },
  efficacy_magnitude: { version: 1, def: "ROME EM: mean of P(target_new) − P(target_true) on rewrite prompts" },
  paraphrase_score: { version: 1, def: "ROME PS: mean over paraphrase prompts of [P(target_new) > P(target_true)]" },
  paraphrase_magnitude: { version: 1, def: "ROME PM: mean of P(target_new) − P(target_true) on paraphrase prompts" },
  neighborhood_score: { version: 1, def: "ROME NS: mean over neighbourhood prompts of [P(target_true) > P(target_new)]" },
  neighborhood_magnitude: { version: 1, def: "ROME NM: mean of P(target_true) − P(target_new) on neighbourhood prompts" },
  rewrite_targets_correct: { version: 1, def: "MEMIT CounterFact rewrite_acc (summarize.py over test_batch_prediction's targets_correct): every target_new token is the argmax after the rewrite prompt" },
  paraphrase_targets_correct: { version: 1, def: "MEMIT CounterFact paraphrase_acc: mean over paraphrases of [every target_new token is the argmax]" },
  neighborhood_targets_correct: { version: 1, def: "MEMIT CounterFact neighborhood_acc: mean over neighbour prompts of [every target_true token is the argmax]" },
  reliability: { version: 1, def: "EasyEdit rewrite_acc = ROME/MEMIT zsRE rewrite_acc (eval_utils_zsre test_batch_prediction_acc): teacher-forced per-token accuracy of target_new after the rewrite prompt" },
  generalization: { version: 1, def: "EasyEdit rephrase_acc: per-token accuracy of target_new after the paraphrase prompts" },
  locality: { version: 1, def: "EasyEdit locality: agreement of edited vs unedited argmax tokens on locality prompt + answer" },
  portability: { version: 1, def: "EasyEdit portability: per-token accuracy of the portability answers" },
  generation_entropy: { version: 2, def: "ROME GE: mean over generations of (2/3·H2 + 4/3·H3)/2, word n-gram entropy in bits; generations of max_out_len tokens, prompt included (ROME: 100, top-k 5)" },
  attribute_similarity: { version: 1, def: "tf-idf cosine of the generations vs the case's attribute prompts completed with target_new, idf fitted on those texts over the dataset. Not ROME's RS (reference_score), which compares with Wikipedia snippets about other subjects having target_new, under a Wikipedia-fitted idf: that data is not available here" },
} as const;

/** The editing-pitfalls study's headline measures (eval/editing/seesaw.ts computes them), per case and as run means. */
export const SEESAW_METRICS = {
  "p_diff.woman.diff": { version: 1, def: "flextape single-token bias: change (post − pre) of the mean P(target_new) − P(target_true) over attribute prompts about women who hold target_new" },
  "p_diff.man.diff": { version: 1, def: "the same over attribute prompts about men" },
  "completion.gender_other.diff": { version: 1, def: "change in the fraction of sampled completions asserting a gender other than the subject's (pronouns, gendered words)" },
  "completion.gender_unasked.post": { version: 1, def: "fraction of completions after the edit asserting a gender the subject does not have and the edit did not ask for" },
  "completion.origin_other.diff": { version: 1, def: "change in the fraction of completions naming a country other than the subject's origin (country, demonym, city)" },
  "completion.origin_unasked.post": { version: 1, def: "fraction of completions after the edit naming a country that is neither the subject's origin nor the one the edit asked for" },
  "completion.mentions_new.post": { version: 1, def: "fraction of completions after the edit naming target_new" },
  "probe.correct.post": { version: 1, def: "cross-property probe after the edit: the probed property's argmax candidate (summed log-probability) is the subject's true one (flextape pair_single.py)" },
  "probe.p_true.diff": { version: 1, def: "change in P(true answer of the probed property), normalised over its candidates" },
} as const;

export type MetricName = keyof typeof METRICS;
export type MetricSet = Partial<Record<MetricName, number>>;

const mean = (xs: readonly number[]): number | undefined => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : undefined);

/**
 * The texts a case's generations should resemble here: its attribute prompts completed with
 * target_new (ROME's RS uses Wikipedia snippets instead; see attribute_similarity in METRICS).
 */
export function referenceTexts(c: EditCase): string[] {
  return c.attributePrompts.map((p) => `${p} ${c.request.targetNew}`);
}

/** A tf-idf vectorizer fitted on every case's reference texts (one document per text). */
export function referenceVectorizer(cases: readonly EditCase[]): TfidfVectorizer | undefined {
  const docs = cases.flatMap(referenceTexts);
  return docs.length ? new TfidfVectorizer(docs) : undefined;
}

/**
 * Metrics of one model's scores. `pre` (the unedited model's scores on the same case) is needed
 * for locality; without it locality is left out (the unedited model agrees with itself).
 */
export function caseMetrics(c: EditCase, s: CaseScores, pre?: CaseScores, vec?: TfidfVectorizer): MetricSet {
  const m: MetricSet = {
    efficacy_score: successNew(s.rewrite),
    efficacy_magnitude: magnitudeNew(s.rewrite),
    paraphrase_score: successNew(s.paraphrase),
    paraphrase_magnitude: magnitudeNew(s.paraphrase),
    neighborhood_score: successTrue(s.neighborhood),
    neighborhood_magnitude: magnitudeTrue(s.neighborhood),
    rewrite_targets_correct: allTokensAccuracy(s.rewrite, "new"),
    paraphrase_targets_correct: allTokensAccuracy(s.paraphrase, "new"),
    neighborhood_targets_correct: allTokensAccuracy(s.neighborhood, "true"),
    reliability: mean(s.reliability),
    generalization: mean(s.generalization),
    portability: mean(s.portability),
  };
  if (pre && s !== pre && s.localityArgmax.length) {
    m.locality = mean(s.localityArgmax.map((post, i) => localityAgreement(post, pre.localityArgmax[i]!)));
  }
  if (s.generations?.length) {
    m.generation_entropy = meanGenerationEntropy(s.generations);
    const refs = referenceTexts(c);
    if (vec && refs.length) m.attribute_similarity = tfidfSimilarity(s.generations.join(" "), refs.join(" "), vec);
  }
  for (const k of Object.keys(m) as MetricName[]) if (m[k] === undefined) delete m[k];
  return m;
}

export interface MetricSummary {
  mean: number;
  /** Population standard deviation over cases (np.std, ddof = 0, as rome/experiments/summarize.py). */
  std: number;
  n: number;
}

/** Mean ± std over cases of every metric present; plus ROME's score S = hmean(ES, PS, NS). */
export function aggregateMetrics(sets: readonly MetricSet[]): Record<string, MetricSummary> {
  const out: Record<string, MetricSummary> = {};
  for (const name of Object.keys(METRICS) as MetricName[]) {
    const xs = sets.map((s) => s[name]).filter((x): x is number => x !== undefined);
    if (!xs.length) continue;
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length;
    out[name] = { mean: m, std: Math.sqrt(v), n: xs.length };
  }
  return withScore(out);
}

/** Adds ROME's score S = hmean(ES, PS, NS) of the aggregated means, when all three are present. */
export function withScore(out: Record<string, MetricSummary>): Record<string, MetricSummary> {
  const parts = [out.efficacy_score, out.paraphrase_score, out.neighborhood_score];
  if (parts.every((p) => p !== undefined)) {
    out.score = { mean: harmonicMean(parts.map((p) => p!.mean)), std: NaN, n: Math.min(...parts.map((p) => p!.n)) };
  }
  return out;
}
