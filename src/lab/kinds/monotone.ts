/**
 * The `monotone` experiment kind: are language models with monotone (non-negative) feed-forward
 * weights more robust to adversarial text? Eight stages, each a cached artifact (its output is its
 * completion record), the training stages resumable from their checkpoints:
 *
 *   setup             train / held-out / attack texts (the built-in model's world, or text files)
 *   apply_constraint  the base model with every constrained weight made ≥ 0 (|W| or max(W, 0))
 *   train_baseline    the base model trained on, unconstrained, for the same budget (per seed)
 *   train_monotone    recovery training of the constrained model with an extended warmup, the
 *                     constraint kept by projection or reparameterisation (per seed); asserts ≥ 0
 *   perplexity        held-out perplexity of base, baseline, monotone before and after recovery
 *   uat               a universal trigger searched on half the attack examples, applied to the rest
 *   hotflip           HotFlip flips on every attack example
 *   aggregate         final_results.json: baseline vs monotone — perplexity, attack success rate,
 *                     degradation — mean ± std over seeds and the monotone model's Δ%
 *
 * `mode: quick | full` changes sizes only (MODE_SIZES; `sizes:` overrides single entries).
 * Seeds: `seeds` lists training seeds run inside one run (final_results.json has mean ± std over
 * them); each training seed is derived from the run seed and the entry, so a sweep over the run
 * `seed` (one job or trial per seed, e.g. on SLURM) gives further replicates, reported as mean ±
 * std across runs.
 */
import path from "node:path";
import { s, type Infer } from "../schema/schema.js";
import { ConfigError } from "../../errors.js";
import { deriveSeed } from "../../util/rng.js";
import { mean, std } from "../../analysis/descriptive.js";
import type { Model } from "../../model/types.js";
import { fingerprint, modelDir, modelField, stageModel } from "./model-input.js";
import type { ExperimentKind, StageContext } from "./types.js";

export interface RobustnessSizes {
  /** Optimiser steps of the baseline run and of the monotone recovery run. */
  baseline_steps: number;
  monotone_steps: number;
  /** Warmup of the baseline and (extended) of the recovery run. */
  baseline_warmup: number;
  monotone_warmup: number;
  batch_size: number;
  seq_len: number;
  /** Held-out perplexity every N steps during training. */
  eval_every: number;
  checkpoint_every: number;
  heldout_docs: number;
  attack_examples: number;
  hotflip_budget: number;
  hotflip_beam: number;
  hotflip_candidates: number;
  uat_length: number;
  uat_iterations: number;
  uat_candidates: number;
}

export const MODE_SIZES: Record<"quick" | "full", RobustnessSizes> = {
  quick: {
    baseline_steps: 30, monotone_steps: 60, baseline_warmup: 5, monotone_warmup: 20, batch_size: 8, seq_len: 64, eval_every: 10, checkpoint_every: 10,
    heldout_docs: 64, attack_examples: 24, hotflip_budget: 2, hotflip_beam: 1, hotflip_candidates: 4, uat_length: 3, uat_iterations: 5, uat_candidates: 8,
  },
  full: {
    baseline_steps: 300, monotone_steps: 600, baseline_warmup: 30, monotone_warmup: 150, batch_size: 16, seq_len: 64, eval_every: 50, checkpoint_every: 50,
    heldout_docs: 512, attack_examples: 128, hotflip_budget: 3, hotflip_beam: 2, hotflip_candidates: 8, uat_length: 3, uat_iterations: 20, uat_candidates: 16,
  },
};

const sizeFields = Object.fromEntries(Object.keys(MODE_SIZES.quick).map((k) => [k, s.nullable(s.int({ min: k.endsWith("_warmup") ? 0 : 1 }))])) as Record<keyof RobustnessSizes, ReturnType<typeof s.nullable<number>>>;

