/**
 * Perplexity of a long text with a sliding window, as Hugging Face's guide defines it
 * ("Perplexity of fixed-length models", transformers docs, perplexity.md):
 *
 *   for begin in range(0, N, stride):
 *       end = min(begin + max_length, N);  trg_len = end − prev_end
 *       input = tokens[begin:end];  labels = input with all but the last trg_len set to −100
 *       loss over the labels the model scores after its internal shift (position 0 is never scored)
 *       prev_end = end;  stop when end == N
 *   ppl = exp(Σ NLL / number of scored tokens)
 *
 * So every token from the second on is scored exactly once, each with up to max_length − trg_len
 * tokens of extra left context (stride < max_length gives overlap: more context, more compute).
 * One deliberate difference: the guide weights each window's mean loss by (valid labels − 1), which
 * undercounts by one when the window's first label is masked (stride < max_length); here every
 * scored token counts once, so the result is exactly exp of the mean NLL over the scored tokens.
 *
 * `prefixToken` (BOS, else EOS) prepended to the text makes the first token scored too, as
 * lm-eval's loglikelihood_rolling does; word and byte normalisation (lm-eval wikitext's
 * word_perplexity, byte_perplexity, bits_per_byte) then cover the whole text.
 */
import type { Model } from "../model/types.js";
import { loglikelihoodTokens, type ScoreOptions, type TokenRequest } from "./logprobs.js";

/** The guide's windows as (context, scored continuation) token pairs; empty continuations dropped. */
export function slidingWindows(tokens: readonly number[], maxLength: number, stride: number): TokenRequest[] {
  if (!(Number.isInteger(maxLength) && maxLength >= 2)) throw new RangeError(`maxLength must be an integer ≥ 2, got ${maxLength}`);
  if (!(Number.isInteger(stride) && stride >= 1 && stride <= maxLength)) throw new RangeError(`stride must be an integer in [1, maxLength=${maxLength}], got ${stride}`);
  const out: TokenRequest[] = [];
  const N = tokens.length;
  let prevEnd = 0;
  for (let begin = 0; begin < N; begin += stride) {
    const end = Math.min(begin + maxLength, N);
    const trg = end - prevEnd;
    const input = tokens.slice(begin, end);
    const c = Math.max(1, input.length - trg);
    if (c < input.length) out.push({ context: input.slice(0, c), continuation: input.slice(c) });
    prevEnd = end;
    if (end === N) break;
  }
  return out;
}

export interface PerplexityOptions extends ScoreOptions {
  /** Window length in tokens (default the model's context window). */
  maxLength?: number;
  /** Step between window starts (default maxLength: disjoint windows). */
  stride?: number;
  /** Prepend BOS/EOS so the first token is scored too (default false, as the HF guide). */
  prefix?: boolean;
}

export interface PerplexityResult {
  /** Σ log p over the scored tokens (natural log). */
  loglikelihood: number;
  /** Tokens scored. */
  tokens: number;
  /** exp(−loglikelihood / tokens). */
  perplexity: number;
  /** Whitespace-separated words (lm-eval: len(re.split(r"\s+", text))) and UTF-8 bytes of the text. */
  words: number;
  bytes: number;
  wordPerplexity: number;
  bytePerplexity: number;
  bitsPerByte: number;
}

/** Token ids the windows run over: the text without special tokens, plus the prefix token if asked. */
export function perplexityTokens(model: Model, text: string, prefix: boolean): number[] {
  const ids = model.tokenizer.encode(text, { addSpecialTokens: false }).ids;
  const p = model.tokenizer.bosId ?? model.tokenizer.eosId;
  if (prefix && p === undefined) throw new RangeError("perplexity: prefix asked, but the tokenizer has neither BOS nor EOS");
  return prefix ? [p!, ...ids] : ids;
}

export function countWords(text: string): number {
  return text.split(/\s+/).length;
}

export function countBytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** Summarise a text's total loglikelihood over `tokens` scored tokens. */
export function perplexityFromLL(ll: number, tokens: number, text: string): PerplexityResult {
  const words = countWords(text);
  const bytes = countBytes(text);
  return {
    loglikelihood: ll,
    tokens,
    perplexity: Math.exp(-ll / tokens),
    words,
    bytes,
    wordPerplexity: Math.exp(-ll / words),
    bytePerplexity: Math.exp(-ll / bytes),
    bitsPerByte: -ll / bytes / Math.LN2,
  };
}

/** Sliding-window perplexity of `text` under `model`. */
export async function perplexity(model: Model, text: string, options: PerplexityOptions = {}): Promise<PerplexityResult> {
  const maxLength = Math.min(options.maxLength ?? model.config.nCtx, model.config.nCtx);
  const stride = options.stride ?? maxLength;
  const windows = slidingWindows(perplexityTokens(model, text, options.prefix ?? false), maxLength, stride);
  const scored = await loglikelihoodTokens(model, windows, options);
  let ll = 0;
  let n = 0;
  for (const s of scored) {
    ll += s.sum;
    n += s.logprobs.length;
  }
  return perplexityFromLL(ll, n, text);
}
