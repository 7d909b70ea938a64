/**
 * Teacher-forced log-probabilities of a continuation given a context: the primitive every
 * likelihood metric (multiple choice, perplexity, edit efficacy) is built on.
 *
 * Follows lm-evaluation-harness (lm_eval/api/model.py TemplateLM._encode_pair / loglikelihood,
 * lm_eval/models/huggingface.py HFLM._loglikelihood_tokens):
 * - trailing whitespace of the context moves to the front of the continuation, then
 *   whole = encode(context + continuation), context_enc = encode(context),
 *   continuation_enc = whole[len(context_enc):] — so the split never cuts a merged token
 *   (" cat" stays one token) and the tokens are those of the joined text;
 * - an empty context becomes [prefix token] (BOS, else EOS) and the continuation is encoded alone;
 * - special tokens are not added (HFLM.tok_encode for causal models: add_special_tokens=False
 *   unless add_bos_token) — `addSpecialTokens` turns them on;
 * - the model input is (context_enc + continuation_enc)[-(max_length+1):][:-1], right-padded
 *   within a batch; the continuation's log-probs are read at the last len(continuation_enc)
 *   positions of each row's input; is_greedy = every continuation token is the argmax there;
 * - requests are batched longest first (lm-eval's Collator) and returned in the input order.
 */
import { nn, numpy as np } from "@jax-js/jax";
import { UsageError } from "../errors.js";
import type { Tokenizer } from "../io/tokenizer/types.js";
import { nativeFor, type NativeExecutor } from "../model/native/executor.js";
import type { Arr, Hook, Model } from "../model/types.js";
import { disposeTree, readF32, readI32 } from "../tensor/own.js";

export interface ScoreRequest {
  context: string;
  continuation: string;
}

export interface TokenRequest {
  context: number[];
  continuation: number[];
}

export interface ScoreResult {
  /** log p(token | everything before it) for each continuation token (natural log). */
  logprobs: number[];
  /** Sum of `logprobs`: log p(continuation | context). */
  sum: number;
  /** True when every continuation token is the model's argmax at its position. */
  isGreedy: boolean;
  /** The model's argmax token at each continuation position (per-token accuracy, EasyEdit locality). */
  argmax: number[];
  contextTokens: number[];
  continuationTokens: number[];
}

export interface ScoreOptions {
  /** Rows per forward pass (default 8). */
  batchSize?: number;
  /** Hooks applied in every forward pass (score an intervened model). */
  hooks?: Record<string, Hook>;
  /** Add the tokenizer's special tokens (BOS) when encoding (default false, as lm-eval). */
  addSpecialTokens?: boolean;
}

/** lm-eval's TemplateLM._encode_pair (plus loglikelihood's empty-context case). */
export function encodePair(tok: Tokenizer, context: string, continuation: string, addSpecialTokens = false): TokenRequest {
  const enc = (s: string) => tok.encode(s, { addSpecialTokens }).ids;
  if (context === "") {
    const prefix = tok.bosId ?? tok.eosId;
    if (prefix === undefined) {
      throw new UsageError("NO_PREFIX_TOKEN", "an empty context needs a BOS or EOS token to condition on, and the tokenizer has neither", {
        fix: "give a non-empty context",
      });
    }
    return { context: [prefix], continuation: enc(continuation) };
  }
  const nSpaces = context.length - context.trimEnd().length;
  if (nSpaces > 0) {
    continuation = context.slice(context.length - nSpaces) + continuation;
    context = context.slice(0, context.length - nSpaces);
  }
  const whole = enc(context + continuation);
  const ctx = enc(context);
  return { context: ctx, continuation: whole.slice(ctx.length) };
}

/** Score continuations given contexts (strings). */
export async function loglikelihood(model: Model, requests: ScoreRequest[], options: ScoreOptions = {}): Promise<ScoreResult[]> {
  const pairs = requests.map((r) => encodePair(model.tokenizer, r.context, r.continuation, options.addSpecialTokens));
  return loglikelihoodTokens(model, pairs, options);
}

