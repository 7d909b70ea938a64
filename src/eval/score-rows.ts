/**
 * Batched scoring of token requests with two kinds of sharing, on top of lm-eval's
 * _loglikelihood_tokens semantics (logprobs.ts: input = (context + continuation)[−(max_len+1):][:−1],
 * the continuation read at the last len(continuation) positions):
 *
 * 1. Shared rows. Requests whose model inputs are identical (multiple-choice requests with
 *    one-token answers " A"/" B"/" C"/" D" after the same prompt) run as one row; each reads its
 *    own target tokens from it (lm-eval's group-by-context "one-token continuation" reuse).
 * 2. Shared prefixes. Rows that start with the same long token prefix (the few-shot context of one
 *    task: MMLU's 5 dev examples of a subject) compute that prefix once: one forward pass over the
 *    prefix returns its keys/values, which are tiled across a batch of rows, and only the rows'
 *    suffixes run through the model. Results equal the unshared computation to float rounding.
 *
 * Rows without a shared prefix run right-padded in batches, longest first (lm-eval's Collator),
 * with lengths rounded up to a few bucket sizes (bucket()) and the last batch filled up, so the
 * compiled forward sees few distinct shapes.
 */
import { nn, numpy as np } from "@jax-js/jax";
import type { Arr, KVCache, Model } from "../model/types.js";
import { disposeTree, readF32, readI32 } from "../tensor/own.js";
import type { TokenRequest } from "./logprobs.js";

export interface TokenScore {
  ll: number;
  isGreedy: boolean;
  nTokens: number;
}

export interface ScoreRowsOptions {
  batchSize?: number;
  /** Share prefixes of at least this many tokens (default 32); 0 turns prefix sharing off. */
  minSharedPrefix?: number;
  /** Called after each forward batch with the requests it completed. */
  onBatch?: (done: { index: number; score: TokenScore }[]) => Promise<void> | void;
}

export interface ScoreRowsStats {
  rows: number;
  forwardTokens: number;
  prefixGroups: number;
}

interface Row {
  input: number[];
  /** Requests reading this row: request index, first position read, target tokens. */
  reads: { index: number; first: number; targets: number[] }[];
}

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/**
 * Padded row length: a multiple of 8 up to 32, of 16 up to 64, of 32 up to 256, then of 64. Each new (batch,
 * length) shape costs a compilation of the forward pass (~1.5 s for the built-in model on 2 cores,
 * measured), more than the padding costs (at most 7 positions per row up to 32, 15 up to 64, 31 up to 256).
 */
export function bucket(n: number): number {
  return n <= 32 ? roundUp(n, 8) : n <= 64 ? roundUp(n, 16) : n <= 256 ? roundUp(n, 32) : roundUp(n, 64);
}

