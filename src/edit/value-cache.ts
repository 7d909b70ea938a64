/**
 * Target vectors (ROME's v*, MEMIT's and AlphaEdit's z*) kept in the editors' statistics store,
 * one entry per request, as MEMIT's own code keeps z* per case (memit_main.execute_memit with a
 * cache_template: `{kv_dir}/..._layer_{L}_clamp_{c}_case_{id}.npz`, reused when the file exists).
 *
 * Why: z* is most of a MEMIT or AlphaEdit call (a 60-step optimisation per request), and it
 * depends only on the model, the request, the hook, the v* hyperparameters and the context
 * templates — not on the layer set, λ or the solve. AlphaEdit on a batch MEMIT has just edited, a
 * rerun after a crash, or a second λ reuses it instead of optimising again.
 *
 * The key hashes all of those by content (the model by its weights, model/hash.ts), not by case id
 * as the reference does: a changed request, template or hyperparameter never reads a stale entry.
 * (The tokenizer is not hashed, as for the covariance statistics: weights go with one tokenizer.)
 * Each request's optimisation is independent of the others in its batch (compute-value.ts), so a
 * batch with some requests cached optimises only the rest, and gets the same vectors to float
 * rounding (the passes' row counts differ).
 */
import { modelHash } from "../model/hash.js";
import type { Model } from "../model/types.js";
import { canonicalJson, sha256Hex } from "../util/hash.js";
import { computeTargetVectors, type ValueResult, type ValueStep } from "./compute-value.js";
import type { ValueHparams } from "./hparams.js";
import { storeFor } from "./mom2.js";
import type { EditContext, EditRequest } from "./types.js";

/** Bump when computeTargetVectors' result for the same inputs changes. */
const VERSION = 1;

/** How many of the last call's requests were read from the store (benchmarks report it beside their times). */
export interface ValueCacheUse {
  cached: number;
  computed: number;
}

/**
 * computeTargetVectors with a store: requests found there are read, the rest optimised together
 * and written. Without a store (context.statsStore or context.cacheDir), it only computes.
 */
export async function cachedTargetVectors(
  model: Model,
  requests: EditRequest[],
  hp: ValueHparams,
  templates: string[],
  hook: string,
  context: EditContext,
  observe?: (request: number, step: ValueStep) => void,
  use?: ValueCacheUse,
): Promise<ValueResult[]> {
  const store = context.statsStore ?? (await storeFor(context.cacheDir));
  if (!store) {
    if (use) Object.assign(use, { cached: 0, computed: requests.length });
    return computeTargetVectors(model, requests, hp, templates, hook, observe);
  }
  const base = { version: VERSION, model: await modelHash(model), hook, templates, hp: valueKeyHparams(hp) };
  const keys = await Promise.all(requests.map(async (r) => `value-${await sha256Hex(canonicalJson({ ...base, request: { prompt: r.prompt, subject: r.subject, targetNew: r.targetNew } }))}`));
  const results: (ValueResult | undefined)[] = await Promise.all(keys.map(async (k) => decodeValueEntry(await store.get(k), model.config.dModel)));
  const missing = requests.flatMap((_, i) => (results[i] ? [] : [i]));
  if (use) Object.assign(use, { cached: requests.length - missing.length, computed: missing.length });
  if (missing.length > 0) {
    const fresh = await computeTargetVectors(model, missing.map((i) => requests[i]!), hp, templates, hook, observe && ((j, s) => observe(missing[j]!, s)));
    for (const [j, i] of missing.entries()) {
      results[i] = fresh[j]!;
      await store.put(keys[i]!, encode(fresh[j]!));
    }
  }
  return results as ValueResult[];
}

/** The hyperparameters the optimisation reads (templates are hashed as given). */
function valueKeyHparams(hp: ValueHparams): Record<string, unknown> {
  const { vNumGradSteps, vLr, vLossLayer, vWeightDecay, clampNormFactor, klFactor, klPrompts } = hp;
  return { vNumGradSteps, vLr, vLossLayer, vWeightDecay, clampNormFactor, klFactor, klPrompts };
}

/** [loss, steps, nll, init (d), target (d)] as float64: the numbers come back exactly. */
function encode(r: ValueResult): Uint8Array {
  const d = r.init.length;
  const out = new Float64Array(3 + 2 * d);
  out.set([r.loss, r.steps, r.nll]);
  out.set(r.init, 3);
  out.set(r.target, 3 + d);
  return new Uint8Array(out.buffer);
}

/** undefined for a missing entry, or one of another width (never a silent misread). Benchmarks read the store's step counts with it. */
export function decodeValueEntry(bytes: Uint8Array | undefined, d: number): ValueResult | undefined {
  if (!bytes || bytes.byteLength !== (3 + 2 * d) * 8) return undefined;
  const x = new Float64Array(bytes.slice().buffer);
  return { loss: x[0]!, steps: x[1]!, nll: x[2]!, init: Float32Array.from(x.subarray(3, 3 + d)), target: Float32Array.from(x.subarray(3 + d)) };
}
