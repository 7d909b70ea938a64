/**
 * Attacks over an example set, as the robustness pipeline runs them (lab/kinds/monotone.ts) and a
 * script would: each example is a prompt and the continuation whose perplexity the attack raises;
 * per-example records (perplexity before/after, degradation, success) and their summary.
 */
import { encodePrompt } from "../edit/tokens.js";
import type { Model } from "../model/types.js";
import { hotflip, type HotFlipOptions } from "./hotflip.js";
import { attackRecord, summarizeAttack, type AttackRecord, type AttackSummary } from "./metrics.js";
import { rowLosses, type AttackRow } from "./objective.js";
import { universalTrigger, withTrigger, type UatOptions, type UatStep } from "./uat.js";

export interface AttackExample {
  prompt: string;
  /** The continuation whose loss the attack raises (scored after " "). */
  target: string;
}

/** Token rows of examples: prompt (with the tokenizer's special tokens) + " " + target. */
export function attackRows(model: Model, examples: readonly AttackExample[]): AttackRow[] {
  const tok = model.tokenizer;
  const enc = (t: string) => encodePrompt(tok, t);
  return examples.map((e) => {
    const prompt = enc(e.prompt);
    const whole = enc(`${e.prompt} ${e.target}`);
    const aligned = whole.length > prompt.length && prompt.every((t, i) => whole[i] === t);
    // A tokenizer that merges across the boundary: the target encoded alone after the prompt.
    const tokens = aligned ? whole : [...prompt, ...tok.encode(` ${e.target}`, { addSpecialTokens: false }).ids];
    return { tokens, targetStart: prompt.length };
  });
}

export interface AttackSetResult {
  records: AttackRecord[];
  summary: AttackSummary;
}

export async function hotflipSet(model: Model, rows: readonly AttackRow[], options: HotFlipOptions, threshold?: number): Promise<AttackSetResult & { flips: number[][] }> {
  const records: AttackRecord[] = [];
  const flips: number[][] = [];
  for (const [i, row] of rows.entries()) {
    const r = await hotflip(model, row, options);
    records.push(attackRecord(String(i), r.lossBefore, r.lossAfter, threshold));
    flips.push(r.flips.map((f) => f.position));
  }
  return { records, summary: summarizeAttack(records, threshold), flips };
}

/**
 * A universal trigger searched on `searchRows` and applied to `evalRows` (held-out examples, so
 * the success rate measures a trigger that transfers, as Wallace et al. report it); records are
 * per evaluated example.
 */
export async function uatSet(model: Model, searchRows: readonly AttackRow[], evalRows: readonly AttackRow[], options: UatOptions, threshold?: number): Promise<AttackSetResult & { trigger: number[]; triggerText: string; history: UatStep[] }> {
  const r = await universalTrigger(model, searchRows, options);
  const bos = model.tokenizer.bosId;
  const before = await rowLosses(model, evalRows);
  const after = await rowLosses(model, evalRows.map((x) => withTrigger(x, r.trigger, bos)));
  const records = before.map((b, i) => attackRecord(String(i), b, after[i]!, threshold));
  return { records, summary: summarizeAttack(records, threshold), trigger: r.trigger, triggerText: model.tokenizer.decode(r.trigger), history: r.history };
}
