/** Causal tracing (ROME calculate_hidden_flow) on a tiny model: the restoration identities. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  calculateHiddenFlow, embeddingStd, lastSubjectTokenEffect, subjectTokenRange, traceHook, traceWithPatch,
} from "../../src/edit/causal-trace.js";
import { traceHeatmapSvg } from "../../src/edit/trace-figure.js";
import { initEngine } from "../../src/tensor/engine.js";
import { tinyWordModel } from "./edit-fixtures.js";

await initEngine();
const prompt = "Aldo Venn was born in";

test("subject token range: tokens overlapping the subject's characters", () => {
  const model = tinyWordModel();
  assert.deepEqual(subjectTokenRange(model, prompt, "Aldo Venn").subjectRange, [0, 2]);
  assert.deepEqual(subjectTokenRange(model, "the capital of Tovia is", "Tovia").subjectRange, [3, 4]);
  assert.throws(() => subjectTokenRange(model, prompt, "Mira"), /does not occur/);
  model.dispose();
});

test("restoring every layer at every position recovers the clean probability exactly", async () => {
  const model = tinyWordModel();
  const input = subjectTokenRange(model, prompt, "Aldo Venn");
  const all = input.tokens.flatMap((_, t) => [0, 1, 2].map((l) => ({ token: t, hook: traceHook("", l) })));
  const lastLayer = input.tokens.map((_, t) => ({ token: t, hook: traceHook("", 2) }));
  const r = await traceWithPatch(model, input, [[], all, lastLayer], { noise: 2, samples: 4 });
  assert.ok(Math.abs(r.probs[0]! - r.highScore) > 1e-4, "the noise must change P(answer) for this test to mean anything");
  assert.ok(Math.abs(r.probs[1]! - r.highScore) < 1e-6, `${r.probs[1]} vs ${r.highScore}`);
  assert.ok(Math.abs(r.probs[2]! - r.highScore) < 1e-6);
  model.dispose();
});

test("noise with std 0 changes nothing: every restoration scores the clean probability", async () => {
  const model = tinyWordModel();
  const flow = await calculateHiddenFlow(model, prompt, "Aldo Venn", { noise: 0, samples: 3 });
  assert.ok(Math.abs(flow.lowScore - flow.highScore) < 1e-6);
  for (const row of flow.scores) for (const v of row) assert.ok(Math.abs(v - flow.highScore) < 1e-6);
  model.dispose();
});

test("hidden flow: table shape, clean at the last state, reproducible from the seed, MLP window, AIE, heat map", async () => {
  const model = tinyWordModel();
  const std = await embeddingStd(model, ["Aldo Venn", "Mira Tal"]);
  assert.ok(std > 0);
  const opts = { noise: 3 * std, samples: 5, seed: 1 };
  const flow = await calculateHiddenFlow(model, prompt, "Aldo Venn", opts);
  assert.equal(flow.scores.length, 5);
  assert.equal(flow.scores[0]!.length, 3);
  // Restoring the last position's output at the last layer gives the clean run (nothing after it).
  assert.ok(Math.abs(flow.scores[4]![2]! - flow.highScore) < 1e-6);
  // Tokens after the subject, restored at layer 0, leave the subject's corruption in place unless
  // it reaches them only through later layers — so at least one cell differs from the clean score.
  assert.ok(flow.scores.flat().some((v) => Math.abs(v - flow.highScore) > 1e-5));
  const again = await calculateHiddenFlow(model, prompt, "Aldo Venn", opts);
  assert.deepEqual(again.scores, flow.scores);
  const mlp = await calculateHiddenFlow(model, prompt, "Aldo Venn", { ...opts, kind: "mlp", window: 2 });
  assert.equal(mlp.window, 2);
  assert.equal(mlp.scores[0]!.length, 3);
  const { aie, bestLayer } = lastSubjectTokenEffect([flow]);
  assert.equal(aie.length, 3);
  assert.ok(Math.abs(aie[bestLayer]! - (Math.max(...flow.scores[1]!) - flow.lowScore)) < 1e-9);
  const svg = traceHeatmapSvg(flow);
  assert.match(svg, /^<svg/);
  assert.equal((svg.match(/<rect [^>]*><title>/g) ?? []).length, 15);
  assert.match(svg, /Venn\*/);
  model.dispose();
});
