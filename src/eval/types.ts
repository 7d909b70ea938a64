/**
 * The evaluation harness's data model, after lm-evaluation-harness (lm_eval/api/instance.py,
 * lm_eval/api/task.py): a task turns each document into one or more *requests* to the model
 * (loglikelihood of a continuation, or generation until a stop string), and turns the model's
 * *responses* back into per-document metric values, which an aggregation reduces to one number.
 *
 * Requests are plain data, so they hash (the request cache key), print (the exact prompt of every
 * request is recoverable) and deduplicate across tasks.
 */

/** log p(continuation | context), lm-eval's `loglikelihood` request. */
export interface LoglikelihoodRequest {
  type: "loglikelihood";
  context: string;
  continuation: string;
  /**
   * Score only the first N tokens of the encoded continuation (e.g. 1: "greedy first answer token",
   * which is lm-eval's is_greedy on a one-token answer). Absent: the whole continuation.
   */
  firstTokens?: number;
  /**
   * Encode with the tokenizer's special tokens (BOS), lm-eval's add_bos_token. Absent/false: no
   * special tokens, lm-eval's default for causal models.
   */
  addSpecialTokens?: boolean;
}

/** The same on token ids (perplexity windows of an already tokenized text). */
export interface TokenLoglikelihoodRequest {
  type: "loglikelihood_tokens";
  context: number[];
  continuation: number[];
}

/** lm-eval's `generate_until`: greedy decoding until a stop string, the EOS token or maxNewTokens. */
export interface GenerateRequest {
  type: "generate_until";
  context: string;
  until: string[];
  maxNewTokens: number;
  /** As LoglikelihoodRequest.addSpecialTokens. */
  addSpecialTokens?: boolean;
}

/**
 * Log-likelihood of a whole text with the sliding window of perplexity.ts (the Hugging Face guide's
 * windows; `prefix`: BOS/EOS first, so every token of the text is scored, as lm-eval's
 * loglikelihood_rolling). maxLength absent: the model's context window; stride absent: maxLength / 2.
 */
export interface PerplexityRequest {
  type: "perplexity";
  text: string;
  maxLength?: number;
  stride?: number;
  prefix: boolean;
  /**
   * true: lm-eval's loglikelihood_rolling windows instead (rolling.ts rollingTokenWindows: disjoint
   * windows of maxLength tokens, the first token conditioned on BOS/EOS; stride and prefix unused).
   */
  rolling?: boolean;
}

export type Request = LoglikelihoodRequest | TokenLoglikelihoodRequest | GenerateRequest | PerplexityRequest;

export interface LoglikelihoodResponse {
  type: "loglikelihood";
  /** Summed natural-log probability of the scored continuation tokens. */
  ll: number;
  /** Every scored token was the argmax at its position. */
  isGreedy: boolean;
  /** Number of tokens scored. */
  nTokens: number;
}

export interface GenerateResponse {
  type: "generate_until";
  /** The continuation, cut before the first stop string (special tokens skipped). */
  text: string;
}

export interface PerplexityResponse {
  type: "perplexity";
  /** Σ log p over the scored tokens. */
  ll: number;
  nTokens: number;
}

export type Response = LoglikelihoodResponse | GenerateResponse | PerplexityResponse;

/**
 * A per-document metric value: a number (mean-aggregated: acc, exact_match), or a pair for
 * weighted aggregations (lm-eval's weighted_perplexity / bits_per_byte take (loglikelihood, count)).
 */
export type MetricValue = number | [number, number];

export type Aggregation =
  /** Arithmetic mean of the per-document numbers. */
  | "mean"
  /** exp(−mean(ll)) over documents (lm-eval `perplexity`, LAMBADA). */
  | "perplexity"
  /** exp(−Σll / Σcount) over (ll, count) pairs (lm-eval `weighted_perplexity`). */
  | "weighted_perplexity"
  /** −Σll / Σbytes / ln 2 over (ll, bytes) pairs (lm-eval `bits_per_byte`). */
  | "bits_per_byte";

export interface MetricDef {
  aggregation: Aggregation;
  higherIsBetter: boolean;
  /** What the number is, in words and formula (stored next to the numbers). */
  definition: string;
}

/** One document's requests and how to score their responses. */
export interface Instance {
  /** Stable id within the task (the document's index in the test split, or a key). */
  id: string;
  /** Subgroup (MMLU subject) for per-group and group-averaged results. */
  group?: string;
  /** The full prompt (few-shot context + document text): what the model conditions on. */
  prompt: string;
  requests: Request[];
  /** The gold answer in words, for inspection. */
  target: string;
  /** Per-document metric values from the responses (same order as `requests`). */
  score(responses: Response[]): Record<string, MetricValue>;
  /** Optional extracted answers etc., stored in logged samples. */
  explain?(responses: Response[]): Record<string, unknown>;
}

export interface FewshotInfo {
  n: number;
  /** Where the examples come from ("dev", "train", "fixed"). */
  split: string;
  /** "first_n": the first n documents of the split; "random": n drawn without replacement with `seed`. */
  sampler: "first_n" | "random" | "none";
  seed: number;
}

export interface Task {
  name: string;
  /** Bumped whenever prompts, data handling or metrics change (stored with the results). */
  version: string;
  /** How prompts are built, in words (stored with the results). */
  promptFormat: string;
  fewshot: FewshotInfo;
  metrics: Record<string, MetricDef>;
  /** Documents available (before --limit). */
  size: number;
  /** The first `limit` documents' instances (all when limit is undefined). */
  instances(limit?: number): Instance[];
}
