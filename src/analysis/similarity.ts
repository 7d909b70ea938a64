/**
 * Hidden-state similarity analysis, as in WISE's analysis of where edits live (Wang et al. 2024,
 * §2/Fig. 2-style plots of within- vs between-set similarity of last-token states): read one vector
 * per prompt at a hook point, then compare groups of prompts (e.g. edit prompts, their rephrasings,
 * unrelated locality prompts) by cosine similarity
 *   cos(u, v) = u·v / (‖u‖ ‖v‖)
 * within each group (all pairs i < j) and between each pair of groups (all pairs across them).
 *
 * Each set of similarities is summarised by mean, sample std (ddof = 1), a histogram over fixed
 * bins on [−1, 1] (so groups share one axis), and a seeded bootstrap CI of the mean
 * (analysis/bootstrap.ts). Note the CI resamples the pairwise values as if independent; pairs that
 * share a prompt are correlated, so the interval is a description of the spread of the mean over
 * pairs, narrower than a CI over prompts would be.
 */
import type { Model } from "../model/types.js";
import { disposeTree, readF32 } from "../tensor/own.js";
import { deriveSeed } from "../util/rng.js";
import { bootstrapMeanCI, type BootstrapMethod, type BootstrapResult } from "./bootstrap.js";
import { mean, std } from "./descriptive.js";

/**
 * The activation at each prompt's last token at `hook` (one Float32Array of the hook's trailing
 * size per prompt, in order). Prompts are tokenised with the model's tokenizer (BOS as it adds it)
 * and run in right-padded batches with an attention mask, the pass stopping at the hook: padding
 * sits after the real tokens, so under causal attention it never changes a prompt's states (the
 * same scheme as steer/collect.ts, which this layer may not import).
 */
export async function lastTokenStates(model: Model, prompts: readonly string[], hook: string, options: { batchSize?: number } = {}): Promise<Float32Array[]> {
  if (!model.hookNames().includes(hook)) throw new RangeError(`lastTokenStates: no hook point '${hook}' in this model; e.g. 'blocks.0.hook_resid_post' (model.hookNames() lists them)`);
  const batchSize = options.batchSize ?? 16;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`lastTokenStates: batchSize must be a positive integer, got ${batchSize}`);
  const ids = prompts.map((p, i) => {
    if (typeof p !== "string" || p.trim() === "") throw new RangeError(`lastTokenStates: prompt ${i} is empty; give non-empty prompts`);
    const t = model.tokenizer.encode(p).ids;
    if (t.length > model.config.nCtx) throw new RangeError(`lastTokenStates: prompt ${i} has ${t.length} tokens, more than the context window (${model.config.nCtx}); shorten it`);
    return t;
  });
  const padId = model.tokenizer.padId ?? model.tokenizer.eosId ?? 0;
  const out: Float32Array[] = [];
  for (let start = 0; start < ids.length; start += batchSize) {
    const batch = ids.slice(start, start + batchSize);
    const T = Math.max(...batch.map((t) => t.length));
    const tokens = batch.map((t) => [...t, ...new Array<number>(T - t.length).fill(padId)]);
    const mask = batch.map((t) => [...new Array<number>(t.length).fill(1), ...new Array<number>(T - t.length).fill(0)]);
    const res = model.forward(tokens, { cache: [hook], stopAt: hook, attentionMask: mask });
    res.logits?.dispose();
    const a = res.cache[hook]!;
    delete res.cache[hook];
    disposeTree(res.cache);
    const width = (a.shape as number[]).slice(2).reduce((x, y) => x * y, 1);
    const flat = await readF32(a);
    batch.forEach((t, i) => out.push(flat.slice((i * T + t.length - 1) * width, (i * T + t.length) * width)));
  }
  return out;
}

export function cosine(u: ArrayLike<number>, v: ArrayLike<number>): number {
  if (u.length !== v.length) throw new RangeError(`cosine: vectors have different lengths (${u.length} vs ${v.length})`);
  let uv = 0, uu = 0, vv = 0;
  for (let k = 0; k < u.length; k++) {
    uv += u[k]! * v[k]!;
    uu += u[k]! * u[k]!;
    vv += v[k]! * v[k]!;
  }
  if (uu === 0 || vv === 0) throw new RangeError("cosine: a vector is all zeros, its direction is undefined");
  return uv / Math.sqrt(uu * vv);
}