export const monotoneSchema = s.object({
  model: modelField,
  mode: s.enum(["quick", "full"] as const).default("quick").describeAs("sizes of training, data and attacks (MODE_SIZES); nothing else changes"),
  sizes: s.object(sizeFields).describeAs("overrides of single sizes of the mode (e.g. monotone_steps: 100)"),
  seeds: s.array(s.int({ min: 0 }), { minItems: 1 }).default([0]).describeAs("training seeds: each trains its own baseline and monotone model; results are mean ± std over them"),
  constraint: s.object({
    params: s.array(s.string(), { minItems: 1 }).default(["blocks.*.mlp.W_in", "blocks.*.mlp.W_gate", "blocks.*.mlp.W_out"]).describeAs("parameter-name patterns kept ≥ 0 (`*` = one segment); the default is every MLP matrix"),
    method: s.enum(["project", "softplus", "exp"] as const).default("project").describeAs("project: clamp to ≥ 0 after every step; softplus / exp: train V with W = f(V)"),
    init: s.enum(["abs", "clamp"] as const).default("abs").describeAs("how the pretrained weights are made ≥ 0 before recovery: |W| or max(W, 0)"),
  }),
  lr: s.number({ min: 0, exclusiveMin: true }).default(1e-3).describeAs("peak learning rate of both training runs"),
  train_file: s.nullable(s.string()).describeAs("training documents (.txt / .jsonl / .json); null = the built-in model's corpus"),
  heldout_file: s.nullable(s.string()).describeAs("held-out documents for perplexity and attack examples; null = the built-in model's held-out texts"),
  success_threshold: s.number({ min: 0, exclusiveMin: true }).default(0.15).describeAs("an attack succeeds on an example when its perplexity rises by more than this fraction"),
});

export type MonotoneConfig = Infer<typeof monotoneSchema>;

function sizesOf(c: MonotoneConfig): RobustnessSizes {
  const out = { ...MODE_SIZES[c.mode] };
  for (const [k, v] of Object.entries(c.sizes)) if (v !== null && v !== undefined) (out as Record<string, number>)[k] = v as number;
  return out;
}

interface Data {
  train: string[];
  heldout: string[];
  attack: { prompt: string; target: string }[];
  source: string;
}

const readData = async (ctx: StageContext<MonotoneConfig>): Promise<Data> => {
  const { readJsonFile } = await import("../../io/json.js");
  return (await readJsonFile(path.join(ctx.inputDirs.setup!, "data.json"))) as Data;
};

/** A model saved by an earlier stage, loaded once per process. */
async function savedModel(ctx: StageContext<MonotoneConfig>, dir: string): Promise<Model> {
  return ctx.resource(`model:${dir}`, async () => (await import("../../model/load.js")).loadModel(dir));
}

const seedDir = (seed: number) => `seed-${seed}`;

/** Token perplexity of the held-out documents (lm-eval rolling windows, summed over documents). */
async function heldoutPerplexity(model: Model, docs: readonly string[]): Promise<number> {
  const { loglikelihoodRolling } = await import("../../eval/rolling.js");
  const r = await loglikelihoodRolling(model, [...docs]);
  return Math.exp(-r.reduce((a, x) => a + x.sum, 0) / r.reduce((a, x) => a + x.tokens, 0));
}

