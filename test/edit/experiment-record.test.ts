/**
 * What an editing experiment records besides its metrics: the covariance sample each layer used
 * (corpus, texts, tokens, max length) and the generation settings of the generation metrics.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { EditCase } from "../../src/data/editing/case.js";
import { runEditExperiment } from "../../src/edit/experiment.js";
import { initEngine } from "../../src/tensor/engine.js";
import { FAST, REQUESTS, TINY, tinyCorpus, tinyModel } from "./tiny.js";

await initEngine();

const cases: EditCase[] = REQUESTS.slice(0, 1).map((request, i) => ({
  id: String(i), request, paraphrasePrompts: [], neighborhoodPrompts: [], attributePrompts: [`Dax Roe was born in`],
  generationPrompts: [`${request.subject} is`], locality: [], portability: [], source: "test",
}));

test("runEditExperiment records the covariance sample and the generation settings", async () => {
  const model = tinyModel();
  const r = await runEditExperiment(model, cases, {
    method: "rome", hparams: { ...FAST, layers: [1], v_num_grad_steps: 2, mom2_max_length: 6 }, generation: { maxOutLen: 9 }, seed: 4, context: { caches: TINY },
  });
  assert.deepEqual(r.covariance.map((c) => [c.layer, c.corpus, c.texts, c.maxLength]), [[1, "registered:tiny", tinyCorpus().length, 6]]);
  assert.ok(r.covariance[0]!.tokens > tinyCorpus().length, "tokens counted");
  assert.deepEqual(r.generation, { maxOutLen: 9, topK: 5, seed: 4 });
  const ft = await runEditExperiment(model, cases, { method: "ft", hparams: { num_steps: 1 } });
  assert.deepEqual(ft.covariance, [], "FT uses no covariance");
  assert.equal(ft.generation, undefined);
});
