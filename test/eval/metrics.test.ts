/**
 * Golden tests of the multiple-choice metrics (lm-eval acc, acc_norm) and the harness path that
 * produces them: a hand-made 3-question task whose loglikelihoods are known (planted in the request
 * cache, so no model computes anything), checked against values worked out by hand.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { cacheNamespace, MemoryRequestCache, requestKey } from "../../src/eval/cache.js";
import { evaluate } from "../../src/eval/evaluate.js";
import { aggregate, multipleChoiceScores } from "../../src/eval/metrics.js";
import { specTask } from "../../src/eval/spec-task.js";
import { modelHash } from "../../src/model/hash.js";
import { fakeModel } from "./fake-model.js";

// Q1: acc picks "cat" (−2 > −3) but per character "elephant" wins (−3/8 > −2/3): acc 0, acc_norm 1.
// Q2: acc picks "no" (gold); per character "absolutely" wins (−2/10 > −1/2): acc 1, acc_norm 0.
// Q3: acc picks "red" (−0.5); per character "green" (−0.6/5 = −0.12 > −0.5/3): acc 0, acc_norm 1.
const DOCS = [
  { q: "Which is bigger ?", choices: ["cat", "elephant"], gold: 1, lls: [-2.0, -3.0] },
  { q: "Is it small ?", choices: ["no", "absolutely"], gold: 0, lls: [-1.0, -2.0] },
  { q: "Grass is ?", choices: ["red", "blue", "green"], gold: 2, lls: [-0.5, -4.0, -0.6] },
];

test("acc, acc_norm and p_target of single questions, by hand", () => {
  assert.deepEqual(multipleChoiceScores([-2, -3], ["cat", "elephant"], 1), { acc: 0, acc_norm: 1, p_target: 1 / (1 + Math.E) });
  const s = multipleChoiceScores([-1, -2], ["no", "absolutely"], 0);
  assert.equal(s.acc, 1);
  assert.equal(s.acc_norm, 0);
  // np.argmax: ties go to the first maximum.
  assert.equal(multipleChoiceScores([-1, -1], ["a", "b"], 1).acc, 0);
  assert.equal(multipleChoiceScores([-1, -1], ["a", "b"], 0).acc, 1);
});

test("a hand-made 3-question task through the harness: acc 1/3, acc_norm 2/3, prompts in lm-eval format", async () => {
  const task = specTask({
    name: "golden-mc",
    version: "1.0",
    kind: "multiple_choice",
    docs: DOCS,
    docToText: (d) => `Question : ${d.q}\nAnswer :`,
    docToChoice: (d) => d.choices,
    docToTarget: (d) => d.gold,
  });
  const model = fakeModel();
  const namespace = await cacheNamespace(await modelHash(model), "none");
  const cache = new MemoryRequestCache();
  const instances = task.instances();
  assert.equal(instances[0]!.prompt, "Question : Which is bigger ?\nAnswer :");
  assert.deepEqual(instances[0]!.requests.map((r) => r.type === "loglikelihood" && r.continuation), [" cat", " elephant"]);
  for (const [i, inst] of instances.entries()) {
    for (const [j, r] of inst.requests.entries()) {
      await cache.putMany([[await requestKey(namespace, r), { type: "loglikelihood", ll: DOCS[i]!.lls[j]!, isGreedy: false, nTokens: 1 }]]);
    }
  }
  const res = await evaluate(model, [task], { cache });
  assert.equal(res.stats.computed, 0, "every answer came from the planted cache");
  assert.equal(res.stats.cacheHits, 7);
  const m = res.tasks[0]!.metrics;
  assert.ok(Math.abs(m.acc!.value - 1 / 3) < 1e-12);
  assert.ok(Math.abs(m.acc_norm!.value - 2 / 3) < 1e-12);
  const p3 = Math.exp(-0.6) / (Math.exp(-0.5) + Math.exp(-4) + Math.exp(-0.6));
  const pt = (1 / (1 + Math.E) + 1 / (1 + Math.exp(-1)) + p3) / 3;
  assert.ok(Math.abs(m.p_target!.value - pt) < 1e-12);
  // stderr of acc: sample std of [0, 1, 0] / √3.
  assert.ok(Math.abs(m.acc!.stderr - Math.sqrt(1 / 3 / 3)) < 1e-12);
});

test("few-shot prompts: description + examples with the gold choice + the question; the seed fixes them", () => {
  const docs = Array.from({ length: 10 }, (_, i) => ({ q: `q${i}`, choices: ["x", "y"], gold: i % 2 }));
  const mk = (seed: number) =>
    specTask({ name: "fs", version: "1", kind: "multiple_choice", docs, numFewshot: 2, seed, description: () => "D\n\n", docToText: (d) => `${d.q} ->`, docToChoice: (d) => d.choices, docToTarget: (d) => d.gold });
  const a = mk(1).instances();
  assert.equal(a.length, 10);
  assert.match(a[0]!.prompt, /^D\n\nq\d -> [xy]\n\nq\d -> [xy]\n\nq0 ->$/);
  assert.ok(!a[0]!.prompt.slice(3, -5).includes("q0 ->"), "a document is never its own example");
  assert.deepEqual(mk(1).instances().map((i) => i.prompt), a.map((i) => i.prompt), "same seed, same prompts");
  assert.notDeepEqual(mk(2).instances().map((i) => i.prompt), a.map((i) => i.prompt), "another seed, other examples");
  // A document's prompt does not depend on --limit.
  assert.equal(mk(1).instances(3)[2]!.prompt, a[2]!.prompt);
  const first = specTask({ name: "fs", version: "1", kind: "multiple_choice", docs, fewshotDocs: docs, numFewshot: 2, sampler: "first_n", docToText: (d) => d.q, docToChoice: (d) => d.choices, docToTarget: (d) => d.gold });
  assert.equal(first.instances(1)[0]!.prompt, "q0 x\n\nq1 y\n\nq0");
});

test("aggregations: mean, perplexity, weighted perplexity, bits per byte", () => {
  assert.equal(aggregate("mean", [1, 0, 1, 1]), 0.75);
  assert.ok(Math.abs(aggregate("perplexity", [-1, -3]) - Math.exp(2)) < 1e-12);
  assert.ok(Math.abs(aggregate("weighted_perplexity", [[-4, 2], [-2, 1]]) - Math.exp(2)) < 1e-12);
  assert.ok(Math.abs(aggregate("bits_per_byte", [[-Math.LN2 * 6, 3]]) - 2) < 1e-12);
});
