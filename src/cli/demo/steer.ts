/**
 * The demo's steering section (called by `scalpel demo`): on the built-in model, fit a CAA vector
 * for its binary behaviour (agreeable vs blunt answers) from contrastive A/B pairs, show the
 * behaviour A/B score move with α, and one question answered without and with steering. Real
 * computations on a slice of the data, sized to run in a few seconds on 2 cores.
 */
import { existsSync } from "node:fs";
import { loadCAABehavior } from "../../steer/files-node.js";
import { generate } from "../../model/generate.js";
import type { Model } from "../../model/types.js";
import { abScoringRow } from "../../steer/ab-data.js";
import { residHook, steerModel, steeringPatch } from "../../steer/apply.js";
import { fitContrastVectors, memorySource } from "../../steer/fit.js";
import { abAt } from "../../steer/sweep.js";
import { BUILTIN_BEHAVIOR, builtinDataPath } from "../default-model.js";

export async function steerDemoSection(model: Model, log: (line: string) => void, dir = builtinDataPath("caa")): Promise<void> {
  if (!existsSync(dir)) {
    log(`steering: the built-in behaviour data (${dir}) is missing; skipped`);
    return;
  }
  const data = await loadCAABehavior(dir, BUILTIN_BEHAVIOR);
  const layer = Math.floor(model.config.nLayers / 2);
  const train = data.generate.slice(0, 32);
  const vectors = await fitContrastVectors(model, train, [layer], "caa", memorySource(model), `${BUILTIN_BEHAVIOR}/generate`);
  const v = vectors[layer]!;
  log(`Steering (CAA): the mean difference of layer-${layer} residual activations at the answer letter, between`);
  log(`the "${BUILTIN_BEHAVIOR}" answer and the blunt one, over ${train.length} A/B pairs; ‖v‖ = ${Math.hypot(...v).toFixed(2)}.`);
  const rows = data.testAB.slice(0, 32).map((it) => abScoringRow(model.tokenizer, it));
  const scores: string[] = [];
  for (const alpha of [-1, 0, 1]) scores.push(`α ${alpha}: ${(await abAt(model, v, layer, alpha, rows)).toFixed(3)}`);
  log(`A/B score on ${rows.length} held-out questions (mean p(agreeable letter), normalised over A/B; 0.5 = indifferent):`);
  log(`   ${scores.join("   ")}`);
  const question = data.openEnded[0]?.question;
  if (question) {
    const alpha = 1;
    const steered = steerModel(model, steeringPatch({ vectors: { [residHook(layer)]: v }, alpha, info: { method: "caa" } }));
    const [plain, pushed] = [await generate(model, [question], { maxNewTokens: 12 }), await generate(steered, [question], { maxNewTokens: 12 })];
    const away = steerModel(model, steeringPatch({ vectors: { [residHook(layer)]: v }, alpha: -alpha, info: { method: "caa" } }));
    const pulled = await generate(away, [question], { maxNewTokens: 12 });
    log(`"${question}"`);
    log(`   unsteered: ${plain.texts[0]}`);
    log(`   α = +${alpha}:    ${pushed.texts[0]}`);
    log(`   α = −${alpha}:    ${pulled.texts[0]}`);
  }
}
