/**
 * `scalpel demo`: the README's main job. A tour of the toolkit on the built-in fact-world model
 * (models/factworld: a small Llama-family model scalpel trained on a synthetic world whose every
 * fact is known): it answers questions, then we look inside and change what it does — read
 * activations, patch one run's activation into another and watch the answer follow, differentiate
 * through a hook (checked against finite differences), evaluate, edit a fact, steer a behaviour —
 * and finish with a TPE study in the experiment engine and its report. Every number printed is
 * computed, not canned.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { grad, numpy as np } from "@jax-js/jax";
import { arithmeticPrompt, arithmeticProblems } from "../../data/factworld/arithmetic.js";
import { factQueries } from "../../data/factworld/corpus.js";
import { buildFactWorld } from "../../data/factworld/world.js";
import type { FactWorld } from "../../data/factworld/types.js";
import { tokenLogprobs } from "../../eval/logprobs.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { generate } from "../../model/generate.js";
import { loadModel } from "../../model/load.js";
import { paramCount } from "../../model/model.js";
import type { Arr, Model } from "../../model/types.js";
import { initEngine } from "../../tensor/engine.js";
import { readF32 } from "../../tensor/own.js";
import { parseFlags, type Command } from "../command.js";
import { resolveModelDir } from "../default-model.js";

const pct = (p: number) => `${(p * 100).toFixed(1)}%`;

/** Softmax of the next-token logits after `ids` (optionally with hooks). */
async function nextProbs(model: Model, ids: number[], hooks?: Record<string, (x: Arr) => Arr>): Promise<Float32Array> {
  const { logits } = model.forward([ids], { logitsPositions: "last", ...(hooks ? { hooks } : {}) });
  const data = await readF32(logits!);
  let max = -Infinity;
  for (const v of data) max = Math.max(max, v);
  let sum = 0;
  const out = data.map((v) => {
    const e = Math.exp(v - max);
    sum += e;
    return e;
  });
  return out.map((v) => v / sum);
}

function top(model: Model, probs: Float32Array, k: number): string {
  const order = [...probs.keys()].sort((a, b) => probs[b]! - probs[a]!).slice(0, k);
  return order.map((i) => `${model.tokenizer.idToToken(i)} ${pct(probs[i]!)}`).join(", ");
}

const id = (model: Model, word: string) => model.tokenizer.encode(word, { addSpecialTokens: false }).ids[0]!;

async function askFacts(model: Model, world: FactWorld): Promise<void> {
  const queries = factQueries(world);
  // One trained template and one held-out paraphrase for a few relations.
  const picks = ["born_in", "works_for", "capital", "language"].flatMap((rel) => {
    const q = queries.filter((x) => x.relation === rel);
    return [q.find((x) => x.templates === "train")!, q.find((x) => x.templates === "paraphrase")!];
  });
  console.log(`\n2. Ask it (greedy next word; "held-out" prompts use wordings never seen in training)`);
  for (const q of picks) {
    const probs = await nextProbs(model, model.tokenizer.encode(q.prompt).ids);
    let best = 0;
    probs.forEach((p, i) => (p > probs[best]! ? (best = i) : 0));
    const word = model.tokenizer.idToToken(best);
    console.log(`   ${q.templates === "train" ? "trained " : "held-out"}  "${q.prompt}" → ${word} (${pct(probs[best]!)}) ${word === q.answer ? "✓" : `✗ (truth: ${q.answer})`}`);
  }
  const problem = arithmeticProblems(world, "test", 1)[0]!;
  const { texts } = await generate(model, [arithmeticPrompt(problem.question)], { maxNewTokens: 24 });
  console.log(`   arithmetic: "${problem.question}" → "${texts[0]}" (answer ${problem.target})`);
}

