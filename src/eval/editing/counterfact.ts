/**
 * ROME / MEMIT CounterFact metrics (Meng et al. 2022, "Locating and Editing Factual Associations in
 * GPT", §3 / Table 4; MEMIT, Meng et al. 2023), computed as the reference code does:
 *
 * rome/experiments/py/eval_utils_counterfact.py test_batch_prediction scores each prompt with
 *   nll(o) = −(1/|o|) Σ_j log p(o_j | prompt, o_<j)        (target tokenised as " " + o)
 * i.e. the mean token negative log-likelihood, for o = target_new and o = target_true, and records
 * whether every token of the expected target is the argmax ("targets_correct").
 *
 * rome/experiments/summarize.py then reports, per case (mean over that case's prompts) and then
 * mean ± std over cases:
 *   efficacy / paraphrase score       ES, PS = mean[ nll(true) > nll(new) ]       (P[new] > P[true])
 *   efficacy / paraphrase magnitude   EM, PM = mean[ exp(−nll(new)) − exp(−nll(true)) ]
 *   neighbourhood score               NS     = mean[ nll(true) < nll(new) ]       (P[true] > P[new])
 *   neighbourhood magnitude           NM     = mean[ exp(−nll(true)) − exp(−nll(new)) ]
 *   accuracy (zsRE-style, "_acc")            = mean[ every target token is the argmax ]
 *   score S = harmonic mean(ES, PS, NS) of the aggregated means (scipy.stats.hmean).
 * exp(−mean NLL) is the geometric-mean token probability, which is what "P" means in these tables.
 */

/** Mean-token NLLs of the two targets after one prompt, and all-tokens-argmax flags. */
export interface PairScore {
  /** −mean log p(target_new tokens | prompt). */
  nllNew: number;
  /** −mean log p(target_true tokens | prompt). */
  nllTrue: number;
  /** Every token of target_new is the argmax (teacher-forced). */
  newCorrect: boolean;
  /** Every token of target_true is the argmax. */
  trueCorrect: boolean;
}

const avg = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/** ES / PS for one case: fraction of prompts where P[new] > P[true]; undefined without prompts. */
export function successNew(pairs: readonly PairScore[]): number | undefined {
  return pairs.length ? avg(pairs.map((p) => (p.nllTrue > p.nllNew ? 1 : 0))) : undefined;
}

/** EM / PM: mean of P[new] − P[true] (geometric-mean token probabilities). */
export function magnitudeNew(pairs: readonly PairScore[]): number | undefined {
  return pairs.length ? avg(pairs.map((p) => Math.exp(-p.nllNew) - Math.exp(-p.nllTrue))) : undefined;
}

/** NS: fraction of neighbourhood prompts where P[true] > P[new]. */
export function successTrue(pairs: readonly PairScore[]): number | undefined {
  return pairs.length ? avg(pairs.map((p) => (p.nllTrue < p.nllNew ? 1 : 0))) : undefined;
}

/** NM: mean of P[true] − P[new]. */
export function magnitudeTrue(pairs: readonly PairScore[]): number | undefined {
  return pairs.length ? avg(pairs.map((p) => Math.exp(-p.nllTrue) - Math.exp(-p.nllNew))) : undefined;
}

/** All-tokens-correct accuracy of the expected target (new for rewrite/paraphrase, true for neighbourhood). */
export function allTokensAccuracy(pairs: readonly PairScore[], expected: "new" | "true"): number | undefined {
  return pairs.length ? avg(pairs.map((p) => ((expected === "new" ? p.newCorrect : p.trueCorrect) ? 1 : 0))) : undefined;
}

/**
 * Harmonic mean (scipy.stats.hmean): n / Σ 1/x; 0 when any value is 0 (scipy's limit). Used for
 * the score S over the aggregated ES, PS, NS.
 */
export function harmonicMean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  if (xs.some((x) => x < 0 || !Number.isFinite(x))) throw new RangeError(`harmonic mean needs non-negative finite values, got ${xs}`);
  if (xs.some((x) => x === 0)) return 0;
  return xs.length / xs.reduce((s, x) => s + 1 / x, 0);
}
