/**
 * `scalpel train-default`: rebuild the built-in model from nothing — the fact world, its tokenizer,
 * a Llama-family model trained on the world's corpus — then measure what it knows and write it as
 * an ordinary Hugging Face checkpoint with the world's datasets beside it (models/factworld/data).
 * Killed runs resume from the last training checkpoint (every 50 steps).
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import { arithmeticProblems } from "../../data/factworld/arithmetic.js";
import { styledPrompts } from "../../data/factworld/behaviour.js";
import { factQueries } from "../../data/factworld/corpus.js";
import { exportFactWorldData } from "../../data/factworld/export-files.js";
import { toolPrompts } from "../../data/factworld/tools.js";
import { FACTWORLD_SEED } from "../../data/factworld/world.js";
import { arithmeticAccuracy, factAccuracy, markerAccuracy, toolAccuracy } from "../../eval/factworld-acceptance.js";
import { writeJsonFile } from "../../io/json.js";
import { saveModel } from "../../model/load.js";
import { paramCount } from "../../model/model.js";
import type { Model } from "../../model/types.js";
import { initEngine } from "../../tensor/engine.js";
import { DEFAULT_TRAINING, DEFAULT_VARIANT, defaultModelParts, STAGE2_TRAINING, type ModelVariant } from "../../train/default-model.js";
import { FACTWORLD_M_STAGE2, FACTWORLD_M_TRAINING, FACTWORLD_M_VARIANT } from "../../train/factworld-m.js";
import type { TrainDocument } from "../../train/batches.js";
import type { TrainConfig } from "../../train/config.js";
import { train } from "../../train/loop.js";
import { Progress } from "../../lab/progress.js";
import { parseFlags, type Command } from "../command.js";
import { BUILTIN_MODEL_DIR } from "../default-model.js";
import { numberFlag } from "./forward.js";
import { UsageError } from "../../errors.js";

/** Where factworld-m goes by default: beside the small model. */
export const BUILTIN_M_MODEL_DIR = path.join(path.dirname(BUILTIN_MODEL_DIR), "factworld-m");

const usage = `scalpel train-default — rebuild the built-in fact-world model

usage: scalpel train-default [--variant small|m] [--out DIR] [--seed N] [--steps N] [--stage2-steps N] [--fresh] [--no-eval]

  --variant V   small (default): the built-in model; m: factworld-m (issue 21), 1,200 people with
                gender and origin, 6 layers, d_model 256 (stage 1 ${FACTWORLD_M_TRAINING.totalSteps} steps, stage 2
                ${FACTWORLD_M_STAGE2.totalSteps}: many hours on 2 cores — run it in the background, it resumes)
  --out DIR     where to write the checkpoint (default: ${path.relative(process.cwd(), BUILTIN_MODEL_DIR) || BUILTIN_MODEL_DIR}, or
                ${path.relative(process.cwd(), BUILTIN_M_MODEL_DIR) || BUILTIN_M_MODEL_DIR} for --variant m)
  --seed N      world, initialisation and data-order seed (default ${FACTWORLD_SEED})
  --steps N     optimizer steps of the first stage (default ${DEFAULT_TRAINING.totalSteps}; fewer for a quick, weaker model)
  --stage2-steps N   steps of the second stage (default ${STAGE2_TRAINING.totalSteps}): relative-clause
                statements and A/B answers that go on after the letter, from the first stage's weights
  --fresh       ignore training checkpoints of an earlier, interrupted run
  --no-eval     skip the final measurement (quick rebuilds and tests)
  --checkpoint-every N   training checkpoint interval in steps (default 50)

The same seed gives a byte-identical world and tokenizer, and on the same machine the same
weights. Training checkpoints go to DIR/../.train-<name>-<seed> (second stage: …-stage2) and a
killed run continues from the last one. A step-N folder is self-contained: put under the same
path on another machine (copied, or committed with git add -f), it resumes the run there. At the end the model's knowledge is measured (facts with
trained and held-out templates, arithmetic in GSM8K's #### format, the behaviour marker, tool
calls) and written to DIR/training.json with both stages' loss curves.`;

const VARIANTS: Record<string, { variant: ModelVariant; out: string }> = {
  small: { variant: DEFAULT_VARIANT, out: BUILTIN_MODEL_DIR },
  m: { variant: FACTWORLD_M_VARIANT, out: BUILTIN_M_MODEL_DIR },
};

export interface Acceptance {
  facts: Awaited<ReturnType<typeof factAccuracy>>;
  arithmetic: Awaited<ReturnType<typeof arithmeticAccuracy>>;
  marker: Awaited<ReturnType<typeof markerAccuracy>>;
  tools: Awaited<ReturnType<typeof toolAccuracy>>;
}

/** Everything issue 3 asks the built-in model to know, measured on the world's own sets. */
export async function measureAcceptance(model: Model, world: Parameters<typeof factQueries>[0]): Promise<Acceptance> {
  return {
    facts: await factAccuracy(model, factQueries(world)),
    arithmetic: await arithmeticAccuracy(model, arithmeticProblems(world, "test", 200)),
    marker: await markerAccuracy(model, styledPrompts(world, "test", 300)),
    tools: await toolAccuracy(model, toolPrompts(world, "test", 60)),
  };
}