async function lookInside(model: Model, world: FactWorld): Promise<void> {
  const born = world.facts.filter((f) => f.relation === "born_in");
  const a = born[0]!;
  const b = born.find((f) => f.object !== a.object)!;
  const promptA = `${a.subject} was born in`;
  const promptB = `${b.subject} was born in`;
  const idsA = model.tokenizer.encode(promptA).ids;
  const idsB = model.tokenizer.encode(promptB).ids;
  const layer = 1;
  const point = `blocks.${layer}.hook_resid_post`;
  // The subject's tokens (after BOS; both names are two words, so the prompts align position by position).
  const nSubj = model.tokenizer.encode(a.subject, { addSpecialTokens: false }).ids.length;
  const isSubj = (j: number) => j >= 1 && j <= nSubj;
  const { cache } = model.forward([idsB], { cache: [point] });
  const donor = cache[point]!;
  console.log(`\n3. Look inside: activation patching at ${point} [batch, pos, d_model] = [${donor.shape}]`);
  const clean = await nextProbs(model, idsA);
  const patched = await nextProbs(model, idsA, {
    [point]: (x) => {
      // Replace the subject positions of prompt A's residual stream with prompt B's.
      const keep = np.array(idsA.map((_, j) => (isSubj(j) ? 0 : 1))).reshape([1, idsA.length, 1]);
      const take = np.array(idsA.map((_, j) => (isSubj(j) ? 1 : 0))).reshape([1, idsA.length, 1]);
      return x.mul(keep).add(donor.ref.mul(take));
    },
  });
  donor.dispose();
  const ta = id(model, a.object), tb = id(model, b.object);
  console.log(`   "${promptA}" → ${top(model, clean, 3)}`);
  console.log(`   with the residual stream at the subject's tokens (after block ${layer}) taken from "${promptB}":`);
  console.log(`   → ${top(model, patched, 3)}   P(${a.object}) ${pct(clean[ta]!)} → ${pct(patched[ta]!)}, P(${b.object}) ${pct(clean[tb]!)} → ${pct(patched[tb]!)}`);

  // Gradient through a hook: d log P(answer) / d v, v added at blocks.1.hook_resid_post.
  const target = ta;
  const logP = (v: Arr): Arr => {
    const { logits } = model.forward([idsA], { hooks: { [point]: (x) => x.add(v) }, paddedLogits: true });
    const last = logits!.slice([0, 1], [idsA.length - 1, idsA.length]);
    const { logprobs, greedy } = tokenLogprobs(last, np.array([[target]], { dtype: np.int32 }));
    greedy.dispose();
    return logprobs.sum();
  };
  const g = await readF32(grad(logP)(np.zeros([model.config.dModel])));
  const norm = Math.hypot(...g);
  const h = 1e-2;
  const unit = np.array(g.map((x) => (x / norm) * h));
  const up = (await readF32(logP(unit.ref)))[0]!;
  const down = (await readF32(logP(unit.mul(-1))))[0]!;
  console.log(`\n4. Differentiate through a hook: ∇_v log P("${a.object}") for v added at ${point}`);
  console.log(`   |∇| = ${norm.toFixed(5)}; central finite difference along ∇ gives ${((up - down) / (2 * h)).toFixed(5)}`);
}

async function studyTour(storeDir: string, n: number): Promise<void> {
  const configFile = path.join(storeDir, "demo", "branin-tpe.yaml");
  await writeFileAtomic(configFile, [
    "kind: optimize-function",
    "name: demo-branin-tpe",
    "seed: 1",
    "config: {function: branin, steps: 10}",
    "study:",
    "  n_trials: 30",
    "  sampler: tpe",
    "  pruner: {type: median, n_startup_trials: 5}",
    "  executor: inline",
    "  space:",
    "    x0: {type: float, low: -5, high: 10}",
    "    x1: {type: float, low: 0, high: 15}",
    "",
  ].join("\n"));
  const { loadExperiment } = await import("../../lab/config.js");
  const { runStudy } = await import("../../lab/study/driver.js");
  const { openStore } = await import("../../lab/store/store.js");
  const { reportData } = await import("../../lab/store/report-data.js");
  const { writeReport } = await import("../../lab/report/write.js");
  const exp = await loadExperiment(configFile);
  const store = openStore(storeDir);
  try {
    const result = await runStudy(store, exp, {});
    const files = await writeReport(reportData(store, "demo-branin-tpe"), path.join(storeDir, "reports", "demo-branin-tpe"));
    const best = result.best;
    console.log(`\n${n}. Experiment engine: ${configFile}, a 30-trial TPE study with median pruning on the Branin function`);
    console.log(`   ${result.counts.complete} complete, ${result.counts.pruned} pruned; best ${best?.value?.toFixed(4)} (global minimum 0.3979) at ` +
      `x0=${Number(best?.params.x0).toFixed(3)}, x1=${Number(best?.params.x1).toFixed(3)}; stored in ${path.join(storeDir, "scalpel.db")}`);
    console.log(`   report: ${files.html}`);
  } finally {
    store.close();
  }
}