/** Score token continuations given token contexts (lm-eval's _loglikelihood_tokens). */
export async function loglikelihoodTokens(model: Model, requests: TokenRequest[], options: ScoreOptions = {}): Promise<ScoreResult[]> {
  const batchSize = options.batchSize ?? 8;
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const maxLen = model.config.nCtx;
  requests.forEach((r, i) => {
    if (r.context.length === 0 || r.continuation.length === 0) {
      throw new UsageError("EMPTY_SCORE_REQUEST", `request ${i}: context and continuation must each encode to at least one token`, {
        fix: "check for empty strings (an empty context is allowed only through loglikelihood(), which conditions on BOS)",
      });
    }
    if (r.continuation.length > maxLen) {
      throw new UsageError("CONTINUATION_TOO_LONG", `request ${i}: continuation has ${r.continuation.length} tokens, more than the context window (${maxLen})`);
    }
  });
  // Longest first, as lm-eval's Collator, so each batch pads little.
  const order = requests.map((_, i) => i).sort((a, b) => total(requests[b]!) - total(requests[a]!) || a - b);
  const results: ScoreResult[] = new Array(requests.length);
  const padId = model.tokenizer.padId ?? model.tokenizer.eosId ?? 0;
  for (let start = 0; start < order.length; start += batchSize) {
    const idx = order.slice(start, start + batchSize);
    const inputs = idx.map((i) => {
      const r = requests[i]!;
      return [...r.context, ...r.continuation].slice(-(maxLen + 1)).slice(0, -1);
    });
    const T = Math.max(...inputs.map((x) => x.length));
    // Right padding: causal attention keeps real positions blind to the pads after them.
    const tokens = inputs.map((x) => [...x, ...new Array(T - x.length).fill(padId)]);
    const mask = inputs.map((x) => [...new Array(x.length).fill(1), ...new Array(T - x.length).fill(0)]);
    // targets[b][j] = the token position j predicts (0 where nothing is read).
    const targets = idx.map((i, b) => {
      const cont = requests[i]!.continuation;
      const row = new Array(T).fill(0);
      const first = inputs[b]!.length - cont.length;
      cont.forEach((t, k) => (row[first + k] = t));
      return row;
    });
    const native = nativeFor(model, options.hooks);
    const { lp, gr } = native ? await scoreOnHost(native, model, tokens, mask, targets) : await scoreOnDevice(model, tokens, mask, targets, idx.map((i, b) => Math.max(0, inputs[b]!.length - requests[i]!.continuation.length)), options.hooks);
    idx.forEach((i, b) => {
      const r = requests[i]!;
      const first = inputs[b]!.length - r.continuation.length;
      const logprobsRow: number[] = [];
      const argmaxRow: number[] = [];
      let isGreedy = true;
      r.continuation.forEach((t, k) => {
        logprobsRow.push(lp[b * T + first + k]!);
        argmaxRow.push(gr[b * T + first + k]!);
        if (gr[b * T + first + k] !== t) isGreedy = false;
      });
      results[i] = {
        logprobs: logprobsRow,
        sum: logprobsRow.reduce((s, x) => s + x, 0),
        isGreedy,
        argmax: argmaxRow,
        contextTokens: r.context,
        continuationTokens: r.continuation,
      };
    });
  }
  return results;
}

