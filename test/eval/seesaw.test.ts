/** The editing-pitfalls measures on hand-made records: worked examples of every formula. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CaseRecord, RewriteQuality } from "../../src/edit/case-records.js";
import { originLexicon } from "../../src/eval/editing/attributes.js";
import {
  askedAttributes,
  completionAttributes,
  continuationOf,
  crossPropertyProbe,
  probeAnswer,
  seesawTable,
  singleTokenBias,
  subjectOfPrompt,
  type SeesawContext,
} from "../../src/eval/editing/seesaw.js";

const world = {
  entities: [
    { name: "Feinderia", type: "country" },
    { name: "Quolland", type: "country" },
    { name: "Kelmar", type: "city" },
    { name: "Tovia", type: "city" },
  ],
  facts: [
    { subject: "Kelmar", relation: "located_in", object: "Feinderia" },
    { subject: "Tovia", relation: "located_in", object: "Quolland" },
    { subject: "Feinderia", relation: "language", object: "Feindish" },
  ],
  demonyms: { Feinderia: "Feinderian", Quolland: "Quollish" },
} as never;

const ctx: SeesawContext = {
  edited: "P19",
  probed: "P21",
  people: new Map([
    ["Aldo Venn", { gender: "woman", origin: "Feinderia" }],
    ["Mira Tal", { gender: "woman", origin: "Quolland" }],
    ["Oren Sade", { gender: "man", origin: "Quolland" }],
  ]),
  lexicon: originLexicon(world),
  probedTruth: (s) => (s === "Aldo Venn" ? "woman" : undefined),
};

const empty: RewriteQuality = { rewrite_prompts_probs: [], paraphrase_prompts_probs: [], neighborhood_prompts_probs: [], rewrite_prompts_correct: [], paraphrase_prompts_correct: [], neighborhood_prompts_correct: [] };
const nll = (p: number) => -Math.log(p);

function record(pre: Partial<RewriteQuality>, post: Partial<RewriteQuality>): CaseRecord {
  return {
    case_id: 3,
    grouped_case_ids: [3],
    num_edits: 1,
    requested_rewrite: { prompt: "{} was born in", subject: "Aldo Venn", target_new: { str: "Tovia" }, target_true: { str: "Kelmar" } },
    time: 0,
    pre: { ...empty, ...pre },
    post: { ...empty, ...post },
    metrics: { pre: {}, post: {} },
    edits_applied: 1,
    mode: "single",
    evaluated_at: "after-edit",
  };
}

test("subjectOfPrompt inverts the template; continuationOf strips the longest matching prompt", () => {
  assert.equal(subjectOfPrompt("{} was born in", "Oren Sade was born in"), "Oren Sade");
  assert.equal(subjectOfPrompt("The gender of {} is", "The gender of Mira Tal is"), "Mira Tal");
  assert.equal(subjectOfPrompt("{} was born in", "Oren Sade works in"), undefined);
  assert.equal(continuationOf("Aldo Venn is a doctor . She", ["Aldo", "Aldo Venn is"]), " a doctor . She");
});

test("single-token bias: mean P(new) − P(true) over each gender's attribute prompts, pre, post and the difference", () => {
  const prompts = ["Mira Tal was born in", "Oren Sade was born in", "Nobody Known was born in"];
  const pre = [{ target_new: nll(0.5), target_true: nll(0.25) }, { target_new: nll(0.4), target_true: nll(0.4) }, { target_new: nll(0.9), target_true: nll(0.1) }];
  const post = [{ target_new: nll(0.3), target_true: nll(0.25) }, { target_new: nll(0.6), target_true: nll(0.1) }, { target_new: nll(0.9), target_true: nll(0.1) }];
  const r = singleTokenBias(record({ attribute_prompts_probs: pre }, { attribute_prompts_probs: post }), prompts, ctx.people);
  // woman (Mira Tal): 0.5 − 0.25 = 0.25 → 0.3 − 0.25 = 0.05; man (Oren Sade): 0 → 0.5; the unknown person is in neither group.
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);
  close(r["p_diff.woman.pre"]!, 0.25);
  close(r["p_diff.woman.post"]!, 0.05);
  close(r["p_diff.woman.diff"]!, -0.2);
  close(r["p_diff.man.pre"]!, 0);
  close(r["p_diff.man.diff"]!, 0.5);
  assert.equal(Object.keys(r).length, 6);
  assert.throws(() => singleTokenBias(record({}, {}), prompts, ctx.people), /no attribute_prompts_probs/);
});

test("completion attributes: true / other / not-asked-for gender and origin rates, pre, post and post − pre", () => {
  const prompts = ["The gender of Aldo Venn is", "Aldo Venn is"];
  const pre = ["The gender of Aldo Venn is woman . She was born in Kelmar", "Aldo Venn is a Feinderian doctor ."];
  const post = [
    "The gender of Aldo Venn is woman . He lives in Tovia", // both genders (not asked: a birthplace edit), the asked country
    "Aldo Venn is a Quollish doctor . She speaks Feindish", // the asked country (Quolland) via demonym; languages are not origin
  ];
  const r = completionAttributes(record({ text: pre }, { text: post }), prompts, ctx);
  assert.deepEqual(askedAttributes(record({}, {}), ctx), { country: "Quolland" });
  assert.equal(r["completion.gender_true.pre"], 0.5, "the second text asserts no gender");
  assert.equal(r["completion.gender_true.post"], 1, "'woman … He' asserts both genders: it counts as true and as other");
  assert.equal(r["completion.gender_other.pre"], 0);
  assert.equal(r["completion.gender_other.post"], 0.5);
  assert.equal(r["completion.gender_unasked.post"], 0.5);
  assert.equal(r["completion.origin_true.pre"], 1);
  assert.equal(r["completion.origin_true.post"], 0);
  assert.equal(r["completion.origin_other.post"], 1);
  assert.equal(r["completion.origin_unasked.post"], 0, "Quolland is what the edit asked for");
  assert.equal(r["completion.mentions_new.post"], 0.5);
  assert.equal(r["completion.origin_true.diff"], -1);
  // A gender edit asks for the new gender: asserting it is not "unasked".
  const g = completionAttributes({ ...record({ text: pre }, { text: post }), requested_rewrite: { prompt: "The gender of {} is", subject: "Aldo Venn", target_new: { str: "man" } } }, prompts, { ...ctx, edited: "P21" });
  assert.equal(g["completion.gender_other.post"], 0.5);
  assert.equal(g["completion.gender_unasked.post"], 0);
  assert.equal(g["completion.origin_unasked.post"], 1, "a gender edit asks for no country");
});

test("cross-property probe: argmax of summed log-probabilities, P(truth) normalised over the candidates", () => {
  const a = probeAnswer({ candidates: ["man", "woman"], logprobs: [Math.log(0.2), Math.log(0.6)] }, "woman");
  assert.deepEqual([a.answer, a.correct], ["woman", 1]);
  assert.ok(Math.abs(a.pTrue - 0.75) < 1e-12);
  const probe = (lp: number[]) => [{ prompt: "The gender of Aldo Venn is", candidates: ["man", "woman"], logprobs: lp }];
  const r = crossPropertyProbe(record({ choice_probes: probe([-3, -1]) }, { choice_probes: probe([-1, -2]) }), ctx);
  assert.equal(r["probe.correct.pre"], 1);
  assert.equal(r["probe.correct.post"], 0);
  assert.ok(Math.abs(r["probe.p_true.post"]! - 1 / (1 + Math.E)) < 1e-12);
});

test("seesawTable: means, paired p (= one-sample on the differences) and the study's own tests", () => {
  const rows: Record<string, number>[] = [
    { "probe.correct.pre": 1, "probe.correct.post": 0, "p_diff.man.pre": 0.1, "p_diff.man.post": 0.3 },
    { "probe.correct.pre": 1, "probe.correct.post": 1, "p_diff.man.pre": 0.2, "p_diff.man.post": 0.3 },
    { "probe.correct.pre": 1, "probe.correct.post": 0, "p_diff.man.pre": 0.0, "p_diff.man.post": 0.5 },
    { "probe.correct.pre": 0, "probe.correct.post": 0 },
  ];
  const t = seesawTable(rows);
  const probe = t.find((r) => r.measure === "probe.correct")!;
  assert.deepEqual([probe.n, probe.pre, probe.post], [4, 0.75, 0.25]);
  // scipy.stats.ttest_rel([0,1,0,0], [1,1,1,0]).pvalue = 0.1816901138162093; ttest_ind(post, pre).pvalue = 0.20703124999999997
  assert.ok(Math.abs(probe.pPaired - 0.1816901138162093) < 1e-9, String(probe.pPaired));
  assert.equal(probe.pStudyTest, "ttest_ind(post, pre)");
  assert.ok(Math.abs(probe.pStudy! - 0.20703124999999997) < 1e-9, String(probe.pStudy));
  const man = t.find((r) => r.measure === "p_diff.man")!;
  assert.equal(man.n, 3, "the case without that group is left out");
  assert.ok(Math.abs(man.diff - 0.8 / 3) < 1e-12);
  assert.equal(man.pStudyTest, "ttest_1samp(post, 0)");
});