export function acceptanceLines(a: Acceptance): string[] {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return [
    `facts, trained templates      ${pct(a.facts.train)} of ${a.facts.n.train}`,
    `facts, held-out paraphrases   ${pct(a.facts.paraphrase)} of ${a.facts.n.paraphrase}`,
    `arithmetic (#### N, strict)   ${pct(a.arithmetic.accuracy)} of ${a.arithmetic.n}`,
    `behaviour marker from cue     ${pct(a.marker.accuracy)} of ${a.marker.n} (uncued prompts: P(agreeable) ${a.marker.neutralAgreeable.toFixed(2)})`,
    `tool call vs copy             ${pct(a.tools.accuracy)} of ${a.tools.n}`,
  ];
}

export const trainDefaultCommand: Command = {
  name: "train-default",
  summary: "Rebuild the built-in fact-world model (world, tokenizer, training, acceptance)",
  usage,
  async run(argv) {
    const { values } = parseFlags("train-default", argv, {
      variant: { type: "string" },
      out: { type: "string" },
      seed: { type: "string" },
      steps: { type: "string" },
      "stage2-steps": { type: "string" },
      fresh: { type: "boolean" },
      "no-eval": { type: "boolean" },
      "checkpoint-every": { type: "string" },
    });
    const chosen = VARIANTS[values.variant ?? "small"];
    if (!chosen) throw new UsageError("BAD_FLAG", `--variant must be one of ${Object.keys(VARIANTS).join(", ")}, got ${values.variant}`, { fix: "use --variant small or --variant m" });
    const { variant } = chosen;
    const out = path.resolve(values.out ?? chosen.out);
    const seed = numberFlag("train-default", "seed", values.seed, { integer: true, min: 0 }) ?? FACTWORLD_SEED;
    const steps = numberFlag("train-default", "steps", values.steps, { integer: true, min: 1 }) ?? variant.training.totalSteps!;
    const steps2 = numberFlag("train-default", "stage2-steps", values["stage2-steps"], { integer: true, min: 1 }) ?? variant.stage2.totalSteps!;
    const every = numberFlag("train-default", "checkpoint-every", values["checkpoint-every"], { integer: true, min: 1 }) ?? 50;
    const ckptDir = path.join(path.dirname(out), `.train-${path.basename(out)}-${seed}`);
    if (values.fresh) for (const d of [ckptDir, `${ckptDir}-stage2`]) await rm(d, { recursive: true, force: true });

    await initEngine();
    const { world, tokenizer, model, documents, stage2Documents } = defaultModelParts(seed, variant);
    const count = (docs: TrainDocument[]) => docs.reduce((s, d) => s + d.tokens.length, 0);
    console.log(`fact world (seed ${seed}): ${world.entities.length} entities, ${world.facts.length} facts, vocabulary ${tokenizer.vocabSize} words`);
    console.log(`model: Llama, ${paramCount(model).toLocaleString("en")} parameters; corpus ${count(documents).toLocaleString("en")} tokens (${documents.length} documents), stage 2 ${count(stage2Documents).toLocaleString("en")} tokens`);
    const stage = (base: Partial<TrainConfig>, n: number): Partial<TrainConfig> => ({ ...base, totalSteps: n, warmupSteps: Math.min(base.warmupSteps!, Math.ceil(n / 10)), checkpointEvery: every, evalEvery: 0, logEvery: 1, seed });
    const config = stage(variant.training, steps);
    const config2 = stage(variant.stage2, steps2);
    const first = await trainStage("stage 1", model, documents, config, ckptDir);
    model.dispose();
    const result = await trainStage("stage 2", first.model, stage2Documents, config2, `${ckptDir}-stage2`);
    first.model.dispose();

    let acceptance: Acceptance | undefined;
    if (!values["no-eval"]) {
      console.log("measuring what the model knows …");
      acceptance = await measureAcceptance(result.model, world);
      for (const line of acceptanceLines(acceptance)) console.log(`  ${line}`);
    }
    await saveModel(result.model, out);
    const files = await exportFactWorldData(world, path.join(out, "data"));
    await writeJsonFile(path.join(out, "training.json"), {
      seed,
      ...(variant === DEFAULT_VARIANT ? {} : { variant: variant.name }),
      config: variant.configJson(tokenizer),
      training: config,
      stage2: config2,
      corpusTokens: count(documents),
      stage2Tokens: count(stage2Documents),
      losses: first.losses.map((l) => [l.step, Number(l.loss.toFixed(5))]),
      stage2Losses: result.losses.map((l) => [l.step, Number(l.loss.toFixed(5))]),
      acceptance: acceptance ?? null,
    });
    result.model.dispose();
    console.log(`wrote ${out} (config.json, model.safetensors, tokenizer.json, training.json) and ${files.length} dataset files in ${path.join(out, "data")}`);
    return 0;
  },
};

/** One training stage with its own checkpoint folder, progress bar and log lines. */
async function trainStage(label: string, model: Model, documents: TrainDocument[], config: Partial<TrainConfig>, checkpointDir: string) {
  const steps = config.totalSteps!;
  const bar = new Progress({ label, total: steps });
  let lastLog = 0;
  const result = await train({
    model,
    documents,
    config,
    checkpointDir,
    resume: true,
    log: (e) => {
      bar.update(e.step, `loss ${e.loss.toFixed(3)} lr ${e.lr.toExponential(1)} ${Math.round(e.tokensPerSec)} tok/s`);
      if (!process.stderr.isTTY && (e.step - lastLog >= 50 || e.step === steps)) {
        lastLog = e.step;
        console.log(`${label}: step ${e.step}/${steps} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)} grad-norm ${e.gradNorm.toFixed(2)} ${Math.round(e.tokensPerSec)} tok/s`);
      }
    },
  });
  bar.finish();
  if (result.resumedFrom) console.log(`(${label} resumed from ${result.resumedFrom})`);
  return result;
}