/** Log-probabilities of `targets` and the argmax, [batch × pos] flat, through Model.forward on the device. */
async function scoreOnDevice(model: Model, tokens: number[][], mask: number[][], targets: number[][], queryPositions: number[], hooks?: Record<string, Hook>): Promise<{ lp: Float32Array; gr: Int32Array }> {
  // Padded logits: the padding columns are −1e9 and change neither logsumexp nor argmax, and no
  // gather cuts them off (model/types.ts ForwardOptions.paddedLogits). queryPositions: the key
  // retrieval-based edits (GRACE, WISE) read, each row's last context token.
  const { logits, cache } = model.forward(tokens, { attentionMask: mask, hooks, paddedLogits: true, queryPositions });
  disposeTree(cache);
  if (!logits) throw new Error("loglikelihood: forward returned no logits");
  const { logprobs, greedy } = tokenLogprobs(logits, np.array(targets, { dtype: np.int32 }));
  const [lp, gr] = await Promise.all([readF32(logprobs), readI32(greedy)]);
  return { lp, gr };
}

/**
 * The same through a native executor (model/native): the logits come to the host and only the
 * positions a continuation reads are scored (log-softmax in float64, first maximum as argmax).
 */
async function scoreOnHost(native: NativeExecutor, model: Model, tokens: number[][], mask: number[][], targets: number[][]): Promise<{ lp: Float32Array; gr: Int32Array }> {
  const { logits } = await native.forward(model, tokens, { attentionMask: mask });
  const [B, T, V] = logits!.shape as [number, number, number];
  const lp = new Float32Array(B * T);
  const gr = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < T; j++) {
      if (mask[b]![j] === 0) continue;
      const row = logits!.data.subarray((b * T + j) * V, (b * T + j + 1) * V);
      let best = 0;
      for (let v = 1; v < V; v++) if (row[v]! > row[best]!) best = v;
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(row[v]! - row[best]!);
      lp[b * T + j] = row[targets[b]![j]!]! - row[best]! - Math.log(sum);
      gr[b * T + j] = best;
    }
  }
  return { lp, gr };
}

/**
 * Device-side scoring of `logits` [batch, pos, vocab] against `targets` [batch, pos] (int32):
 * log_softmax(logits)[b, j, targets[b, j]] as logits − logsumexp (no [batch, pos, vocab]
 * log-softmax is materialised), and the argmax per position. Consumes both arguments;
 * differentiable in `logits` for gradient-based methods. The logits may be padded past the
 * vocabulary with very negative columns (forward's `paddedLogits: true`, the fast choice under
 * `grad`): the results are the same.
 */
/**
 * The positions a token loss reads, for ForwardOptions.logitsPositions: from dense [rows × T]
 * targets and weights (weight 0 = not scored), each row's scored positions and their targets and
 * weights, [rows × P] with P the most any row scores. Shorter rows repeat their first position
 * (position 0 if none) with weight 0. Why: losses on a few target tokens then unembed only those.
 */
export function lossPositions(targets: Int32Array, weights: Float32Array, rows: number, T: number): { positions: number[][]; targets: Int32Array; weights: Float32Array; P: number } {
  const positions = Array.from({ length: rows }, (_, b) => {
    const ps: number[] = [];
    for (let t = 0; t < T; t++) if (weights[b * T + t] !== 0) ps.push(t);
    return ps;
  });
  const P = Math.max(1, ...positions.map((p) => p.length));
  const tgt = new Int32Array(rows * P);
  const w = new Float32Array(rows * P);
  positions.forEach((ps, b) => {
    ps.forEach((t, p) => {
      tgt[b * P + p] = targets[b * T + t]!;
      w[b * P + p] = weights[b * T + t]!;
    });
    while (ps.length < P) ps.push(ps[0] ?? 0);
  });
  return { positions, targets: tgt, weights: w, P };
}

export function tokenLogprobs(logits: Arr, targets: Arr): { logprobs: Arr; greedy: Arr } {
  const lse = nn.logsumexp(logits.ref, -1);
  const picked = np.takeAlongAxis(logits.ref, np.expandDims(targets, -1), -1).reshape(lse.shape);
  const greedy = np.argmax(logits, -1);
  return { logprobs: picked.sub(lse), greedy };
}

function total(r: TokenRequest): number {
  return r.context.length + r.continuation.length;
}