export async function scoreTokenRequests(model: Model, requests: readonly TokenRequest[], options: ScoreRowsOptions = {}): Promise<{ scores: TokenScore[]; stats: ScoreRowsStats }> {
  const batchSize = options.batchSize ?? 8;
  const minPrefix = options.minSharedPrefix ?? 32;
  const maxLen = model.config.nCtx;
  const scores: TokenScore[] = new Array(requests.length);
  const stats: ScoreRowsStats = { rows: 0, forwardTokens: 0, prefixGroups: 0 };

  // 1. Rows: identical inputs share one row.
  const byInput = new Map<string, Row>();
  requests.forEach((r, index) => {
    if (r.context.length === 0 || r.continuation.length === 0) throw new RangeError(`request ${index}: context and continuation must be non-empty`);
    if (r.continuation.length > maxLen) throw new RangeError(`request ${index}: continuation longer than the context window`);
    const input = [...r.context, ...r.continuation].slice(-(maxLen + 1)).slice(0, -1);
    const key = input.join(",");
    let row = byInput.get(key);
    if (!row) byInput.set(key, (row = { input, reads: [] }));
    row.reads.push({ index, first: input.length - r.continuation.length, targets: r.continuation });
  });
  const rows = [...byInput.values()];
  stats.rows = rows.length;

  // 2. Prefix groups: neighbours in lexicographic order that share ≥ minPrefix leading tokens.
  const groups: { prefix: number; rows: Row[] }[] = [];
  const single: Row[] = [];
  if (minPrefix > 0) {
    rows.sort((a, b) => compareTokens(a.input, b.input));
    let i = 0;
    while (i < rows.length) {
      let j = i + 1;
      let lcp = rows[i]!.input.length;
      let firstRead = Math.min(...rows[i]!.reads.map((r) => r.first));
      while (j < rows.length) {
        const l = Math.min(lcp, commonPrefix(rows[i]!.input, rows[j]!.input));
        const f = Math.min(firstRead, ...rows[j]!.reads.map((r) => r.first));
        if (Math.min(l, f) < minPrefix) break;
        lcp = l;
        firstRead = f;
        j++;
      }
      // The prefix must end before the first position any request reads (its logits come from the suffix pass).
      const P = Math.min(lcp, firstRead);
      if (j - i >= 2 && P >= minPrefix) groups.push({ prefix: P, rows: rows.slice(i, j) });
      else single.push(...rows.slice(i, j));
      i = j;
    }
  } else single.push(...rows);
  stats.prefixGroups = groups.length;

  const finish = async (batch: Row[], lp: Float32Array, gr: Int32Array, T: number, K: number, offset: number) => {
    const done: { index: number; score: TokenScore }[] = [];
    batch.forEach((row, b) => {
      row.reads.forEach((rd, k) => {
        let ll = 0;
        let greedy = true;
        rd.targets.forEach((t, j) => {
          const pos = rd.first - offset + j;
          ll += lp[(b * T + pos) * K + k]!;
          if (gr[b * T + pos] !== t) greedy = false;
        });
        const score = { ll, isGreedy: greedy, nTokens: rd.targets.length };
        scores[rd.index] = score;
        done.push({ index: rd.index, score });
      });
    });
    await options.onBatch?.(done);
  };

  const padId = model.tokenizer.padId ?? model.tokenizer.eosId ?? 0;

  // Plain rows: right-padded batches, longest first.
  single.sort((a, b) => b.input.length - a.input.length);
  for (let s = 0; s < single.length; s += batchSize) {
    const batch = single.slice(s, s + batchSize);
    const T = Math.min(bucket(batch[0]!.input.length), maxLen);
    // The last batch is filled up with copies of its last row (outputs ignored): one shape fewer to compile.
    const rowsIn = [...batch.map((r) => r.input), ...new Array<number[]>(batchSize - batch.length).fill(batch.at(-1)!.input)];
    const tokens = rowsIn.map((r) => pad(r, T, padId));
    const mask = rowsIn.map((r) => pad(r.map(() => 1), T, 0));
    stats.forwardTokens += rowsIn.length * T;
    const { logits, cache } = model.forward(tokens, { attentionMask: mask, paddedLogits: true });
    disposeTree(cache);
    const { lp, gr, K } = await gather(logits!, batch, T, 0);
    await finish(batch, lp, gr, T, K, 0);
  }

  // Prefix groups: one pass over the shared prefix, then the suffixes against its tiled keys/values.
  for (const g of groups) {
    const P = g.prefix;
    const pre = model.forward([g.rows[0]!.input.slice(0, P)], { returnKV: true, logitsPositions: "last" });
    disposeTree(pre.cache);
    pre.logits?.dispose();
    const kv = pre.kv!;
    stats.forwardTokens += P;
    try {
      g.rows.sort((a, b) => b.input.length - a.input.length);
      for (let s = 0; s < g.rows.length; s += batchSize) {
        const batch = g.rows.slice(s, s + batchSize);
        const T = Math.min(bucket(batch[0]!.input.length - P), maxLen - P);
        const rowsIn = [...batch.map((r) => r.input.slice(P)), ...new Array<number[]>(batchSize - batch.length).fill(batch.at(-1)!.input.slice(P))];
        const tokens = rowsIn.map((r) => pad(r, T, padId));
        const mask = rowsIn.map((r) => pad(r.map(() => 1), T, 0));
        stats.forwardTokens += rowsIn.length * T;
        const B = rowsIn.length;
        // A cache with room (padTo) lets the model run this pass through its compiled program
        // (ForwardOptions.kvPadTo); bucketed lengths and full batches keep the shapes few.
        const tiled: KVCache = {
          layers: kv.layers.map(({ k, v }) => ({ k: np.tile(k.ref, [B, 1, 1, 1]), v: np.tile(v.ref, [B, 1, 1, 1]) })),
          length: kv.length,
          mask: rowsIn.map(() => new Array<number>(P).fill(1)),
          padTo: 64,
        };
        const { logits, cache, kv: out } = model.forward(tokens, { kv: tiled, attentionMask: mask, paddedLogits: true });
        disposeTree(cache);
        if (out) disposeTree(out.layers);
        const { lp, gr, K } = await gather(logits!, batch, T, P);
        await finish(batch, lp, gr, T, K, P);
      }
    } finally {
      disposeTree(kv.layers);
    }
  }
  return { scores, stats };
}

/**
 * Device side: log p of each read's target at each position ([B, T, K], K = most reads per row)
 * and the argmax per position ([B, T]). Consumes `logits`.
 */
async function gather(logits: Arr, batch: Row[], T: number, offset: number): Promise<{ lp: Float32Array; gr: Int32Array; K: number }> {
  const K = Math.max(...batch.map((r) => r.reads.length));
  const B = logits.shape[0]!; // ≥ batch.length: filler rows read nothing
  const targets = new Int32Array(B * T * K);
  batch.forEach((row, b) =>
    row.reads.forEach((rd, k) => rd.targets.forEach((t, j) => (targets[(b * T + rd.first - offset + j) * K + k] = t))),
  );
  const lse = nn.logsumexp(logits.ref, -1, { keepdims: true });
  const picked = np.takeAlongAxis(logits.ref, np.array(targets, { dtype: np.int32 }).reshape([B, T, K]), -1);
  const greedy = np.argmax(logits, -1);
  const [lp, gr] = await Promise.all([readF32(picked.sub(lse)), readI32(greedy)]);
  return { lp, gr, K };
}

function pad(xs: number[], T: number, value: number): number[] {
  return xs.length >= T ? xs : [...xs, ...new Array<number>(T - xs.length).fill(value)];
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function compareTokens(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
