/**
 * Few-shot example selection (lm-eval lm_eval/api/samplers.py): "first_n" takes the first n
 * documents of the few-shot split (MMLU's dev split); "random" draws n distinct documents.
 *
 * Difference from lm-eval, on purpose: lm-eval's random sampler shares one Python random.Random(1234)
 * stream across documents, so a document's examples depend on which documents came before it (and
 * so on --limit). Here document i's examples come from their own stream deriveSeed(seed, i): the
 * prompt of a document is the same whatever subset is evaluated. When the few-shot split is the
 * test split itself, the document is never its own example (lm-eval draws n+1 and removes it).
 */
import { Rng, deriveSeed } from "../util/rng.js";

export function selectFewshot<D>(pool: readonly D[], n: number, sampler: "first_n" | "random", seed: number, docIndex: number, exclude?: D): D[] {
  if (n <= 0) return [];
  const candidates = exclude === undefined ? pool : pool.filter((d) => d !== exclude);
  if (sampler === "first_n") return candidates.slice(0, n);
  const rng = new Rng(deriveSeed(seed, docIndex));
  const idx = candidates.map((_, i) => i);
  const k = Math.min(n, idx.length);
  // Partial Fisher–Yates: the first k slots are a uniform draw without replacement.
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(idx.length - i);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, k).map((i) => candidates[i]!);
}
