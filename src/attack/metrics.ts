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
  /** Mean over examples of the perplexity before / after. */
  meanPplBefore: number;
  meanPplAfter: number;
  threshold: number;
}

export function summarizeAttack(records: readonly AttackRecord[], threshold = DEFAULT_SUCCESS_THRESHOLD): AttackSummary {
  const n = records.length;
  const mean = (f: (r: AttackRecord) => number) => (n ? records.reduce((s, r) => s + f(r), 0) / n : NaN);
  return { n, successRate: mean((r) => (r.success ? 1 : 0)), meanDegradation: mean((r) => r.degradation), meanPplBefore: mean((r) => r.pplBefore), meanPplAfter: mean((r) => r.pplAfter), threshold };
}