/** The demo sections other parts of scalpel contribute (src/cli/demo/*.ts), in tour order. */
const SECTIONS: { title: string; load: () => Promise<(model: Model, log: (line: string) => void) => Promise<void>> }[] = [
  { title: "Evaluate", load: async () => (await import("../demo/eval.js")).evalDemoSection },
  { title: "Edit a fact (ROME)", load: async () => (await import("../demo/edit.js")).editDemoSection },
  { title: "Steer a behaviour (CAA)", load: async () => (await import("../demo/steer.js")).steerDemoSection },
];

export const demoCommand: Command = {
  name: "demo",
  summary: "A guided tour on the built-in fact-world model: ask, look inside, evaluate, edit, steer, search",
  usage: [
    "usage: scalpel demo [--model DIR] [--store DIR]",
    "",
    "Loads the built-in fact-world model (or --model DIR), asks it questions, patches an activation from",
    "one prompt into another and watches the answer follow, differentiates through a hook (checked",
    "against finite differences), evaluates it, edits a fact with ROME, steers its behaviour with a CAA",
    "vector, then runs a 30-trial TPE study and writes its HTML report. Every number printed is computed.",
    "",
    "  --model DIR   a Hugging Face checkpoint of the fact world (default: the built-in model)",
    "  --store DIR   where the results store and the report go (default ./.scalpel)",
  ].join("\n"),
  async run(argv) {
    const { values } = parseFlags("demo", argv, { model: { type: "string" }, store: { type: "string" } });
    const storeDir = path.resolve(values.store ?? ".scalpel");
    const dir = resolveModelDir(values.model);
    await initEngine();
    const model = await loadModel(dir);
    const world = buildFactWorld();
    const c = model.config;
    console.log("scalpel demo — the built-in model knows a synthetic world of invented people, cities, countries and companies");
    console.log(`\n1. The model: ${dir}`);
    console.log(`   ${c.modelType}: ${c.nLayers} layers, d_model ${c.dModel}, ${c.nHeads} query heads sharing ${c.nKVHeads} key/value heads, RMSNorm, SwiGLU, rotary;`);
    console.log(`   ${paramCount(model).toLocaleString("en")} parameters, ${model.hookNames().length} hook points; trained by \`scalpel train-default\` on ${world.facts.length} facts, arithmetic, dialogues`);
    const summary = path.join(dir, "training.json");
    if (existsSync(summary)) {
      const t = JSON.parse(await readFile(summary, "utf8")) as { acceptance?: { facts: { train: number; paraphrase: number }; arithmetic: { accuracy: number } } };
      if (t.acceptance) console.log(`   measured after training: facts ${pct(t.acceptance.facts.train)} (held-out wordings ${pct(t.acceptance.facts.paraphrase)}), arithmetic ${pct(t.acceptance.arithmetic.accuracy)}`);
    }
    await askFacts(model, world);
    await lookInside(model, world);
    let n = 5;
    for (const section of SECTIONS) {
      console.log(`\n${n++}. ${section.title}`);
      await (await section.load())(model, (line) => console.log(`   ${line}`));
    }
    model.dispose();
    await studyTour(storeDir, n);
    console.log("\nNext (every command defaults to the built-in model and its datasets; add --help for more):");
    console.log('  scalpel generate --prompt "The capital of ' + world.facts.find((f) => f.relation === "capital")!.subject + ' is" --max-tokens 4');
    console.log("  scalpel inspect                       the model's architecture and hook points");
    console.log("  scalpel eval --tasks factworld-qa,factworld-paraphrase,factworld-arithmetic");
    console.log("  scalpel edit --method rome --prompt \"{} was born in\" --subject \"...\" --target \"...\"");
    console.log("  scalpel steer --layer 2 --alpha 4 --prompt \"User : where was ... born ? Assistant :\"");
    console.log("  scalpel train-default                 rebuild the built-in model from its seed");
    console.log("  scalpel check CONFIG · scalpel study CONFIG · scalpel report STUDY · scalpel --help");
  },
};
