/**
 * The `steer` experiment kind: a steering vector fitted on a behaviour's training split, applied
 * at (layer, α) and scored on validation or test — the A/B behaviour score (CAA) or a task metric
 * (GSM8K exact match), the GSM8K-steering pipeline's objective.
 *
 *   splits            train / val / test: the behaviour's generate set → train + val (A/B), its
 *                     A/B test file → test; for gsm8k the problems file → val + test
 *   vectors           the vector at the layer, fitted on train through the disk activation cache
 *                     (shared by every trial with the same data, method and layer)
 *   probes            (probes: true) a logistic probe at the layer on the labelled prompts
 *   baseline          the unsteered model's per-item values on the scored split
 *   check-alpha-zero  the steering hooks at α = 0 (adding 0·v) must reproduce the baseline exactly
 *   evaluate          the steered values; on val, the mean over growing prefixes is reported after
 *                     each chunk, so a study's median pruner can stop a hopeless trial early
 *
 * A study searches on `split: val`; its final run scores the best configuration once on test
 * (`final`), beside the unsteered baseline. Library: steer/experiment.ts.
 *
 * A/B items become model text in `format` (steer/ab-data.ts): by default "plain" (question + " " +
 * answer) for the built-in fact-world model, whose training data has that shape, and CAA's
 * base-model format ("Input: …\nResponse: …", nrimsky/CAA utils/tokenize.py) for any other model.
 * The format resolved is part of the vectors' and scores' stage keys, of the activation-cache
 * key, and of the vectors stage's output. `normalize: true` rescales the vector as CAA's
 * normalize_vectors.py, to the mean norm of every behaviour's vector in the data folder at the layer.
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { ConfigError } from "../../errors.js";
import { BUILTIN_BEHAVIOR, BUILTIN_DATA, BUILTIN_DATA_DIR } from "../../data/builtin-node.js";
import { AB_PROMPT_FORMATS, defaultABPromptFormat, type ABFormat } from "../../steer/ab-data.js";
import type { ArithmeticItem } from "../../steer/generation-evals.js";
import type { SteerItems } from "../../steer/experiment.js";
import { s, type Infer } from "../schema/schema.js";
import { fingerprint, modelDir, modelField, stageModel } from "./model-input.js";
import type { ExperimentKind, StageContext } from "./types.js";

export const steerSchema = s.object({
  model: modelField,
  data: s.nullable(s.string()).describeAs("CAA data folder (generate/<behavior>/, test/<behavior>/); null = the built-in model's"),
  behavior: s.nullable(s.string()).describeAs("behaviour folder; null = the built-in data's (agreeable)"),
  labelled: s.nullable(s.string()).describeAs("labelled prompts [{prompt, cue}] for mean-diff / probe vectors and probes; null = the built-in behaviour.json with the built-in data"),
  method: s.enum(["caa", "mean-diff", "pca", "probe", "dac"] as const).default("caa").describeAs("vector: CAA mean difference of A/B answers, mean difference of labelled prompts, first principal component, probe direction; dac = CAA vector with DAC's dynamic strength"),
  layer: s.int({ min: 0 }).default(2).describeAs("steer the residual stream after this block (blocks.L.hook_resid_post)"),
  alpha: s.number().default(1).describeAs("strength, CAA's multiplier of the vector (negative steers away); DAC's largest strength"),
  format: s.nullable(s.enum(AB_PROMPT_FORMATS)).describeAs("how A/B items become model text: plain (question + \" \" + answer), caa-base (CAA's \"Input: Q\\nResponse: A\"), caa-chat (CAA's \"[INST] Q [/INST] A\"); null = plain for the built-in model (its training data's shape), caa-base for any other"),
  normalize: s.boolean().default(false).describeAs("rescale the vector to the mean norm, at its layer, of the vectors of every behaviour in the data folder (CAA's normalize_vectors.py; CAA's multipliers assume it)"),
  positions: s.enum(["after-prompt", "all"] as const).default("after-prompt").describeAs("add from the last prompt token on (CAA), or at every position"),
  objective: s.enum(["ab", "gsm8k"] as const).default("ab").describeAs("ab: the behaviour's A/B score; gsm8k: exact match of generated answers"),
  gsm8k_file: s.nullable(s.string()).describeAs("GSM8K-format JSON lines for objective gsm8k; null = the built-in arithmetic/test.jsonl"),
  split: s.enum(["val", "test"] as const).default("val").describeAs("the split evaluate scores (studies search on val; their final run scores test)"),
  val_fraction: s.number({ min: 0.01, max: 0.99 }).default(0.25).describeAs("ab: share of the generate set held out for val; gsm8k: share of the problems for val (the rest is test)"),
  n_val: s.nullable(s.int({ min: 1 })).describeAs("at most this many val items; null = all"),
  n_test: s.nullable(s.int({ min: 1 })).describeAs("at most this many test items; null = all"),
  val_chunks: s.int({ min: 1 }).default(4).describeAs("val is scored in this many growing prefixes, each reported as an intermediate value (pruning)"),
  split_seed: s.int({ min: 0 }).default(1).describeAs("seed of the train / val / test splits"),
  generation: s.object({
    mode: s.enum(["greedy", "sample"] as const).default("greedy").describeAs("greedy decoding, or sampling seeded by the run seed"),
    temperature: s.number({ min: 0, exclusiveMin: true }).default(1).describeAs("sample: temperature"),
    top_p: s.number({ min: 0, max: 1, exclusiveMin: true }).default(0.95).describeAs("sample: nucleus; DAC: the KL's nucleus"),
    max_new_tokens: s.int({ min: 1 }).default(24).describeAs("gsm8k: tokens generated per answer"),
  }).default({ mode: "greedy", temperature: 1, top_p: 0.95, max_new_tokens: 24 }).describeAs("how gsm8k answers are generated"),
  probes: s.boolean().default(false).describeAs("also fit a logistic probe at the layer on the labelled prompts (accuracy, AUC)"),
  cache_dir: s.string().default(".scalpel/activations").describeAs("activation cache (shared with scalpel steer and steer-sweep)"),
});

export type SteerConfig = Infer<typeof steerSchema>;

const dataDir = (c: SteerConfig) => c.data ?? path.join(BUILTIN_DATA_DIR, BUILTIN_DATA.caa);
const labelledFile = (c: SteerConfig) => c.labelled ?? (c.data === null ? path.join(BUILTIN_DATA_DIR, BUILTIN_DATA.behaviour) : null);
const gsmFile = (c: SteerConfig) => c.gsm8k_file ?? path.join(BUILTIN_DATA_DIR, BUILTIN_DATA.arithmeticTest);
/** The A/B prompt format: config.format, else plain for the built-in model (model: null) and caa-base for others. */
const abFormat = (c: SteerConfig): ABFormat => ({ format: c.format ?? defaultABPromptFormat(c.model === null) });
/** normalize: the generate sets of every behaviour in the data folder (what the rescaling depends on); false when off. */
const normalizeUses = (c: SteerConfig) => {
  if (!c.normalize) return false;
  const gen = path.join(dataDir(c), "generate");
  const names = existsSync(gen) ? readdirSync(gen).sort() : [];
  return names.map((b) => fingerprint(path.join(gen, b, "generate_dataset.json")));
};

