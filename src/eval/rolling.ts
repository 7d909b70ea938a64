/**
 * Log-likelihood of whole texts longer than the context window (perplexity), as
 * lm-evaluation-harness's loglikelihood_rolling computes it (HFLM.loglikelihood_rolling with
 * lm_eval/utils.py get_rolling_token_windows + make_disjoint_window, context_len = 1):
 * the text is encoded without special tokens; the first window predicts the first max_len tokens
 * from [prefix] + tokens; each later window predicts the next max_len tokens, conditioned on the
 * tokens just before them; every token is predicted exactly once. The windows are then scored by
 * loglikelihoodTokens and summed.
 */
import { UsageError } from "../errors.js";
import type { Model } from "../model/types.js";
import { loglikelihoodTokens, type ScoreOptions, type TokenRequest } from "./logprobs.js";

/** get_rolling_token_windows(tokens, prefix, maxSeqLen, contextLen) made disjoint (make_disjoint_window). */
export function rollingTokenWindows(tokens: readonly number[], prefixToken: number, maxSeqLen: number, contextLen = 1): TokenRequest[] {
  if (!(Number.isInteger(contextLen) && contextLen >= 1 && contextLen <= maxSeqLen)) {
    throw new RangeError(`contextLen must be an integer in [1, maxSeqLen], got ${contextLen}`);
  }
  const windows: [number[], number[]][] = [];
  if (tokens.length === 0) return [];
  const predLen = maxSeqLen - contextLen + 1; // +1: inputs are shifted by one from predictions
  const first = Math.min(maxSeqLen, tokens.length);
  windows.push([[prefixToken, ...tokens.slice(0, first - 1)], tokens.slice(0, first)]);
  let predicted = first;
  while (predicted < tokens.length) {
    const n = Math.min(tokens.length - predicted, predLen);
    const end = predicted + n;
    windows.push([tokens.slice(Math.max(0, end - maxSeqLen - 1), end - 1), tokens.slice(end - n, end)]);
    predicted += n;
  }
  // make_disjoint_window: drop the context tokens that are also predicted in the window.
  return windows.map(([a, b]) => ({ context: a.slice(0, a.length - (b.length - 1)), continuation: b }));
}

export interface RollingResult {
  /** Total log-likelihood of the text (natural log). */
  sum: number;
  /** Number of tokens predicted (= tokens in the text). */
  tokens: number;
  /** Per-token log-probabilities, in text order. */
  logprobs: number[];
}

/** Log-likelihood of each whole text; `maxLength` defaults to the model's context window. */
export async function loglikelihoodRolling(model: Model, texts: string[], options: ScoreOptions & { maxLength?: number } = {}): Promise<RollingResult[]> {
  const maxLen = Math.min(options.maxLength ?? model.config.nCtx, model.config.nCtx);
  const prefix = model.tokenizer.bosId ?? model.tokenizer.eosId;
  if (prefix === undefined) {
    throw new UsageError("NO_PREFIX_TOKEN", "rolling log-likelihood needs a BOS or EOS token to condition the first token on, and the tokenizer has neither");
  }
  const perText = texts.map((t) => rollingTokenWindows(model.tokenizer.encode(t, { addSpecialTokens: options.addSpecialTokens ?? false }).ids, prefix, maxLen));
  const scored = await loglikelihoodTokens(model, perText.flat(), options);
  let k = 0;
  return perText.map((windows) => {
    const logprobs = windows.flatMap(() => scored[k++]!.logprobs);
    return { sum: logprobs.reduce((s, x) => s + x, 0), tokens: logprobs.length, logprobs };
  });
}
