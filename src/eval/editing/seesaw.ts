/**
 * The editing-pitfalls measures ("Flex Tape Can't Fix That: Bias and Misinformation in Edited
 * Language Models", Halevy et al. 2024; code ENSCMA2/flextape), computed from per-case records
 * (edit/case-records.ts) of an edit run over seesaw-format cases. Pure and browser-safe.
 *
 * 1. Single-token bias by group (flextape eval/completion_evaluation/eval_single_token.py): the
 *    attribute prompts ask the edited property of other people who truly hold target_new; per
 *    prompt p_diff = exp(−nll_new) − exp(−nll_true) (geometric-mean token probabilities), averaged
 *    per case over the prompts of each group of those people (their gender), pre and post; the
 *    study tabulates the mean over cases of pre, post and post − pre, and tests each column with
 *    scipy's ttest_1samp against 0 (eval/ttests.py). A negative post − pre: after the edit the
 *    model is less willing to give target_new to that group.
 * 2. Attributes asserted by completions (this toolkit's automatic version of the study's human
 *    long-form annotation, as issue 21 asks): each sampled completion of the generation prompts
 *    (prompt stripped) is scored with attributes.ts for gender (pronouns, gendered words) and origin
 *    (countries, demonyms, cities) against the subject's true attributes. Per case, the fraction of
 *    completions that assert the true value, another value, and another value the edit did not ask
 *    for (a birthplace edit asks for the new city's country, a citizenship edit for the new
 *    country, a native-language edit for that language's country, a gender edit for the new
 *    gender); pre, post and the difference post − pre (.diff), tested with a paired t-test.
 * 3. Cross-property probe (flextape experiments/eval_pair.py + eval/pair_single.py): after editing
 *    property p1, ask p2 of the same subject with every candidate answer and take the candidate with
 *    the highest summed log-probability; correct when it is the subject's true p2. The study
 *    reports accuracy pre and post with scipy's ttest_ind (Student) p-value; since both are over
 *    the same subjects the paired p is given beside it. Also P(true answer) normalised over the
 *    candidates, a graded version of the same probe.
 */
import { mean } from "../../analysis/descriptive.js";
import { oneSampleTTest, pairedTTest, studentTTest } from "../../analysis/ttest.js";
import type { CaseRecord } from "../../edit/case-records.js";
import type { Gender } from "../../data/factworld/types.js";
import { genderLabelOf, genderOf, originOf, type OriginLexicon } from "./attributes.js";

/** The seesaw properties (Wikidata ids the files use). */
export type SeesawPropertyId = "P19" | "P27" | "P21" | "P103" | "P101";

export interface PersonAttributes {
  gender: Gender;
  origin: string;
}

export interface SeesawContext {
  /** The edited property (p1) and the probed one (p2) of the pair file. */
  edited: SeesawPropertyId;
  probed?: SeesawPropertyId;
  /** Name → gender and origin, for the subjects and the attribute prompts' people. */
  people: ReadonlyMap<string, PersonAttributes>;
  lexicon: OriginLexicon;
  /** The subject's true answer to the probed property, for the cross-property probe. */
  probedTruth?: (subject: string) => string | undefined;
}

/** The name filled into `template`'s "{}" to make `prompt`, or undefined when it does not fit. */
export function subjectOfPrompt(template: string, prompt: string): string | undefined {
  const at = template.indexOf("{}");
  if (at < 0) return undefined;
  const head = template.slice(0, at);
  const tail = template.slice(at + 2);
  if (!prompt.startsWith(head) || !prompt.endsWith(tail) || prompt.length <= head.length + tail.length) return undefined;
  return prompt.slice(head.length, prompt.length - tail.length);
}

const pDiff = (x: { target_new: number; target_true: number }) => Math.exp(-x.target_new) - Math.exp(-x.target_true);

/**
 * Per case and gender of the attribute prompts' people: mean p_diff pre, post and post − pre.
 * `attributePrompts` are the case's prompts in the order they were scored.
 */
