/**
 * The covariance C = E[k kᵀ] an editor uses for layer l, resolved from its hparams: which corpus
 * (mom2Dataset), how many texts, where to cache (EditContext.cacheDir).
 *
 * Statistics are always those of the *unedited* model (model/patch.ts unpatch): ROME, MEMIT and
 * AlphaEdit compute C once per model and layer and reuse it through sequential edits (their
 * get_cov caches by model name and layer), here through the run's EditCaches (caches.ts).
 *
 * Which corpus: a name registered on the caches; "factworld" (the built-in model's training
 * documents); "factworld-m" (factworld-m's); "wikitext-2"; a file path; or "auto" — the corpus the checkpoint declares in its
 * config.json as "scalpel_mom2_corpus" (the built-in model declares "factworld"), else WikiText-2,
 * the stand-in for ROME's Wikipedia sample. Nothing is guessed from the tokenizer.
 */
import { ConfigError } from "../errors.js";
import { unpatch } from "../model/patch.js";
import type { Model } from "../model/types.js";
import { EditCaches, type Corpus, type CovarianceSample } from "./caches.js";
import { collectMom2, moment, type StatsStore } from "./covariance.js";
import type { CovarianceHparams } from "./hparams.js";
import type { EditContext } from "./types.js";

export type { Corpus };

/**
 * ROME's and MEMIT's sample (layer_stats: mom2_n_samples 100,000 Wikipedia texts, each truncated
 * to the context size, 1,024 tokens on GPT-2 XL). hparams `mom2_sample: reference` selects it
 * (hparams-yaml.ts); the defaults (hparams.ts covDefaults) are far smaller, and every result
 * records which sample it used (CovarianceSample).
 */
export const REFERENCE_MOM2_SAMPLE = { nSamples: 100_000, maxLength: 1024 } as const;

/** Tokens kept per covariance text: mom2MaxLength, else min(n_ctx, 256) (covariance.ts). */
export function mom2MaxLength(model: Model, hp: CovarianceHparams): number {
  return Math.min(hp.mom2MaxLength ?? 256, model.config.nCtx);
}

const covarianceKey = (layer: number, hp: CovarianceHparams) => JSON.stringify([layer, hp.mom2Dataset, hp.mom2NSamples, hp.mom2MaxLength ?? null]);

/**
 * The samples of the covariances an edit with `hp` used, by layer — (rome, r-rome, memit with
 * mom2Adjustment; AlphaEdit always, for its null space); none for FT. Read from the run's caches,
 * where keyCovariance recorded them (computed there if not yet).
 */
export async function covarianceSamplesOf(model: Model, method: string, hp: Record<string, unknown>, context: EditContext): Promise<CovarianceSample[]> {
  const uses = method === "alphaedit" || (["rome", "r-rome", "memit"].includes(method) && hp.mom2Adjustment === true);
  if (!uses) return [];
  const layers = typeof hp.layer === "number" ? [hp.layer] : (hp.layers as number[]);
  const base = unpatch(model);
  const caches = context.caches ?? new EditCaches();
  const out: CovarianceSample[] = [];
  for (const layer of layers) {
    await keyCovariance(base, layer, hp as unknown as CovarianceHparams, { ...context, caches });
    const s = caches.sampleOf(base, covarianceKey(layer, hp as unknown as CovarianceHparams));
    if (s) out.push(s);
  }
  return out;
}

/** E[k kᵀ] of layer `layer`'s MLP keys for the unedited `model`, [d_mlp × d_mlp] row-major. */
export function keyCovariance(model: Model, layer: number, hp: CovarianceHparams, context: EditContext = {}): Promise<Float64Array> {
  const base = unpatch(model);
  const caches = context.caches ?? new EditCaches();
  const key = covarianceKey(layer, hp);
  return caches.covarianceOf(base, key, async () => {
    const corpus = await resolveCorpus(base, hp.mom2Dataset, caches);
    const store = context.statsStore ?? (await storeFor(context.cacheDir));
    const stats = await collectMom2(base, {
      layer,
      texts: corpus.texts,
      corpusId: corpus.id,
      nSamples: hp.mom2NSamples,
      maxLength: mom2MaxLength(base, hp),
      store,
      onProgress: context.onProgress,
    });
    if (stats.count === 0) throw new ConfigError("EDIT_MOM2", `covariance corpus ${hp.mom2Dataset} gave no tokens`, { field: "mom2Dataset" });
    caches.recordSample(base, key, { layer, corpus: corpus.id ?? hp.mom2Dataset, texts: stats.samples, tokens: stats.count, maxLength: mom2MaxLength(base, hp) });
    return moment(stats);
  });
}

/** The Node file store under `cacheDir` (none without one): covariance statistics and cached target vectors (value-cache.ts). */
export async function storeFor(cacheDir: string | undefined): Promise<StatsStore | undefined> {
  if (cacheDir === undefined) return undefined;
  // Node-only module, loaded only when a cache directory is asked for (the core stays browser-safe).
  const { nodeStatsStore } = await import("./stats-store-node.js");
  return nodeStatsStore(cacheDir);
}

/** The corpus "auto" means for this checkpoint: the one its config.json declares, else WikiText-2. */
export function declaredCorpus(model: Model): string | undefined {
  const v = model.config.raw.scalpel_mom2_corpus;
  return typeof v === "string" ? v : undefined;
}

async function resolveCorpus(model: Model, name: string, caches: EditCaches): Promise<Corpus> {
  const registered = caches.registeredCorpus(name);
  if (registered) return registered;
  const resolved = name === "auto" ? declaredCorpus(model) ?? "wikitext-2" : name;
  if (resolved !== name) return resolveCorpus(model, resolved, caches);
  if (name === "factworld" || name === "factworld-m") return caches.corpus(name, () => factWorldCorpus(name));
  const { readCorpusFile, wikitext2 } = await import("./corpus-node.js");
  return caches.corpus(name, async () => (name === "wikitext-2" ? wikitext2() : readCorpusFile(name)));
}

/** The fact world's training documents (the built-in model's own corpus; "factworld-m": the larger model's attribute world). */
export async function factWorldCorpus(name: "factworld" | "factworld-m" = "factworld"): Promise<Corpus> {
  const fw = await import("../data/factworld/index.js");
  const world = name === "factworld-m" ? fw.buildFactWorld(fw.FACTWORLD_SEED, fw.FACTWORLD_M_SIZE) : fw.buildFactWorld();
  return { id: `${name}:${world.seed}:training-stage2`, texts: fw.trainingDocuments(world, world.seed, fw.STAGE2_MIX) };
}
