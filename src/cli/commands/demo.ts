/**
 * `scalpel demo`: the README's main job. Walks through what the toolkit does, end to end, with
 * real computations: build and load a Hugging Face checkpoint, read activations at hook points,
 * intervene on one, differentiate through a hook (checked against finite differences), generate,
 * and run a TPE study with the experiment engine and write its report.
 *
 * The built-in *trained* model (the fact world) is a later piece of work; until it lands the demo
 * uses a small random-weight Llama-family model, so its words are meaningless while every number
 * printed is what the mechanism computes.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { grad, numpy as np } from "@jax-js/jax";
import { tokenLogprobs } from "../../eval/logprobs.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { wordLevelTokenizer } from "../../io/tokenizer/index.js";
import { familyFor } from "../../model/families/index.js";
import { generate } from "../../model/generate.js";
import { loadModel, saveModel } from "../../model/load.js";
import { createModel, paramCount } from "../../model/model.js";
import { randomParams } from "../../model/random-params.js";
import type { Arr, Model } from "../../model/types.js";
import { initEngine } from "../../tensor/engine.js";
import { readF32 } from "../../tensor/own.js";
import { parseFlags, type Command } from "../command.js";

const WORDS = (
  "the a cat dog sat ran on in under mat rug house garden park city river quickly slowly " +
  "and then because it was happy tired red blue big small one two three saw found took"
).split(" ");

const DEMO_CONFIG = {
  model_type: "llama",
  vocab_size: WORDS.length + 3, // + <unk> <s> </s>
  hidden_size: 64,
  intermediate_size: 176,
  num_hidden_layers: 4,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 128,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: true,
  bos_token_id: WORDS.length, // specials follow the words: <s>, </s>, <unk>
  eos_token_id: WORDS.length + 1,
};

/** Build the demo checkpoint once (deterministic from the seed), as an ordinary HF directory. */
async function ensureDemoCheckpoint(dir: string): Promise<boolean> {
  if (existsSync(path.join(dir, "model.safetensors"))) return false;
  const config = familyFor("llama", "config.json").parseConfig(DEMO_CONFIG, "config.json");
  const tokenizer = wordLevelTokenizer(WORDS, { unk: "<unk>", bos: "<s>", eos: "</s>", addBos: true });
  const model = createModel(config, randomParams(config, 2024, { std: 0.25, normStd: 0.1 }), tokenizer);
  await saveModel(model, dir);
  model.dispose();
  return true;
}

function top(probs: Float32Array, model: Model, k: number): string {
  const order = [...probs.keys()].sort((a, b) => probs[b]! - probs[a]!).slice(0, k);
  return order.map((i) => `${model.tokenizer.idToToken(i)} ${(probs[i]! * 100).toFixed(1)}%`).join(", ");
}

async function lastPositionProbs(model: Model, ids: number[], hooks?: Record<string, (x: Arr) => Arr>): Promise<Float32Array> {
  const { logits } = model.forward([ids], hooks ? { hooks } : {});
  const last = logits!.slice(0, ids.length - 1);
  const data = await readF32(np.exp(last.sub(np.max(last.ref, -1, { keepdims: true }))));
  let sum = 0;
  for (const v of data) sum += v;
  return data.map((v) => v / sum);
}