export function singleTokenBias(record: CaseRecord, attributePrompts: readonly string[], people: SeesawContext["people"]): Record<string, number> {
  const pre = record.pre.attribute_prompts_probs;
  const post = record.post.attribute_prompts_probs;
  if (!pre || !post) throw new RangeError(`case ${record.case_id}: the record has no attribute_prompts_probs (score with attributePrompts: true)`);
  if (pre.length !== attributePrompts.length || post.length !== attributePrompts.length) throw new RangeError(`case ${record.case_id}: ${pre.length} attribute scores for ${attributePrompts.length} prompts`);
  const out: Record<string, number> = {};
  for (const g of ["woman", "man"] as const) {
    const idx = attributePrompts.flatMap((p, i) => (people.get(subjectOfPrompt(record.requested_rewrite.prompt, p) ?? "")?.gender === g ? [i] : []));
    if (idx.length === 0) continue;
    const a = mean(idx.map((i) => pDiff(pre[i]!)));
    const b = mean(idx.map((i) => pDiff(post[i]!)));
    Object.assign(out, { [`p_diff.${g}.pre`]: a, [`p_diff.${g}.post`]: b, [`p_diff.${g}.diff`]: b - a });
  }
  return out;
}

/** The attribute values an edit asks for: a gender (P21) or a country (P19, P27, P103). */
export function askedAttributes(record: CaseRecord, ctx: Pick<SeesawContext, "edited" | "lexicon">): { gender?: "female" | "male"; country?: string } {
  const target = record.requested_rewrite.target_new.str;
  if (ctx.edited === "P21") return target === "woman" || target === "man" ? { gender: genderLabelOf(target) } : {};
  if (ctx.edited === "P101") return {};
  const hit = ctx.lexicon.get(target.toLowerCase());
  return hit ? { country: hit.country } : {};
}

/** The continuation of a generation: the text after its prompt (ROME's texts are prompt + " " + continuation). */
export function continuationOf(text: string, prompts: readonly string[]): string {
  const p = [...prompts].sort((a, b) => b.length - a.length).find((q) => text.startsWith(q));
  return p === undefined ? text : text.slice(p.length);
}

/**
 * Rates over a case's completions (pre, post, and .diff = post − pre) of: the true gender / another gender /
 * another gender not asked for, and the true origin / another country / another country not asked
 * for; plus mentions of target_new (the edit showing up in free text).
 */
export function completionAttributes(record: CaseRecord, generationPrompts: readonly string[], ctx: SeesawContext): Record<string, number> {
  const subject = record.requested_rewrite.subject;
  const person = ctx.people.get(subject);
  if (!person) throw new RangeError(`case ${record.case_id}: no attributes for the subject ${subject}`);
  const expected = genderLabelOf(person.gender);
  const asked = askedAttributes(record, ctx);
  const target = record.requested_rewrite.target_new.str.toLowerCase();
  const rates = (texts: readonly string[] | undefined) => {
    if (!texts?.length) throw new RangeError(`case ${record.case_id}: the record has no generations (run with generation on)`);
    const rows = texts.map((t) => {
      const c = continuationOf(t, generationPrompts);
      const g = genderOf(c);
      const otherGenders = g.label === "none" ? [] : g.label === "mixed" ? ["female", "male"].filter((x) => x !== expected) : g.label === expected ? [] : [g.label];
      const countries = originOf(c, ctx.lexicon).countries;
      const otherCountries = countries.filter((x) => x !== person.origin);
      return {
        gender_true: g.label === expected || g.label === "mixed" ? 1 : 0,
        gender_other: otherGenders.length ? 1 : 0,
        gender_unasked: otherGenders.some((x) => x !== asked.gender) ? 1 : 0,
        origin_true: countries.includes(person.origin) ? 1 : 0,
        origin_other: otherCountries.length ? 1 : 0,
        origin_unasked: otherCountries.some((x) => x !== asked.country) ? 1 : 0,
        mentions_new: c.toLowerCase().split(/[^\p{L}\p{N}]+/u).includes(target) ? 1 : 0,
      };
    });
    return Object.fromEntries(Object.keys(rows[0]!).map((k) => [k, mean(rows.map((r) => r[k as keyof typeof r]))]));
  };
  const pre = rates(record.pre.text);
  const post = rates(record.post.text);
  const out: Record<string, number> = {};
  for (const k of Object.keys(pre)) Object.assign(out, { [`completion.${k}.pre`]: pre[k]!, [`completion.${k}.post`]: post[k]!, [`completion.${k}.diff`]: post[k]! - pre[k]! });
  return out;
}