interface Splits {
  train: number[];
  /** A/B: indices into the generate set (val) and the A/B test file (test); gsm8k: the problems themselves. */
  val: number[];
  test: number[];
  problems?: { val: ArithmeticItem[]; test: ArithmeticItem[] };
}

async function loadData(c: SteerConfig) {
  const files = await import("../../steer/files-node.js");
  const behavior = c.behavior ?? (c.data === null ? BUILTIN_BEHAVIOR : null);
  if (!behavior) throw new ConfigError("STEER_BEHAVIOR", "config.behavior is required with config.data", { field: "config.behavior", fix: "name a folder under DATA/generate/" });
  const caa = await files.loadCAABehavior(dataDir(c), behavior);
  const lf = labelledFile(c);
  const labelled = lf ? await files.loadStyledPrompts(lf) : undefined;
  return { caa, labelled, labelledFile: lf ?? undefined };
}

/** The items the config's split scores. */
async function scoredItems(ctx: StageContext<SteerConfig>): Promise<SteerItems> {
  const c = ctx.config;
  const splits = ctx.inputs.splits as Splits;
  if (c.objective === "gsm8k") return { objective: "gsm8k", problems: splits.problems![c.split] };
  const [{ caa }, model, { abScoringRow }] = await Promise.all([loadData(c), stageModel(ctx, c.model), import("../../steer/ab-data.js")]);
  const items = c.split === "val" ? splits.val.map((i) => caa.generate[i]!) : splits.test.map((i) => caa.testAB[i]!);
  const format = abFormat(c);
  return { objective: "ab", rows: items.map((it) => abScoringRow(model.tokenizer, it, format)) };
}