/** One training run per seed, resumable from the stage's checkpoint folder; the trained model saved in the artifact. */
async function trainStage(ctx: StageContext<MonotoneConfig>, which: "baseline" | "monotone"): Promise<unknown> {
  const c = ctx.config;
  const z = sizesOf(c);
  const [{ train }, { saveModel }, constrain] = await Promise.all([import("../../train/loop.js"), import("../../model/load.js"), import("../../constrain/index.js")]);
  const data = await readData(ctx);
  const start = which === "baseline" ? await stageModel(ctx, c.model) : await savedModel(ctx, path.join(ctx.inputDirs.apply_constraint!, "model"));
  const documents = data.train.map((t) => ({ tokens: start.tokenizer.encode(t, { addSpecialTokens: true }).ids }));
  const evalDocs = data.heldout.slice(0, 32);
  const constraint = which === "monotone" ? constrain.monotoneConstraint(c.constraint) : undefined;
  const out: Record<string, unknown> = {};
  for (const seed of c.seeds) {
    const steps = which === "baseline" ? z.baseline_steps : z.monotone_steps;
    const r = await train({
      model: start,
      documents,
      config: {
        lr: c.lr, warmupSteps: which === "baseline" ? z.baseline_warmup : z.monotone_warmup, totalSteps: steps, batchSize: z.batch_size, seqLen: Math.min(z.seq_len, start.config.nCtx),
        // The same stream for the baseline and the monotone run of one seed: batches in the same order.
        evalEvery: z.eval_every, checkpointEvery: z.checkpoint_every, logEvery: 1, seed: deriveSeed(ctx.runSeed, "train", seed), weightDecay: 0,
      },
      checkpointDir: path.join(ctx.checkpoint.dir, seedDir(seed)),
      resume: true,
      ...(constraint ? { constraint: constrain.trainingConstraint(start, constraint) } : {}),
      evaluate: async (m) => ({ heldout_perplexity: await heldoutPerplexity(m, evalDocs) }),
      log: (e) => {
        ctx.metric(`${which}.seed${seed}.loss`, e.loss, e.step);
        ctx.progress(e.step, steps);
      },
    });
    for (const e of r.evals) ctx.metric(`${which}.seed${seed}.heldout_perplexity`, e.metrics.heldout_perplexity!, e.step);
    let negatives: Record<string, number> | undefined;
    if (constraint) {
      negatives = await constrain.negativeFractions(r.model, constraint);
      const bad = Object.entries(negatives).filter(([, f]) => f > 0);
      if (bad.length) throw new ConfigError("MONOTONE_VIOLATED", `after recovery training ${bad.map(([n, f]) => `${n} has ${(f * 100).toFixed(2)}% negative weights`).join("; ")}`, { field: "config.constraint" });
    }
    await saveModel(r.model, path.join(ctx.dir, seedDir(seed)));
    r.model.dispose();
    out[seedDir(seed)] = {
      steps: r.step, final_loss: r.losses.at(-1)?.loss, resumed_from: r.resumedFrom ? path.basename(r.resumedFrom) : null,
      evals: r.evals, ...(negatives ? { max_negative_fraction: Math.max(...Object.values(negatives)) } : {}),
    };
  }
  return out;
}

type ModelName = "baseline" | "monotone";
const MODELS: ModelName[] = ["baseline", "monotone"];

/** The trained model of `which` and `seed`, from its training stage's artifact. */
const trainedModel = (ctx: StageContext<MonotoneConfig>, which: ModelName, seed: number) => savedModel(ctx, path.join(ctx.inputDirs[`train_${which}`]!, seedDir(seed)));

async function attackStage(ctx: StageContext<MonotoneConfig>, attack: "uat" | "hotflip"): Promise<unknown> {
  const c = ctx.config;
  const z = sizesOf(c);
  const { attackRows, hotflipSet, uatSet } = await import("../../attack/experiment.js");
  const data = await readData(ctx);
  const out: Record<string, unknown> = {};
  for (const which of MODELS) {
    for (const seed of c.seeds) {
      const model = await trainedModel(ctx, which, seed);
      const rows = attackRows(model, data.attack);
      const half = Math.max(1, Math.floor(rows.length / 2));
      const r = attack === "hotflip"
        ? await hotflipSet(model, rows, { budget: z.hotflip_budget, beam: z.hotflip_beam, candidates: z.hotflip_candidates }, c.success_threshold)
        : await uatSet(model, rows.slice(0, half), rows.slice(half), { length: z.uat_length, iterations: z.uat_iterations, candidates: z.uat_candidates }, c.success_threshold);
      for (const rec of r.records) {
        ctx.caseResult(`${attack}/${which}/${seedDir(seed)}/${rec.id}`, { ppl_before: rec.pplBefore, ppl_after: rec.pplAfter, degradation: rec.degradation, success: rec.success ? 1 : 0 });
      }
      const { records: _records, ...rest } = r;
      out[`${which}/${seedDir(seed)}`] = rest;
    }
  }
  return out;
}

/** Mean ± sample standard deviation over seeds (0 for one seed). */
const meanStd = (xs: number[]) => ({ mean: mean(xs), std: xs.length > 1 ? std(xs) : 0, n: xs.length });

