/**
 * Generation metrics under steering (answer extraction, the open-ended marker rule and probe
 * judge) and the sweep helpers (table, selection on validation, monotonicity, TPE search with
 * median pruning), on worked examples and the tiny model.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { generate } from "../../src/model/generate.js";
import { residHook } from "../../src/steer/apply.js";
import { fitContrastVectors, memorySource } from "../../src/steer/fit.js";
import { arithmeticAccuracy, extractAnswer, openEndedBehaviour } from "../../src/steer/generation-evals.js";
import { abScoringRow } from "../../src/steer/ab-data.js";
import { abSearch, monotone, selectBest, sweepPlotSpec, sweepTable } from "../../src/steer/sweep.js";
import { abItems, tinySteerModel } from "./helpers.js";

test("GSM8K answer extraction: strict '#### N' first, else the last number", () => {
  assert.equal(extractAnswer("3 + 4 = 7 . #### 7"), 7);
  assert.equal(extractAnswer("so 12 apples , then 15 . #### 1,234"), 1234);
  assert.equal(extractAnswer("we get 5 and then 9 ."), 9);
  assert.equal(extractAnswer("-3 is the answer"), -3);
  assert.equal(extractAnswer("no number here"), undefined);
});

test("open-ended behaviour by marker word and by probe; arithmetic accuracy by hand", async () => {
  const model = tinySteerModel();
  const prompts = ["User : the cat is good ? Answer :", "the dog sat", "one two"];
  const g = await generate(model, prompts, { maxNewTokens: 6 });
  const first = g.texts.map((t) => t.trim().split(/\s+/)[0]!);
  const r = await openEndedBehaviour(model, prompts, { kind: "markers", markers: [first[0]!] }, { maxNewTokens: 6 });
  assert.deepEqual(r.texts, g.texts);
  assert.deepEqual(r.shows, first.map((w) => w === first[0]));
  assert.equal(r.rate, r.shows.filter(Boolean).length / 3);
  // A probe with w = 0 and b > 0 says "yes" to everything; b < 0 to nothing.
  const yes = await openEndedBehaviour(model, prompts, { kind: "probe", hook: residHook(1), probe: { w: new Float64Array(32), b: 1, iterations: 0 } }, { maxNewTokens: 3 });
  const no = await openEndedBehaviour(model, prompts, { kind: "probe", hook: residHook(1), probe: { w: new Float64Array(32), b: -1, iterations: 0 } }, { maxNewTokens: 3 });
  assert.equal(yes.rate, 1);
  assert.equal(no.rate, 0);
  const items = [{ question: "one plus two", target: 3 }, { question: "two plus two", target: 4 }];
  const acc = await arithmeticAccuracy(model, items, { maxNewTokens: 4 });
  const want = acc.texts.filter((t, i) => extractAnswer(t) === items[i]!.target).length / 2;
  assert.equal(acc.accuracy, want);
  model.dispose();
});

test("sweep table, selection, monotonicity, plot spec", () => {
  const cells = [
    { layer: 0, alpha: -1, value: 0.3 }, { layer: 0, alpha: 0, value: 0.5 }, { layer: 0, alpha: 1, value: 0.7 },
    { layer: 2, alpha: -1, value: 0.45 }, { layer: 2, alpha: 0, value: 0.5 }, { layer: 2, alpha: 1, value: 0.48 },
  ];
  assert.equal(sweepTable(cells), ["| α \\ A/B score | layer 0 | layer 2 |", "|---|---|---|", "| -1 | 0.3000 | 0.4500 |", "| 0 | 0.5000 | 0.5000 |", "| 1 | 0.7000 | 0.4800 |"].join("\n"));
  assert.deepEqual(selectBest(cells), { layer: 0, alpha: 1, value: 0.7 });
  assert.deepEqual(selectBest(cells, "minimize"), { layer: 0, alpha: -1, value: 0.3 });
  // Ties: the smaller |α|, then the earlier layer.
  assert.deepEqual(selectBest([{ layer: 1, alpha: 2, value: 0.6 }, { layer: 0, alpha: -1, value: 0.6 }, { layer: 0, alpha: 1, value: 0.6 }]), { layer: 0, alpha: -1, value: 0.6 });
  assert.equal(monotone(cells, 0), true);
  assert.equal(monotone(cells, 2), false);
  const spec = sweepPlotSpec(cells) as unknown as { data: { values: unknown[] }; encoding: { x: { field: string } } };
  assert.equal(spec.data.values.length, 6);
  assert.equal(spec.encoding.x.field, "alpha");
});

test("TPE search over layer × α: seeded, within bounds, prunes with the median rule", async () => {
  const model = tinySteerModel();
  const items = abItems(12);
  const vectors = await fitContrastVectors(model, items, [0, 1], "caa", memorySource(model), "t");
  const rows = abItems(12).map((it) => abScoringRow(model.tokenizer, it));
  const opts = { nTrials: 10, seed: 5, alphaLow: -6, alphaHigh: 6, chunks: 3 };
  const a = await abSearch(model, vectors, [0, 1], rows, opts);
  const b = await abSearch(model, vectors, [0, 1], rows, opts);
  assert.deepEqual(a, b, "same seed, same search");
  assert.equal(a.trials.length, 10);
  assert.ok(a.trials.every((t) => [0, 1].includes(t.layer) && t.alpha >= -6 && t.alpha <= 6));
  assert.ok(a.trials.every((t) => (t.state === "pruned") === (t.steps < 3)));
  assert.ok(a.trials.some((t) => t.state === "pruned"), "nothing was pruned");
  assert.equal(a.best.value, Math.max(...a.trials.filter((t) => t.state === "complete").map((t) => t.value)));
  model.dispose();
});