const scoring = (ctx: StageContext<SteerConfig>) => {
  const g = ctx.config.generation;
  return { objective: ctx.config.objective, maxNewTokens: g.max_new_tokens, ...(g.mode === "sample" ? { sampling: { temperature: g.temperature, topP: g.top_p, seed: ctx.seed } } : {}) };
};
const itemCount = (items: SteerItems) => (items.objective === "ab" ? items.rows.length : items.problems.length);
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);

/** What the scored split's values depend on besides the model: the objective, the split and how answers are generated. */
const scoredSlice = (c: SteerConfig) => ({ objective: c.objective, split: c.split, generation: c.objective === "gsm8k" ? c.generation : null, format: c.objective === "ab" ? abFormat(c).format : null });

export const steerKind: ExperimentKind<SteerConfig> = {
  name: "steer",
  version: "1",
  description: "Activation steering (CAA, mean-diff, PCA, probe direction, DAC) at (layer, α), scored by the A/B behaviour score or GSM8K exact match on val or test.",
  schema: steerSchema,
  objective: { metric: "score", direction: "maximize" },
  final: { description: "scored once on the test split", config: (c) => ({ ...c, split: "test" }) },
  metrics: {
    score: { definition: "steered: mean over the split's items of the A/B score p(matching)/(p(A)+p(B)) (CAA), or of GSM8K exact match (strict ####, then last number)", version: 1 },
    baseline: { definition: "the same on the unsteered model", version: 1 },
    delta: { definition: "score − baseline", version: 1 },
    steered: { definition: "per item: the steered value", version: 1 },
    unsteered: { definition: "per item: the unsteered value", version: 1 },
  },
  stages: [
    {
      name: "splits",
      after: [],
      uses: (c) => ({
        data: fingerprint(dataDir(c)),
        behavior: c.behavior,
        objective: c.objective,
        gsm8k: c.objective === "gsm8k" ? fingerprint(gsmFile(c)) : null,
        val_fraction: c.val_fraction,
        n_val: c.n_val,
        n_test: c.n_test,
        split_seed: c.split_seed,
      }),
      run: async ({ config: c }): Promise<Splits> => {
        const { splitIndices } = await import("../../steer/splits.js");
        const { caa } = await loadData(c);
        const cap = (xs: number[], n: number | null) => (n === null ? xs : xs.slice(0, n));
        if (c.objective === "gsm8k") {
          // Vectors come from the behaviour's whole generate set; the problems split into val and test.
          const { loadGsm8k } = await import("../../steer/files-node.js");
          const problems = await loadGsm8k(gsmFile(c));
          const sp = splitIndices(problems.length, c.split_seed, { train: 0, val: c.val_fraction, test: 1 - c.val_fraction });
          const val = cap(sp.val, c.n_val);
          const test = cap(sp.test, c.n_test);
          return { train: caa.generate.map((_, i) => i), val, test, problems: { val: val.map((i) => problems[i]!), test: test.map((i) => problems[i]!) } };
        }
        const sp = splitIndices(caa.generate.length, c.split_seed, { train: 1 - c.val_fraction, val: c.val_fraction, test: 0 });
        return { train: sp.train, val: cap(sp.val, c.n_val), test: cap(caa.testAB.map((_, i) => i), c.n_test) };
      },
    },
    {
      name: "vectors",
      after: ["splits"],
      uses: (c) => ({ model: fingerprint(modelDir(c.model)), labelled: labelledFile(c) && fingerprint(labelledFile(c)!), method: c.method, layer: c.layer, format: abFormat(c).format, normalize: normalizeUses(c) }),
      run: async (ctx) => {
        const c = ctx.config;
        const model = await stageModel(ctx, c.model);
        if (c.layer >= model.config.nLayers) throw new ConfigError("STEER_LAYER", `layer ${c.layer} does not exist (the model has ${model.config.nLayers} layers)`, { field: "config.layer", fix: `choose 0…${model.config.nLayers - 1}` });
        const [{ fitSteeringVectorsReport }, { diskSource }, { abTokenization }, { loadCAAGenerateSets }] = await Promise.all([
          import("../../steer/experiment.js"),
          import("../../steer/activation-cache-node.js"),
          import("../../steer/ab-data.js"),
          import("../../steer/files-node.js"),
        ]);
        const data = await loadData(c);
        const splits = ctx.inputs.splits as Splits;
        const format = abFormat(c);
        const tokenization = abTokenization(format);
        const source = diskSource(path.resolve(c.cache_dir), model, { tokenization });
        const train = splits.train.map((i) => data.caa.generate[i]!);
        const normalizeWith = c.normalize ? await loadCAAGenerateSets(dataDir(c)) : undefined;
        const { vectors, normalization } = await fitSteeringVectorsReport(model, data, c.method, [c.layer], source, c.split_seed, train, { format, normalizeWith });
        const v = vectors[c.layer]!;
        ctx.metric("vector_norm", Math.hypot(...v));
        if (normalization) ctx.metric("vector_norm_raw", normalization.rawNorm[c.layer]!);
        return {
          layer: c.layer,
          vector: Array.from(v),
          tokenization,
          normalize: normalization ? { behaviors: normalization.behaviors, meanNorm: normalization.meanNorm[c.layer]!, rawNorm: normalization.rawNorm[c.layer]! } : false,
        };
      },
    },
    {
      name: "probes",
      after: ["splits"],
      uses: (c) => ({ probes: c.probes, model: fingerprint(modelDir(c.model)), labelled: labelledFile(c) && fingerprint(labelledFile(c)!), layer: c.layer, split_seed: c.split_seed }),
      run: async (ctx) => {
        const c = ctx.config;
        if (!c.probes) return null;
        const data = await loadData(c);
        if (!data.labelled) throw new ConfigError("STEER_PROBES", "probes need labelled prompts", { field: "config.labelled", fix: "give a labelled prompts file, or probes: false" });
        const model = await stageModel(ctx, c.model);
        const [{ fitProbes }, { splitIndices }, { diskSource }] = await Promise.all([import("../../steer/fit.js"), import("../../steer/splits.js"), import("../../steer/activation-cache-node.js")]);
        const source = diskSource(path.resolve(c.cache_dir), model, { tokenization: { separator: " ", addSpecialTokens: true } });
        const [r] = await fitProbes(model, data.labelled, [c.layer], splitIndices(data.labelled.length, c.split_seed), source, `labelled:${data.labelledFile}`);
        for (const [k, v] of Object.entries({ probe_val_accuracy: r!.val.accuracy, probe_val_auc: r!.val.auc, probe_test_accuracy: r!.test.accuracy, probe_test_auc: r!.test.auc })) ctx.metric(k, v);
        return { layer: r!.layer, train: r!.train, val: r!.val, test: r!.test };
      },
    },
    {
      name: "baseline",
      after: ["splits"],
      seeded: true, // sampled answers depend on the run seed
      uses: (c) => ({ model: fingerprint(modelDir(c.model)), ...scoredSlice(c) }),
      run: async (ctx) => {
        const { scoreItems } = await import("../../steer/experiment.js");
        const items = await scoredItems(ctx);
        const values = await scoreItems(await stageModel(ctx, ctx.config.model), items, undefined, 0, itemCount(items), scoring(ctx));
        ctx.metric("baseline", mean(values));
        return { values };
      },
    },
    {
      name: "check-alpha-zero",
      after: ["splits", "vectors", "baseline"],
      seeded: true,
      uses: (c) => ({ positions: c.positions, ...scoredSlice(c) }),
      run: async (ctx) => {
        const { scoreItems, checkAlphaZero, scoreBatch } = await import("../../steer/experiment.js");
        const c = ctx.config;
        const items = await scoredItems(ctx);
        const { vector } = ctx.inputs.vectors as { vector: number[] };
        const { values } = ctx.inputs.baseline as { values: number[] };
        const n = Math.min(scoreBatch(items.objective), itemCount(items));
        const zero = await scoreItems(await stageModel(ctx, c.model), items, { layer: c.layer, vector: Float32Array.from(vector), alpha: 0, positions: c.positions, keepZero: true }, 0, n, scoring(ctx));
        checkAlphaZero(values, zero);
        return { checked: n };
      },
    },
    {
      name: "evaluate",
      after: ["splits", "vectors", "baseline", "check-alpha-zero"],
      seeded: true,
      uses: (c) => ({ alpha: c.alpha, positions: c.positions, val_chunks: c.val_chunks, top_p: c.method === "dac" ? c.generation.top_p : null, ...scoredSlice(c) }),
      run: async (ctx) => {
        const { scoreItems, scoreBatch } = await import("../../steer/experiment.js");
        const c = ctx.config;
        if (c.method === "dac" && c.objective !== "gsm8k") throw new ConfigError("STEER_DAC", "method dac steers generation: it is scored with objective gsm8k", { field: "config.method", fix: "use objective: gsm8k, or another method" });
        const items = await scoredItems(ctx);
        const n = itemCount(items);
        const { vector } = ctx.inputs.vectors as { vector: number[] };
        const { values: base } = ctx.inputs.baseline as { values: number[] };
        const steering = { layer: c.layer, vector: Float32Array.from(vector), alpha: c.alpha, positions: c.positions, ...(c.method === "dac" ? { dac: { topP: c.generation.top_p } } : {}) };
        // On val, growing prefixes (chunk ends on batch boundaries) are intermediate values; test is scored in one go.
        const chunks = c.split === "val" ? c.val_chunks : 1;
        const B = scoreBatch(items.objective);
        const step = Math.ceil(Math.ceil(n / chunks) / B) * B;
        const model = await stageModel(ctx, c.model);
        const values: number[] = [];
        for (let from = 0, k = 0; from < n; from += step, k++) {
          values.push(...(await scoreItems(model, items, steering, from, Math.min(from + step, n), scoring(ctx))));
          if (c.split === "val" && values.length < n) ctx.report(k, mean(values));
          ctx.progress(values.length, n);
        }
        const ids = (ctx.inputs.splits as Splits)[c.split];
        values.forEach((v, i) => ctx.caseResult(`${c.split}/${ids[i]}`, { steered: v, unsteered: base[i]! }));
        const out = { score: mean(values), baseline: mean(base), delta: mean(values) - mean(base), n };
        ctx.metric("score", out.score);
        ctx.metric("baseline", out.baseline);
        ctx.metric("delta", out.delta);
        return out;
      },
    },
  ],
};
