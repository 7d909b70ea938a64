/**
 * Acceptance on the built-in fact-world model (issue 7): a CAA vector for its binary behaviour
 * (agreeable vs blunt) moves the A/B score monotonically with α — up for α > 0, down for α < 0 —
 * and a probe finds the behaviour with ≥ 90% test accuracy at its best layer (chosen on
 * validation). The layer for the α check is chosen on validation too; the α row is read on test.
 * Skipped while the checkpoint is absent.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { BUILTIN_MODEL_DIR, BUILTIN_BEHAVIOR, builtinDataPath } from "../../src/cli/default-model.js";
import { loadCAABehavior, loadStyledPrompts } from "../../src/steer/files-node.js";
import { loadModel } from "../../src/model/load.js";
import { initEngine } from "../../src/tensor/engine.js";
import { abScoringRow } from "../../src/steer/ab-data.js";
import { fitContrastVectors, fitProbes, memorySource } from "../../src/steer/fit.js";
import { splitIndices, take } from "../../src/steer/splits.js";
import { abAt, abSweep, monotone, sweepTable } from "../../src/steer/sweep.js";

const present = existsSync(path.join(BUILTIN_MODEL_DIR, "model.safetensors")) && existsSync(builtinDataPath("caa"));

/**
 * α is CAA's multiplier of the raw mean-difference vector: α = 1 moves an activation by the whole
 * separation between the two classes' means (the CAA paper sweeps multipliers in about [−1.5, 1.5]
 * for A/B questions). Larger multipliers push activations off the model's distribution: at α = ±2
 * and beyond, the cued items' answers fall towards chance on every layer of this model.
 */
const ALPHAS = [-1, -0.5, -0.25, 0, 0.25, 0.5, 1];

test("built-in model: CAA moves the A/B score monotonically with α; a probe finds the behaviour (≥ 90%)", { skip: !present && "built-in model not present" }, async () => {
  await initEngine();
  const model = await loadModel(BUILTIN_MODEL_DIR);
  const data = await loadCAABehavior(builtinDataPath("caa"), BUILTIN_BEHAVIOR);
  const split = splitIndices(data.generate.length, 1, { train: 0.75, val: 0.25, test: 0 });
  const layers = Array.from({ length: model.config.nLayers }, (_, i) => i);
  const vectors = await fitContrastVectors(model, take(data.generate, split.train), layers, "caa", memorySource(model), "train");
  // Layer chosen on validation: the widest gap between the grid's ends (α = 1 vs α = −1).
  const val = take(data.generate, split.val).map((it) => abScoringRow(model.tokenizer, it));
  const effect = await abSweep(model, vectors, layers, [-1, 1], val);
  const gap = (l: number) => effect.find((c) => c.layer === l && c.alpha === 1)!.value - effect.find((c) => c.layer === l && c.alpha === -1)!.value;
  const layer = layers.reduce((a, b) => (gap(b) > gap(a) ? b : a));
  const testRows = data.testAB.map((it) => abScoringRow(model.tokenizer, it));
  const cells = await abSweep(model, vectors, [layer], ALPHAS, testRows);
  console.log(`layer chosen on validation: ${layer}\ntest:\n${sweepTable(cells)}`);
  assert.ok(monotone(cells, layer, true), "A/B score not monotone in α");
  const at = (a: number) => cells.find((c) => c.alpha === a)!.value;
  assert.ok(at(1) > at(0) && at(0) > at(-1), `α=1 ${at(1)}, α=0 ${at(0)}, α=-1 ${at(-1)}`);
  assert.ok((await abAt(model, vectors[layer]!, layer, 0, testRows)) === at(0));

  const labelled = await loadStyledPrompts(builtinDataPath("behaviour"));
  const ps = splitIndices(labelled.length, 1);
  const probes = await fitProbes(model, labelled, layers, ps, memorySource(model), "labelled");
  const best = [...probes].sort((a, b) => b.val.accuracy - a.val.accuracy)[0]!;
  console.log(probes.map((p) => `layer ${p.layer}: val ${p.val.accuracy.toFixed(3)} test ${p.test.accuracy.toFixed(3)} AUC ${p.test.auc.toFixed(3)}`).join("\n"));
  assert.ok(best.test.accuracy >= 0.9, `best probe (layer ${best.layer}) test accuracy ${best.test.accuracy}`);
  model.dispose();
});
