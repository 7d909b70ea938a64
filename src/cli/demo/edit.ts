/**
 * The demo's knowledge-editing section: one ROME edit on the built-in model, with greedy
 * completions of the edited prompt, a paraphrase and a neighbour before and after, and the
 * probabilities ROME's metrics compare. The fact comes from the fact world's CounterFact export.
 */
import { existsSync } from "node:fs";
import { loadEditCases } from "../../data/editing/load.js";
import { rewritePrompt, scoreCases } from "../../eval/editing/score.js";
import { generate } from "../../model/generate.js";
import { applyPatch } from "../../model/patch.js";
import type { Model } from "../../model/types.js";
import { builtinDataPath } from "../default-model.js";
import { editorByName } from "../commands/edit-shared.js";
import { DEFAULT_STATS_DIR } from "../../edit/stats-store-node.js";

export async function editDemoSection(model: Model, log: (line: string) => void): Promise<void> {
  const file = builtinDataPath("counterfact");
  if (!existsSync(file)) {
    log(`(knowledge editing skipped: ${file} is missing — run scalpel train-default)`);
    return;
  }
  const [c] = await loadEditCases(file, { limit: 1 });
  const r = c!.request;
  const prompts = [rewritePrompt(c!), ...c!.paraphrasePrompts.slice(0, 1), ...c!.neighborhoodPrompts.slice(0, 1)];
  const kinds = ["edited prompt", "paraphrase (never edited)", "neighbour (must not change)"];
  const editor = editorByName("demo", "rome");
  log(`Knowledge editing with ROME: make the model believe "${r.prompt.replace("{}", r.subject)} ${r.targetNew}" (it says ${r.targetTrue}).`);
  const before = await generate(model, prompts, { maxNewTokens: 4 });
  const [pre] = await scoreCases(model, [c!]);
  const t0 = performance.now();
  const patch = await editor.edit(model, [r], editor.defaults(model.config), { cacheDir: DEFAULT_STATS_DIR });
  const edited = applyPatch(model, patch);
  try {
    log(`  rank-one update of ${Object.keys(patch.type === "weights" ? patch.deltas : {}).join(", ")} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const after = await generate(edited, prompts, { maxNewTokens: 4 });
    const [post] = await scoreCases(edited, [c!]);
    prompts.forEach((p, i) => log(`  ${kinds[i]}: "${p}"  before: ${before.texts[i]!.trim()}  |  after: ${after.texts[i]!.trim()}`));
    const p = (nll: number) => Math.exp(-nll).toFixed(3);
    log(`  P(${r.targetNew}) after the edited prompt: ${p(pre!.rewrite[0]!.nllNew)} → ${p(post!.rewrite[0]!.nllNew)}; P(${r.targetTrue}): ${p(pre!.rewrite[0]!.nllTrue)} → ${p(post!.rewrite[0]!.nllTrue)}`);
    if (post!.neighborhood.length) log(`  neighbour keeps ${r.targetTrue} more likely than ${r.targetNew}: ${post!.neighborhood[0]!.nllTrue < post!.neighborhood[0]!.nllNew ? "yes" : "no"}`);
    log("  (scalpel edit-eval --method rome --n 50 measures this over many facts)");
  } finally {
    edited.dispose();
  }
}
