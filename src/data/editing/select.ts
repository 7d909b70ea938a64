/**
 * Choosing which cases go into one batch of edits.
 *
 * MEMIT and AlphaEdit write an edit as a key→value pair, the key being the MLP input at the
 * subject's last token. Two edits of the same subject in one batch ask the same key for two
 * different values, which no weight update can satisfy: efficacy collapses (MEMIT-Merge, Dong et al.
 * 2025, measure it falling below 50% at batch size 10). MEMIT's own mass-editing evaluation uses
 * MultiCounterFact, prepared for many simultaneous edits; a dataset that holds several facts per
 * subject (zsRE, the fact world) needs the same care before a batch is drawn from it.
 */
import type { EditCase } from "./case.js";

/** The cases in order, keeping only the first case of each subject. */
export function distinctSubjects(cases: readonly EditCase[]): EditCase[] {
  const seen = new Set<string>();
  return cases.filter((c) => {
    if (seen.has(c.request.subject)) return false;
    seen.add(c.request.subject);
    return true;
  });
}

/** Subjects that more than one case in `cases` edits (empty when a batch has no conflicts). */
export function sharedSubjects(cases: readonly EditCase[]): string[] {
  const count = new Map<string, number>();
  for (const c of cases) count.set(c.request.subject, (count.get(c.request.subject) ?? 0) + 1);
  return [...count].filter(([, n]) => n > 1).map(([s]) => s);
}

/**
 * The cases in order, leaving out any case whose edit prompt is the locality probe of a case kept
 * before it, or whose locality probe is the edit prompt (or a paraphrase) of a case kept before it.
 * Why: when many edits coexist (a batch, a lifelong stream), a locality probe that is itself one of
 * the edits must change, and every successful editor "fails" locality on it. zsRE's own probes are
 * Natural Questions, never edits; a dataset drawn from one pool of facts (the fact world's zsRE
 * export: 22 of its first 100 distinct-subject cases) needs this filter to measure the same thing.
 */
export function disjointLocality(cases: readonly EditCase[]): EditCase[] {
  const edited = new Set<string>();
  const probes = new Set<string>();
  const fill = (c: EditCase) => c.request.prompt.replace("{}", c.request.subject);
  return cases.filter((c) => {
    const own = [fill(c), ...c.paraphrasePrompts];
    if (own.some((p) => probes.has(p)) || c.locality.some((l) => edited.has(l.prompt))) return false;
    own.forEach((p) => edited.add(p));
    c.locality.forEach((l) => probes.add(l.prompt));
    return true;
  });
}