/** Cosines of all pairs i < j within one set. */
export function withinCosines(xs: readonly ArrayLike<number>[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < xs.length; i++) for (let j = i + 1; j < xs.length; j++) out.push(cosine(xs[i]!, xs[j]!));
  return out;
}

/** Cosines of all pairs (a, b), a from the first set, b from the second. */
export function betweenCosines(as: readonly ArrayLike<number>[], bs: readonly ArrayLike<number>[]): number[] {
  const out: number[] = [];
  for (const a of as) for (const b of bs) out.push(cosine(a, b));
  return out;
}

export interface Histogram {
  /** bins + 1 edges from −1 to 1. */
  edges: number[];
  counts: number[];
}

/** Counts over equal bins on [−1, 1]; the last bin is closed (numpy.histogram's convention). */
export function cosineHistogram(values: readonly number[], bins: number): Histogram {
  const edges = Array.from({ length: bins + 1 }, (_, i) => -1 + (2 * i) / bins);
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    const c = Math.min(Math.max(v, -1), 1); // rounding can put |cos| a hair above 1
    counts[Math.min(Math.floor(((c + 1) / 2) * bins), bins - 1)]!++;
  }
  return { edges, counts };
}

export interface SimilaritySummary {
  /** Every pairwise cosine. */
  values: number[];
  n: number;
  mean: number;
  /** Sample std (ddof = 1); NaN for fewer than two values. */
  std: number;
  /** Bootstrap CI of the mean; absent for fewer than two values. */
  ci?: BootstrapResult;
  histogram: Histogram;
}

export interface SimilarityStats {
  within: Record<string, SimilaritySummary>;
  /** One entry per unordered pair of groups, in the order the groups were given. */
  between: { a: string; b: string; summary: SimilaritySummary }[];
}

export interface SimilarityOptions {
  /** Seed of the bootstrap (default 0). */
  seed?: number;
  /** Default 2000. */
  nResamples?: number;
  /** Default 0.95. */
  level?: number;
  /** Default "percentile". */
  method?: BootstrapMethod;
  /** Histogram bins on [−1, 1] (default 40). */
  bins?: number;
}

function summarise(values: number[], o: Required<SimilarityOptions>, seed: number): SimilaritySummary {
  const n = values.length;
  return {
    values,
    n,
    mean: n > 0 ? mean(values) : NaN,
    std: n > 1 ? std(values) : NaN,
    ci: n > 1 ? bootstrapMeanCI(values, { seed, nResamples: o.nResamples, level: o.level, method: o.method }) : undefined,
    histogram: cosineHistogram(values, o.bins),
  };
}

export function similarityStats(groups: Record<string, readonly ArrayLike<number>[]>, options: SimilarityOptions = {}): SimilarityStats {
  const o: Required<SimilarityOptions> = { seed: 0, nResamples: 2000, level: 0.95, method: "percentile", bins: 40, ...options };
  if (!Number.isInteger(o.bins) || o.bins < 1) throw new RangeError(`similarityStats: bins must be a positive integer, got ${o.bins}`);
  const names = Object.keys(groups);
  if (names.length === 0) throw new RangeError("similarityStats: no groups given");
  let dim: number | undefined;
  for (const name of names) {
    const g = groups[name]!;
    if (g.length === 0) throw new RangeError(`similarityStats: group '${name}' is empty`);
    g.forEach((v, i) => {
      dim ??= v.length;
      if (v.length !== dim) throw new RangeError(`similarityStats: group '${name}' vector ${i} has ${v.length} values, others have ${dim}; compare states from one hook`);
    });
  }
  // Each summary's bootstrap has its own seed derived from the group names, so adding a group
  // leaves the other groups' intervals unchanged.
  const within: Record<string, SimilaritySummary> = {};
  for (const name of names) within[name] = summarise(withinCosines(groups[name]!), o, deriveSeed(o.seed, "within", name));
  const between: SimilarityStats["between"] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const [a, b] = [names[i]!, names[j]!];
      between.push({ a, b, summary: summarise(betweenCosines(groups[a]!, groups[b]!), o, deriveSeed(o.seed, "between", a, b)) });
    }
  }
  return { within, between };
}
