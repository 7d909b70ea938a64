/**
 * Answer a list of requests: deduplicate, read what the cache already holds, compute the rest in
 * batches (loglikelihoods through score-rows.ts with shared rows and prefixes; generations batched
 * by prompt length with the KV cache), and store each batch's answers as soon as it is done, so a
 * killed run loses at most the batch in flight.
 */
import { encodePair, type TokenRequest } from "./logprobs.js";
import { perplexityTokens, slidingWindows } from "./perplexity.js";
import { rollingTokenWindows } from "./rolling.js";
import { generate } from "../model/generate.js";
import type { Model } from "../model/types.js";
import { requestKey, type RequestCache } from "./cache.js";
import { scoreTokenRequests } from "./score-rows.js";
import type { GenerateRequest, Request, Response } from "./types.js";

export interface ExecuteOptions {
  cache?: RequestCache;
  /** cacheNamespace(model hash, patch hash, …): keys of this model's answers. */
  namespace: string;
  /** Rows per forward pass for loglikelihood requests (default 8). */
  batchSize?: number;
  /** Prompts per generation batch (default 8). */
  generateBatchSize?: number;
  /** Minimum shared prefix (tokens) worth computing once; 0 disables (default 32). */
  minSharedPrefix?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ExecuteStats {
  /** Requests asked for, unique requests, answered from the cache, computed now. */
  requests: number;
  unique: number;
  cacheHits: number;
  computed: number;
  /** Token positions run through the model (prefix sharing makes this smaller). */
  forwardTokens: number;
  prefixGroups: number;
  seconds: number;
}

export async function executeRequests(model: Model, requests: readonly Request[], options: ExecuteOptions): Promise<{ responses: Response[]; stats: ExecuteStats }> {
  const t0 = Date.now();
  const keys = await Promise.all(requests.map((r) => requestKey(options.namespace, r)));
  const unique = new Map<string, Request>();
  keys.forEach((k, i) => unique.has(k) || unique.set(k, requests[i]!));
  const answers = new Map<string, Response>();
  for (const k of unique.keys()) {
    const hit = options.cache?.get(k);
    if (hit) answers.set(k, hit);
  }
  const stats: ExecuteStats = { requests: requests.length, unique: unique.size, cacheHits: answers.size, computed: 0, forwardTokens: 0, prefixGroups: 0, seconds: 0 };
  const total = unique.size;
  let done = answers.size;
  options.onProgress?.(done, total);
  const store = async (entries: [string, Response][]) => {
    for (const [k, v] of entries) answers.set(k, v);
    stats.computed += entries.length;
    done += entries.length;
    await options.cache?.putMany(entries);
    options.onProgress?.(done, total);
  };

  const missing = [...unique.entries()].filter(([k]) => !answers.has(k));
  // Loglikelihoods: encode to token pairs (lm-eval _encode_pair), then score.
  // Perplexity requests become several windows (jobs); their answer is stored when the last window is in.
  const jobs: { key: string; pair: TokenRequest }[] = [];
  const pending = new Map<string, { left: number; ll: number; nTokens: number }>();
  for (const [key, r] of missing) {
    if (r.type === "generate_until") continue;
    if (r.type === "loglikelihood_tokens") jobs.push({ key, pair: { context: r.context, continuation: r.continuation } });
    else if (r.type === "loglikelihood") {
      const p = encodePair(model.tokenizer, r.context, r.continuation, r.addSpecialTokens ?? false);
      jobs.push({ key, pair: r.firstTokens ? { context: p.context, continuation: p.continuation.slice(0, r.firstTokens) } : p });
    } else {
      const maxLength = Math.min(r.maxLength ?? model.config.nCtx, model.config.nCtx);
      const [p0, ...ids] = r.rolling ? perplexityTokens(model, r.text, true) : [];
      const windows = r.rolling
        ? rollingTokenWindows(ids, p0!, maxLength)
        : slidingWindows(perplexityTokens(model, r.text, r.prefix), maxLength, r.stride ?? Math.max(1, Math.floor(maxLength / 2)));
      pending.set(key, { left: windows.length, ll: 0, nTokens: 0 });
      if (windows.length === 0) await store([[key, { type: "perplexity", ll: 0, nTokens: 0 }]]);
      for (const w of windows) jobs.push({ key, pair: w });
    }
  }
  if (jobs.length > 0) {
    const { stats: s } = await scoreTokenRequests(model, jobs.map((j) => j.pair), {
      batchSize: options.batchSize,
      minSharedPrefix: options.minSharedPrefix,
      onBatch: (batch) => {
        const out: [string, Response][] = [];
        for (const { index, score } of batch) {
          const key = jobs[index]!.key;
          const p = pending.get(key);
          if (!p) {
            out.push([key, { type: "loglikelihood", ...score }]);
            continue;
          }
          p.ll += score.ll;
          p.nTokens += score.nTokens;
          if (--p.left === 0) out.push([key, { type: "perplexity", ll: p.ll, nTokens: p.nTokens }]);
        }
        return out.length ? store(out) : undefined;
      },
    });
    stats.forwardTokens += s.forwardTokens;
    stats.prefixGroups += s.prefixGroups;
  }

  // Generations: grouped by their stopping settings (lm-eval groups by gen_kwargs), longest prompts first.
  const gen = missing.filter(([, r]) => r.type === "generate_until") as [string, GenerateRequest][];
  const groups = new Map<string, [string, GenerateRequest, number[]][]>();
  for (const [k, r] of gen) {
    const g = JSON.stringify([r.until, r.maxNewTokens]);
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push([k, r, promptIds(model, r)]);
  }
  const gbs = options.generateBatchSize ?? 8;
  for (const list of groups.values()) {
    list.sort((a, b) => b[2].length - a[2].length);
    for (let s = 0; s < list.length; s += gbs) {
      const batch = list.slice(s, s + gbs);
      const r0 = batch[0]![1];
      const res = await generate(model, batch.map((b) => b[2]), { maxNewTokens: r0.maxNewTokens, stop: r0.until });
      stats.forwardTokens += batch.length * (batch[0]![2].length + r0.maxNewTokens);
      await store(batch.map((b, i) => [b[0], { type: "generate_until", text: res.texts[i]! }]));
    }
  }
  stats.seconds = (Date.now() - t0) / 1000;
  return { responses: keys.map((k) => answers.get(k)!), stats };
}

/**
 * Prompt ids for generation as lm-eval's HFLM.generate_until: encoded without special tokens (unless
 * the request asks for them), and
 * left-truncated to leave max_new_tokens of room in the context window.
 */
function promptIds(model: Model, r: GenerateRequest): number[] {
  let ids = r.context === "" ? [] : model.tokenizer.encode(r.context, { addSpecialTokens: r.addSpecialTokens ?? false }).ids;
  if (ids.length === 0) {
    const bos = model.tokenizer.bosId ?? model.tokenizer.eosId;
    if (bos !== undefined) ids = [bos];
  }
  const room = Math.max(1, model.config.nCtx - r.maxNewTokens);
  return ids.slice(-room);
}