async function modelTour(dir: string): Promise<void> {
  const built = await ensureDemoCheckpoint(dir);
  console.log(`\n1. A Hugging Face checkpoint: ${built ? "built" : "reusing"} ${dir} (config.json, model.safetensors, tokenizer.json, tokenizer_config.json)`);
  const model = await loadModel(dir);
  const c = model.config;
  console.log(`   ${c.modelType}: ${c.nLayers} layers, d_model ${c.dModel}, ${c.nHeads} query heads sharing ${c.nKVHeads} key/value heads, ` +
    `RMSNorm, SwiGLU, rotary; ${paramCount(model).toLocaleString("en")} parameters, ${model.hookNames().length} hook points`);

  const prompt = "the cat sat on the";
  const ids = model.tokenizer.encode(prompt).ids;
  const target = model.tokenizer.tokenToId("mat")!;
  const layer = c.nLayers - 1;
  const resid = `blocks.${layer}.hook_resid_post`;
  const { cache } = model.forward([ids], { cache: [resid, "blocks.0.attn.hook_pattern"] });
  console.log(`\n2. Forward with hooks on "${prompt}" (ids ${JSON.stringify(ids)})`);
  console.log(`   cached ${resid} [${cache[resid]!.shape}] and blocks.0.attn.hook_pattern [${cache["blocks.0.attn.hook_pattern"]!.shape}]`);
  for (const a of Object.values(cache)) a.dispose();
  const before = await lastPositionProbs(model, ids);
  console.log(`   next token: ${top(before, model, 4)}`);

  // Intervention: push the last residual stream along the unembedding direction of "mat"
  // (embeddings are tied, so that is embed.W_E[mat]).
  const direction = model.params["embed.W_E"]!.ref.slice(target);
  const alpha = 2;
  const after = await lastPositionProbs(model, ids, { [resid]: (x) => x.add(direction.ref.mul(alpha)) });
  console.log(`\n3. Intervene: add ${alpha}·W_E["mat"] at ${resid}`);
  console.log(`   P("mat") ${(before[target]! * 100).toFixed(2)}% → ${(after[target]! * 100).toFixed(2)}%; next token: ${top(after, model, 4)}`);
  direction.dispose();

  // Gradient through a hook: d log P(mat | prompt) / d v, where v is added at blocks.1.hook_resid_post.
  const point = "blocks.1.hook_resid_post";
  const logP = (v: Arr): Arr => {
    const { logits } = model.forward([ids], { hooks: { [point]: (x) => x.add(v) } });
    const { logprobs, greedy } = tokenLogprobs(logits!.slice([0, 1], [ids.length - 1, ids.length]), np.array([[target]], { dtype: np.int32 }));
    greedy.dispose();
    return logprobs.sum();
  };
  const g = await readF32(grad(logP)(np.zeros([c.dModel])));
  const norm = Math.hypot(...g);
  const h = 1e-2;
  const unit = np.array(g.map((x) => (x / norm) * h));
  const up = (await readF32(logP(unit.ref)))[0]!;
  const down = (await readF32(logP(unit.mul(-1))))[0]!;
  console.log(`\n4. Differentiate through a hook: ∇_v log P("mat") for v added at ${point}`);
  console.log(`   |∇| = ${norm.toFixed(5)}; central finite difference along ∇ gives ${((up - down) / (2 * h)).toFixed(5)}`);

  const greedyOut = await generate(model, [prompt], { maxNewTokens: 8 });
  const sampled = await generate(model, [prompt], { maxNewTokens: 8, temperature: 1, topP: 0.9, seed: 1 });
  console.log(`\n5. Generate (KV cache): greedy "${prompt} ${greedyOut.texts[0]}"`);
  console.log(`   sampled, top-p 0.9, seed 1: "${prompt} ${sampled.texts[0]}"`);
  model.dispose();
}

async function studyTour(storeDir: string): Promise<void> {
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
    console.log(`\n6. Experiment engine: ${configFile}, a 30-trial TPE study with median pruning on the Branin function`);
    console.log(`   ${result.counts.complete} complete, ${result.counts.pruned} pruned; best ${best?.value?.toFixed(4)} (global minimum 0.3979) at ` +
      `x0=${Number(best?.params.x0).toFixed(3)}, x1=${Number(best?.params.x1).toFixed(3)}; stored in ${path.join(storeDir, "scalpel.db")}`);
    console.log(`   report: ${files.html}`);
  } finally {
    store.close();
  }
}

export const demoCommand: Command = {
  name: "demo",
  summary: "A guided tour: load a checkpoint, hooks, an intervention, gradients, generation, a TPE study",
  usage: [
    "usage: scalpel demo [--store DIR]",
    "",
    "Builds (once) a small random-weight Llama-family checkpoint in STORE/demo-model, loads it, caches",
    "activations at hook points, intervenes on the residual stream, differentiates through a hook",
    "(checked against finite differences), generates text, then runs a 30-trial TPE study on the",
    "Branin function and writes its HTML report. Every number printed is computed, not canned.",
    "",
    "  --store DIR   where the demo model, the results store and the report go (default ./.scalpel)",
  ].join("\n"),
  async run(argv) {
    const { values } = parseFlags("demo", argv, { store: { type: "string" } });
    const storeDir = path.resolve(values.store ?? ".scalpel");
    console.log("scalpel demo — the built-in trained model is not part of this build yet, so this tour runs on a");
    console.log("small random-weight model: its words are meaningless, but every mechanism and number is real.");
    await initEngine();
    await modelTour(path.join(storeDir, "demo-model"));
    await studyTour(storeDir);
    console.log("\nNext:");
    console.log(`  scalpel inspect  --model ${path.join(storeDir, "demo-model")}`);
    console.log(`  scalpel generate --model ${path.join(storeDir, "demo-model")} --prompt "the dog ran" --temperature 0.8 --seed 3`);
    console.log(`  scalpel forward  --model ${path.join(storeDir, "demo-model")} --text "the dog ran" --out acts.safetensors --cache blocks.1.hook_resid_post`);
    console.log("  scalpel check CONFIG · scalpel study CONFIG · scalpel report STUDY · scalpel --help");
  },
};
