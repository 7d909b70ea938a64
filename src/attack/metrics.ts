/**
 * Attack outcome per example and over a set: perplexity of the target continuation before and
 * after the attack (exp of the mean target NLL), relative degradation (after − before) / before,
 * and success = degradation above a threshold (default 15%, the monotone-robustness study's).
 */

export const DEFAULT_SUCCESS_THRESHOLD = 0.15;

export interface AttackRecord {
  id: string;
  pplBefore: number;
  pplAfter: number;
  /** (pplAfter − pplBefore) / pplBefore. */
  degradation: number;
  success: boolean;
}

export function attackRecord(id: string, lossBefore: number, lossAfter: number, threshold = DEFAULT_SUCCESS_THRESHOLD): AttackRecord {
  const pplBefore = Math.exp(lossBefore);
  const pplAfter = Math.exp(lossAfter);
  const degradation = (pplAfter - pplBefore) / pplBefore;
  return { id, pplBefore, pplAfter, degradation, success: degradation > threshold };
}

export interface AttackSummary {
  n: number;
  /** Fraction of examples whose degradation exceeds the threshold. */
  successRate: number;
  meanDegradation: number;
  /** Median over examples: the mean is dominated by a few examples whose target becomes near-impossible. */
  medianDegradation: number;
  /** Mean over examples of the perplexity before / after. */
  meanPplBefore: number;
  meanPplAfter: number;
  threshold: number;
}

export function summarizeAttack(records: readonly AttackRecord[], threshold = DEFAULT_SUCCESS_THRESHOLD): AttackSummary {
  const n = records.length;
  const mean = (f: (r: AttackRecord) => number) => (n ? records.reduce((s, r) => s + f(r), 0) / n : NaN);
  const sorted = records.map((r) => r.degradation).sort((a, b) => a - b);
  const medianDegradation = n === 0 ? NaN : n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return { n, successRate: mean((r) => (r.success ? 1 : 0)), meanDegradation: mean((r) => r.degradation), medianDegradation, meanPplBefore: mean((r) => r.pplBefore), meanPplAfter: mean((r) => r.pplAfter), threshold };
}