export const monotoneKind: ExperimentKind<MonotoneConfig> = {
  name: "monotone",
  version: "1",
  description: "Monotone (non-negative) FFN weights vs an unconstrained baseline: recovery training, held-out perplexity, HotFlip and universal-trigger attacks, mean ± std over seeds.",
  schema: monotoneSchema,
  objective: { metric: "monotone.perplexity", direction: "minimize" },
  metrics: {
    "perplexity": { version: 1, definition: "held-out token perplexity, exp(−Σ ll / Σ tokens) with lm-eval's rolling windows" },
    "success_rate": { version: 1, definition: "fraction of attack examples whose target perplexity rises by more than success_threshold (default 15%)" },
    "degradation": { version: 1, definition: "(perplexity after − before) / before of an example's target continuation; mean and median over examples" },
  },
  stages: [
    {
      name: "setup",
      after: [],
      uses: (c) => ({ model: c.model === null, train_file: c.train_file && fingerprint(c.train_file), heldout_file: c.heldout_file && fingerprint(c.heldout_file), heldout: sizesOf(c).heldout_docs, attack: sizesOf(c).attack_examples }),
      run: async (ctx) => {
        const c = ctx.config;
        const z = sizesOf(c);
        const [{ factWorldRobustnessData, documentAttackExamples }, { textDocuments }, { readFileSync }, { writeJsonFile }] = await Promise.all([
          import("../../constrain/robustness-data.js"), import("../../eval/tasks/text-perplexity.js"), import("node:fs"), import("../../io/json.js"),
        ]);
        const file = (f: string) => textDocuments(readFileSync(f, "utf8"), f);
        let data: Data;
        if (c.train_file || c.heldout_file) {
          if (!c.train_file || !c.heldout_file) throw new ConfigError("MONOTONE_DATA", "give both train_file and heldout_file (or neither, for the built-in model's texts)", { field: c.train_file ? "config.heldout_file" : "config.train_file" });
          const heldout = file(c.heldout_file);
          const attack = documentAttackExamples(heldout.slice(z.heldout_docs), z.attack_examples);
          data = { train: file(c.train_file), heldout: heldout.slice(0, z.heldout_docs), attack: attack.length ? attack : documentAttackExamples(heldout, z.attack_examples), source: `${c.train_file}; ${c.heldout_file}` };
        } else {
          if (c.model !== null) throw new ConfigError("MONOTONE_DATA", "a model other than the built-in one needs train_file and heldout_file", { field: "config.train_file" });
          data = factWorldRobustnessData(z.heldout_docs, z.attack_examples);
        }
        await writeJsonFile(path.join(ctx.dir, "data.json"), data);
        return { source: data.source, train_documents: data.train.length, heldout_documents: data.heldout.length, attack_examples: data.attack.length };
      },
    },
    {
      name: "apply_constraint",
      after: [],
      uses: (c) => ({ model: fingerprint(modelDir(c.model)), params: c.constraint.params, init: c.constraint.init }),
      run: async (ctx) => {
        const c = ctx.config;
        const [{ applyMonotonicity, monotoneConstraint, negativeFractions, constrainedNames }, { saveModel }] = await Promise.all([import("../../constrain/index.js"), import("../../model/load.js")]);
        const base = await stageModel(ctx, c.model);
        const con = monotoneConstraint(c.constraint);
        const before = await negativeFractions(base, con);
        const mono = applyMonotonicity(base, con);
        const after = await negativeFractions(mono, con);
        if (Object.values(after).some((f) => f > 0)) throw new Error("apply_constraint left negative weights");
        await saveModel(mono, path.join(ctx.dir, "model"));
        mono.dispose();
        const mean = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0) / Object.keys(r).length;
        ctx.metric("negative_fraction_before", mean(before));
        return { constrained: constrainedNames(base, con), negative_fraction_before: before, negative_fraction_after: after };
      },
    },
    {
      name: "train_baseline",
      after: ["setup"],
      seeded: true,
      uses: (c) => ({ model: fingerprint(modelDir(c.model)), seeds: c.seeds, lr: c.lr, sizes: sizesOf(c) }),
      run: (ctx) => trainStage(ctx, "baseline"),
    },
    {
      name: "train_monotone",
      after: ["setup", "apply_constraint"],
      seeded: true,
      uses: (c) => ({ seeds: c.seeds, lr: c.lr, method: c.constraint.method, sizes: sizesOf(c) }),
      run: (ctx) => trainStage(ctx, "monotone"),
    },
    {
      name: "perplexity",
      after: ["setup", "apply_constraint", "train_baseline", "train_monotone"],
      uses: () => ({}),
      run: async (ctx) => {
        const c = ctx.config;
        const data = await readData(ctx);
        const base = await heldoutPerplexity(await stageModel(ctx, c.model), data.heldout);
        const constrainedOnly = await heldoutPerplexity(await savedModel(ctx, path.join(ctx.inputDirs.apply_constraint!, "model")), data.heldout);
        const out: Record<string, number> = { base, monotone_before_recovery: constrainedOnly };
        for (const which of MODELS) for (const seed of c.seeds) out[`${which}/${seedDir(seed)}`] = await heldoutPerplexity(await trainedModel(ctx, which, seed), data.heldout);
        return out;
      },
    },
    {
      name: "uat",
      after: ["setup", "train_baseline", "train_monotone"],
      uses: (c) => ({ threshold: c.success_threshold, length: sizesOf(c).uat_length, iterations: sizesOf(c).uat_iterations, candidates: sizesOf(c).uat_candidates }),
      run: (ctx) => attackStage(ctx, "uat"),
    },
    {
      name: "hotflip",
      after: ["setup", "train_baseline", "train_monotone"],
      uses: (c) => ({ threshold: c.success_threshold, budget: sizesOf(c).hotflip_budget, beam: sizesOf(c).hotflip_beam, candidates: sizesOf(c).hotflip_candidates }),
      run: (ctx) => attackStage(ctx, "hotflip"),
    },
    {
      name: "aggregate",
      after: ["perplexity", "uat", "hotflip"],
      uses: () => ({}),
      run: async (ctx) => {
        const c = ctx.config;
        const ppl = ctx.inputs.perplexity as Record<string, number>;
        type Attack = Record<string, { summary: { successRate: number; meanDegradation: number; medianDegradation: number } }>;
        const attacks = { uat: ctx.inputs.uat as Attack, hotflip: ctx.inputs.hotflip as Attack };
        const perModel = (which: ModelName) => ({
          perplexity: meanStd(c.seeds.map((sd) => ppl[`${which}/${seedDir(sd)}`]!)),
          uat_success_rate: meanStd(c.seeds.map((sd) => attacks.uat[`${which}/${seedDir(sd)}`]!.summary.successRate)),
          uat_degradation: meanStd(c.seeds.map((sd) => attacks.uat[`${which}/${seedDir(sd)}`]!.summary.meanDegradation)),
          uat_median_degradation: meanStd(c.seeds.map((sd) => attacks.uat[`${which}/${seedDir(sd)}`]!.summary.medianDegradation)),
          hotflip_success_rate: meanStd(c.seeds.map((sd) => attacks.hotflip[`${which}/${seedDir(sd)}`]!.summary.successRate)),
          hotflip_degradation: meanStd(c.seeds.map((sd) => attacks.hotflip[`${which}/${seedDir(sd)}`]!.summary.meanDegradation)),
          hotflip_median_degradation: meanStd(c.seeds.map((sd) => attacks.hotflip[`${which}/${seedDir(sd)}`]!.summary.medianDegradation)),
        });
        const baseline = perModel("baseline");
        const monotone = perModel("monotone");
        const delta = Object.fromEntries(Object.keys(baseline).map((k) => {
          const b = baseline[k as keyof typeof baseline].mean;
          const m = monotone[k as keyof typeof monotone].mean;
          return [k, b === 0 ? null : (100 * (m - b)) / Math.abs(b)];
        }));
        const results = {
          mode: c.mode, sizes: sizesOf(c), seeds: c.seeds, constraint: c.constraint, success_threshold: c.success_threshold,
          base_perplexity: ppl.base, monotone_before_recovery_perplexity: ppl.monotone_before_recovery,
          baseline, monotone, monotone_vs_baseline_percent: delta,
        };
        const { writeJsonFile } = await import("../../io/json.js");
        await writeJsonFile(path.join(ctx.dir, "final_results.json"), results);
        for (const [which, r] of [["baseline", baseline], ["monotone", monotone]] as const) {
          for (const [k, v] of Object.entries(r)) {
            const name = k.replace(/^(uat|hotflip)_/, "$1.");
            ctx.metric(`${which}.${name}`, v.mean);
          }
        }
        ctx.metric("perplexity_ratio", monotone.perplexity.mean / baseline.perplexity.mean);
        return results;
      },
    },
  ],
};
