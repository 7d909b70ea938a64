/**
 * The covariance C = E[k kᵀ] an editor uses for layer l, resolved from its hparams: which corpus
 * (mom2Dataset), how many texts, where to cache (EditContext.cacheDir).
 *
 * Statistics are always those of the *unedited* model (model/patch.ts unpatch): ROME, MEMIT and
 * AlphaEdit compute C once per model and layer and reuse it through sequential edits
 * (their get_cov caches by model name and layer), so the n-th sequential edit does not recompute
 * it for a model that differs from the original only by earlier edits.
 */
import { ConfigError } from "../errors.js";
import { unpatch } from "../model/patch.js";
import type { Model } from "../model/types.js";
import { collectMom2, moment, type StatsStore } from "./covariance.js";
import type { CovarianceHparams } from "./hparams.js";
import type { EditContext } from "./types.js";

export interface Corpus {
  /** Names the corpus in cache keys; absent = the texts are hashed. */
  id?: string;
  texts: readonly string[];
}

const registered = new Map<string, Corpus>();

/** Make `texts` available as mom2Dataset `name` (tests, browsers, a corpus built in memory). */
export function registerMom2Corpus(name: string, texts: readonly string[]): void {
  registered.set(name, { id: `registered:${name}`, texts });
}

const memo = new WeakMap<Model, Map<string, Promise<Float64Array>>>();

/** E[k kᵀ] of layer `layer`'s MLP keys for the unedited `model`, [d_mlp × d_mlp] row-major. */
export function keyCovariance(model: Model, layer: number, hp: CovarianceHparams, context: EditContext = {}): Promise<Float64Array> {
  const base = unpatch(model);
  let byKey = memo.get(base);
  if (!byKey) memo.set(base, (byKey = new Map()));
  const key = JSON.stringify([layer, hp.mom2Dataset, hp.mom2NSamples, hp.mom2MaxLength ?? null]);
  let c = byKey.get(key);
  if (!c) {
    c = (async () => {
      const corpus = await resolveCorpus(base, hp.mom2Dataset);
      const store = await storeFor(context.cacheDir);
      const stats = await collectMom2(base, {
        layer,
        texts: corpus.texts,
        corpusId: corpus.id,
        nSamples: hp.mom2NSamples,
        maxLength: hp.mom2MaxLength,
        store,
        onProgress: context.onProgress,
      });
      if (stats.count === 0) throw new ConfigError("EDIT_MOM2", `covariance corpus ${hp.mom2Dataset} gave no tokens`, { field: "mom2Dataset" });
      return moment(stats);
    })();
    byKey.set(key, c);
    c.catch(() => byKey!.delete(key));
  }
  return c;
}

async function storeFor(cacheDir: string | undefined): Promise<StatsStore | undefined> {
  if (cacheDir === undefined) return undefined;
  // Node-only module, loaded only when a cache directory is asked for (the core stays browser-safe).
  const { nodeStatsStore } = await import("./stats-store-node.js");
  return nodeStatsStore(cacheDir);
}

async function resolveCorpus(model: Model, name: string): Promise<Corpus> {
  const r = registered.get(name);
  if (r) return r;
  if (name === "factworld" || (name === "auto" && (await isFactWorldModel(model)))) return factWorldCorpus();
  const { readCorpusFile, wikitext2 } = await import("./corpus-node.js");
  if (name === "auto" || name === "wikitext-2") return wikitext2();
  return readCorpusFile(name);
}

let factWorld: Promise<{ corpus: Corpus; names: string[] }> | undefined;

function loadFactWorld(): Promise<{ corpus: Corpus; names: string[] }> {
  factWorld ??= (async () => {
    const fw = await import("../data/factworld/index.js");
    const world = fw.buildFactWorld();
    const names = world.facts.slice(0, 8).flatMap((f) => [...f.subject.split(" "), f.object]);
    return { corpus: { id: `factworld:${world.seed}:training-stage2`, texts: fw.trainingDocuments(world, world.seed, fw.STAGE2_MIX) }, names };
  })();
  return factWorld;
}

/** The fact world's training documents (the built-in model's own corpus). */
export async function factWorldCorpus(): Promise<Corpus> {
  return (await loadFactWorld()).corpus;
}

/** Whether the model's tokenizer is the fact world's (its entity names are whole tokens). */
async function isFactWorldModel(model: Model): Promise<boolean> {
  const { names } = await loadFactWorld();
  return names.every((w) => model.tokenizer.tokenToId(w) !== undefined);
}