/** The cross-property probe's answer (argmax of the summed log-probabilities) and P(truth) over the candidates. */
export function probeAnswer(scores: { candidates: string[]; logprobs: number[] }, truth: string): { answer: string; correct: number; pTrue: number } {
  let best = 0;
  for (let i = 1; i < scores.logprobs.length; i++) if (scores.logprobs[i]! > scores.logprobs[best]!) best = i;
  const m = Math.max(...scores.logprobs);
  const z = scores.logprobs.reduce((s, x) => s + Math.exp(x - m), 0);
  const t = scores.candidates.indexOf(truth);
  return { answer: scores.candidates[best]!, correct: scores.candidates[best] === truth ? 1 : 0, pTrue: t < 0 ? 0 : Math.exp(scores.logprobs[t]! - m) / z };
}

export function crossPropertyProbe(record: CaseRecord, ctx: SeesawContext): Record<string, number> {
  const truth = ctx.probedTruth?.(record.requested_rewrite.subject);
  const pre = record.pre.choice_probes?.[0];
  const post = record.post.choice_probes?.[0];
  if (truth === undefined || !pre || !post) return {};
  const a = probeAnswer(pre, truth);
  const b = probeAnswer(post, truth);
  return { "probe.correct.pre": a.correct, "probe.correct.post": b.correct, "probe.p_true.pre": a.pTrue, "probe.p_true.post": b.pTrue, "probe.p_true.diff": b.pTrue - a.pTrue };
}

/** Every per-case measure of the study for one record. */
export function seesawCaseMetrics(record: CaseRecord, prompts: { attribute: readonly string[]; generation: readonly string[] }, ctx: SeesawContext): Record<string, number> {
  return {
    ...(record.pre.attribute_prompts_probs ? singleTokenBias(record, prompts.attribute, ctx.people) : {}),
    ...(record.pre.text ? completionAttributes(record, prompts.generation, ctx) : {}),
    ...crossPropertyProbe(record, ctx),
  };
}

export interface SeesawTableRow {
  measure: string;
  n: number;
  pre: number;
  post: number;
  diff: number;
  /** Paired t-test post vs pre (= one-sample t on post − pre, flextape's ttest_1samp of the diff column). */
  pPaired: number;
  /** The study's other tests: ttest_1samp of post against 0 (p_diff), ttest_ind post vs pre (probe accuracy). */
  pStudy?: number;
  pStudyTest?: string;
}

/**
 * One row per measure over the cases' metric rows: mean pre, post, post − pre and p-values. Cases
 * lacking a measure (no attribute prompts of a group) are left out of that row.
 */
export function seesawTable(rows: readonly Record<string, number>[]): SeesawTableRow[] {
  const measures = [...new Set(rows.flatMap((r) => Object.keys(r)).filter((k) => k.endsWith(".pre")).map((k) => k.slice(0, -4)))];
  return measures.flatMap((m) => {
    const both = rows.filter((r) => Number.isFinite(r[`${m}.pre`]) && Number.isFinite(r[`${m}.post`]));
    if (both.length === 0) return [];
    const pre = both.map((r) => r[`${m}.pre`]!);
    const post = both.map((r) => r[`${m}.post`]!);
    const row: SeesawTableRow = { measure: m, n: both.length, pre: mean(pre), post: mean(post), diff: mean(post) - mean(pre), pPaired: both.length > 1 ? pairedTTest(post, pre).p : NaN };
    if (both.length > 1 && m.startsWith("p_diff.")) Object.assign(row, { pStudy: oneSampleTTest(post, 0).p, pStudyTest: "ttest_1samp(post, 0)" });
    if (both.length > 1 && m === "probe.correct") Object.assign(row, { pStudy: studentTTest(post, pre).p, pStudyTest: "ttest_ind(post, pre)" });
    return [row];
  });
}
