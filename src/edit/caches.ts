/**
 * What editors compute once and reuse, owned by an object the caller passes in (EditContext.caches)
 * rather than by modules: the key covariance per unedited model and layer (ROME, MEMIT and
 * AlphaEdit compute C once per model and reuse it through sequential edits, as their get_cov
 * caches do), its Cholesky factor, the context templates per unedited model (ROME caches them
 * globally: sequential edits reuse the first edit's), and the covariance corpora registered by
 * name. One EditCaches per run (edit/protocol.ts makes one when the caller gave none); two runs
 * with different caches share nothing.
 */
import type { Model } from "../model/types.js";
import type { Mat64 } from "../analysis/linalg64.js";

export interface Corpus {
  /** Names the corpus in cache keys; absent = the texts are hashed. */
  id?: string;
  texts: readonly string[];
}

/** A promise per key, made once; a failed one is forgotten so the next call retries. */
function memo<T>(map: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let p = map.get(key);
  if (!p) {
    p = make();
    map.set(key, p);
    p.catch(() => map.delete(key));
  }
  return p;
}

/** Which sample a covariance was measured on: recorded with every result that used it. */
export interface CovarianceSample {
  layer: number;
  /** The corpus's id (registered name, "factworld:…", a file path, "wikitext-2"). */
  corpus: string;
  /** Texts and tokens counted. */
  texts: number;
  tokens: number;
  /** Tokens kept per text. */
  maxLength: number;
}

export class EditCaches {
  private covariance = new WeakMap<Model, Map<string, Promise<Float64Array>>>();
  private templates = new WeakMap<Model, Map<string, Promise<string[][]>>>();
  private factors = new WeakMap<Float64Array, Mat64>();
  private samples = new WeakMap<Model, Map<string, CovarianceSample>>();
  private corpora = new Map<string, Corpus>();
  private derived = new Map<string, Promise<Corpus>>();

  /** Make `texts` available as mom2Dataset `name` (tests, browsers, a corpus built in memory). */
  registerCorpus(name: string, texts: readonly string[]): this {
    this.corpora.set(name, { id: `registered:${name}`, texts });
    return this;
  }

  registeredCorpus(name: string): Corpus | undefined {
    return this.corpora.get(name);
  }

  /** A corpus built once per name (the fact world's training documents, a file read from disk). */
  corpus(name: string, make: () => Promise<Corpus>): Promise<Corpus> {
    return memo(this.derived, name, make);
  }

  covarianceOf(base: Model, key: string, make: () => Promise<Float64Array>): Promise<Float64Array> {
    let m = this.covariance.get(base);
    if (!m) this.covariance.set(base, (m = new Map()));
    return memo(m, key, make);
  }

  /** Note which sample the covariance `key` of `base` came from. */
  recordSample(base: Model, key: string, sample: CovarianceSample): void {
    let m = this.samples.get(base);
    if (!m) this.samples.set(base, (m = new Map()));
    m.set(key, sample);
  }

  /** The sample the covariance `key` of `base` was computed on, once computed. */
  sampleOf(base: Model, key: string): CovarianceSample | undefined {
    return this.samples.get(base)?.get(key);
  }

  templatesOf(base: Model, key: string, make: () => Promise<string[][]>): Promise<string[][]> {
    let m = this.templates.get(base);
    if (!m) this.templates.set(base, (m = new Map()));
    return memo(m, key, make);
  }

  /** The Cholesky factor of C, computed once per matrix; undefined when `make` throws (C not positive definite). */
  factorOf(C: Float64Array, make: () => Mat64): Mat64 | undefined {
    let L = this.factors.get(C);
    if (!L) {
      try {
        L = make();
      } catch {
        return undefined;
      }
      this.factors.set(C, L);
    }
    return L;
  }
}
