/**
 * The `delta-transcoder` experiment kind: which MLP features does a LoRA fine-tune add? A model is
 * fine-tuned with LoRA to call the calculator on arithmetic word problems; a transcoder of each
 * chosen layer's MLP is trained on the base model; a small delta transcoder (width d_new) is trained
 * on the fine-tuned model with the base frozen; then the fine-tuned model is run with
 *
 *   raw           no splice
 *   base_only     the base transcoder in place of the MLP's output
 *   base+α·delta  base + α · delta, over the α grid, for every delta width
 *
 * and each condition is scored by ΔCE on held-out text (CE with the splice − CE of the raw
 * fine-tuned model, SAELens' definition) and by behaviour on held-out word problems: tool-call
 * rate, valid tool format, math correctness (eval/tool-calls.ts), and copy rate on copy prompts.
 * The base model's own behaviour is reported beside them.
 *
 * Stages (each a cached artifact; training stages resume from their checkpoints):
 *   setup              token rows (built-in corpus + the fine-tuning texts), behaviour prompts
 *   finetune           LoRA SFT (train/lora-train.ts): PEFT adapter + merged model
 *   base_transcoders   per layer, on the base model's activations (disk cache, sae/activation-cache-node.ts)
 *   delta_transcoders  per layer and width, on the fine-tuned model's activations, base frozen
 *   evaluate           every condition: ΔCE and behaviour; one case row per condition
 *   aggregate          results.json, the table and the plots (ΔCE vs layer, tool-call rate vs α)
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { s, type Infer } from "../schema/schema.js";
import { ConfigError } from "../../errors.js";
import { deriveSeed } from "../../util/rng.js";
import type { Dictionary } from "../../model/modules/dictionary.js";
import type { Model } from "../../model/types.js";
import { fingerprint, modelDir, modelField, stageModel } from "./model-input.js";
import type { ExperimentKind, StageContext } from "./types.js";

export interface DeltaSizes {
  sft_examples: number;
  sft_steps: number;
  activation_rows: number;
  heldout_rows: number;
  behaviour_prompts: number;
  base_steps: number;
  delta_steps: number;
  batch_tokens: number;
}

export const DELTA_MODE_SIZES: Record<"quick" | "full", DeltaSizes> = {
  quick: { sft_examples: 300, sft_steps: 100, activation_rows: 400, heldout_rows: 48, behaviour_prompts: 24, base_steps: 150, delta_steps: 80, batch_tokens: 512 },
  full: { sft_examples: 600, sft_steps: 200, activation_rows: 1600, heldout_rows: 128, behaviour_prompts: 100, base_steps: 800, delta_steps: 400, batch_tokens: 1024 },
};

const sizeFields = Object.fromEntries(Object.keys(DELTA_MODE_SIZES.quick).map((k) => [k, s.nullable(s.int({ min: 1 }))])) as Record<keyof DeltaSizes, ReturnType<typeof s.nullable<number>>>;

export const deltaTranscoderSchema = s.object({
  model: modelField,
  mode: s.enum(["quick", "full"] as const).default("quick").describeAs("sizes of data and training (DELTA_MODE_SIZES); nothing else changes"),
  sizes: s.object(sizeFields).describeAs("overrides of single sizes of the mode (e.g. base_steps: 400)"),
  finetune: s.object({
    targets: s.array(s.string(), { minItems: 1 }).default(["blocks.1.mlp.W_in", "blocks.1.mlp.W_gate", "blocks.1.mlp.W_out"]).describeAs("LoRA target matrices (scalpel names, `*` = any layer); the default adapts layer 1's MLP only"),
    rank: s.int({ min: 1 }).default(8).describeAs("LoRA rank r"),
    alpha: s.number({ min: 0, exclusiveMin: true }).default(16).describeAs("LoRA α (the update is scaled by α/r)"),
    dropout: s.number({ min: 0, max: 0.9 }).default(0.05).describeAs("dropout on the adapter's input during training"),
    lr: s.number({ min: 0, exclusiveMin: true }).default(5e-3).describeAs("peak learning rate (warmup then cosine)"),
    batch_size: s.int({ min: 1 }).default(16).describeAs("examples per step"),
    copy_fraction: s.number({ min: 0, max: 0.9 }).default(0.25).describeAs("share of copy examples mixed into the word-problem tool data, so copying is kept"),
  }),
  layers: s.array(s.int({ min: 0 }), { minItems: 1 }).default([0, 1, 2]).describeAs("MLP layers to decompose"),
  hook_in: s.enum(["ln2.hook_normalized", "hook_mlp_in"] as const).default("ln2.hook_normalized").describeAs("the transcoder's input point in each block (its output is hook_mlp_out)"),
  base: s.object({
    width: s.int({ min: 1 }).default(1024).describeAs("features of the base transcoder"),
    k: s.int({ min: 1 }).default(32).describeAs("TopK k of the base transcoder (its L0)"),
    lr: s.number({ min: 0, exclusiveMin: true }).default(1e-3).describeAs("learning rate"),
  }),
  delta: s.object({
    widths: s.array(s.int({ min: 1 }), { minItems: 1 }).default([32, 64, 128]).describeAs("delta widths d_new"),
    k: s.int({ min: 1 }).default(8).describeAs("TopK k of each delta"),
    lr: s.number({ min: 0, exclusiveMin: true }).default(1e-3).describeAs("learning rate"),
  }),
  alphas: s.array(s.number({ min: 0 }), { minItems: 1 }).default([0, 0.25, 0.5, 1, 1.5, 2]).describeAs("delta scales α at splice time"),
  max_new_tokens: s.int({ min: 1 }).default(24).describeAs("generation length of the behaviour prompts"),
});

export type DeltaTranscoderConfig = Infer<typeof deltaTranscoderSchema>;

function sizesOf(c: DeltaTranscoderConfig): DeltaSizes {
  const out = { ...DELTA_MODE_SIZES[c.mode] };
  for (const [k, v] of Object.entries(c.sizes)) if (v !== null && v !== undefined) (out as Record<string, number>)[k] = v as number;
  return out;
}

interface BehaviourItem {
  prompt: string;
  expression: string;
  kind: "word" | "copy";
}

interface Data {
  sft: { prompt: string; completion: string }[];
  activationRows: number[][];
  heldoutRows: number[][];
  behaviour: BehaviourItem[];
}

const readData = async (ctx: StageContext<DeltaTranscoderConfig>): Promise<Data> => {
  const { readJsonFile } = await import("../../io/json.js");
  return (await readJsonFile(path.join(ctx.inputDirs.setup!, "data.json"))) as Data;
};

const hooksOf = (c: DeltaTranscoderConfig, layer: number) => ({ hookIn: `blocks.${layer}.${c.hook_in}`, hookOut: `blocks.${layer}.hook_mlp_out` });
const layerDir = (layer: number) => `layer-${layer}`;
const deltaDir = (layer: number, width: number) => `layer-${layer}-width-${width}`;

async function savedModel(ctx: StageContext<DeltaTranscoderConfig>, dir: string): Promise<Model> {
  return ctx.resource(`model:${dir}`, async () => (await import("../../model/load.js")).loadModel(dir));
}

const dictionaryFile = (dir: string, name: string) => path.join(dir, `${name}.safetensors`);

async function savedDictionary(file: string): Promise<Dictionary> {
  return (await import("../../sae/dictionary-file-node.js")).loadDictionary(file);
}

/** Activations of `model` at one layer's transcoder site, cached on disk under `dir` (built once). */
async function layerActivations(model: Model, c: DeltaTranscoderConfig, layer: number, rows: number[][], dir: string, seed: number) {
  const [{ ModelActivations }, { FileActivations, writeActivationCache }] = await Promise.all([import("../../sae/activation-store.js"), import("../../sae/activation-cache-node.js")]);
  const { hookIn, hookOut } = hooksOf(c, layer);
  try {
    return await FileActivations.open(dir, { seed });
  } catch {
    await writeActivationCache(dir, new ModelActivations(model, hookIn, hookOut, rows, 32), Math.ceil(rows.length / 32));
    return FileActivations.open(dir, { seed });
  }
}

/** Behaviour of `model` on the word problems (tool calls) and copy prompts, one score row per prompt. */
async function behaviour(model: Model, items: readonly BehaviourItem[], maxNewTokens: number) {
  const [{ generate }, { scoreToolCompletion, cutAfterToolCall }] = await Promise.all([import("../../model/generate.js"), import("../../eval/tool-calls.js")]);
  // Counts first, one division at the end (a sum of 1/n terms drifts off exact rates).
  const n = { tool_call: 0, valid_tool_format: 0, math_correct: 0, copied: 0 };
  const words = items.filter((i) => i.kind === "word");
  const copies = items.filter((i) => i.kind === "copy");
  for (const list of [words, copies]) {
    for (let i = 0; i < list.length; i += 16) {
      const batch = list.slice(i, i + 16);
      const { texts } = await generate(model, batch.map((b) => b.prompt), { maxNewTokens, stop: ["\n"] });
      texts.forEach((t, j) => {
        const sc = scoreToolCompletion(cutAfterToolCall(t), batch[j]!.expression);
        if (list === words) {
          n.tool_call += sc.tool_call;
          n.valid_tool_format += sc.valid_tool_format;
          n.math_correct += sc.math_correct;
        } else n.copied += sc.copied;
      });
    }
  }
  const rate = (k: number, of: unknown[]) => (of.length ? k / of.length : 0);
  return { tool_call_rate: rate(n.tool_call, words), valid_tool_format_rate: rate(n.valid_tool_format, words), math_correct_rate: rate(n.math_correct, words), copy_rate: rate(n.copied, copies) };
}

export const deltaTranscoderKind: ExperimentKind<DeltaTranscoderConfig> = {
  name: "delta-transcoder",
  version: "2",
  description: "LoRA fine-tune → base transcoders on the base model → delta transcoders on the fine-tuned model (base frozen) → ΔCE and tool-call behaviour of raw / base only / base + α·delta.",
  schema: deltaTranscoderSchema,
  objective: { metric: "delta_tool_call_gap", direction: "minimize" },
  metrics: {
    delta_ce: { version: 1, definition: "CE with the splice − CE of the raw fine-tuned model on held-out text (SAELens ce_loss_with_sae − ce_loss_without_sae)" },
    tool_call_rate: { version: 1, definition: "share of held-out word problems whose completion contains <tool_call>" },
    valid_tool_format_rate: { version: 1, definition: "share of word problems answered with exactly <tool_call> calculator ( EXPR ) </tool_call>, EXPR well formed" },
    math_correct_rate: { version: 1, definition: "share of word problems whose call's expression evaluates to the problem's answer" },
    copy_rate: { version: 1, definition: "share of copy prompts answered with the expression itself" },
    delta_tool_call_gap: { version: 1, definition: "|tool-call rate(base + 1·delta) − tool-call rate(raw fine-tuned)|, the smallest over widths, at the layer where base only departs most from the raw model" },
    base_only_tool_call_gap: { version: 1, definition: "|tool-call rate(base only) − tool-call rate(raw fine-tuned)| at that layer" },
  },
  stages: [
    {
      name: "setup",
      after: [],
      uses: (c) => ({ model: fingerprint(modelDir(c.model)), sizes: sizesOf(c), copy_fraction: c.finetune.copy_fraction }),
      run: async (ctx) => {
        const c = ctx.config;
        if (c.model !== null) throw new ConfigError("DELTA_DATA", "the delta-transcoder pipeline's data (word problems with calculator calls) is built from the built-in model's fact world; use model: null", { field: "config.model" });
        const z = sizesOf(c);
        const [{ buildFactWorld, trainingDocuments }, words, { tokenRows }, { writeJsonFile }] = await Promise.all([
          import("../../data/factworld/index.js"), import("../../data/factworld/tool-word-problems.js"), import("../../sae/token-rows.js"), import("../../io/json.js"),
        ]);
        const model = await stageModel(ctx, c.model);
        const world = buildFactWorld();
        const sft = words.wordProblemToolSft(world, z.sft_examples, { copyFraction: c.finetune.copy_fraction }).map(({ prompt, completion }) => ({ prompt, completion }));
        // Activation texts: the corpus the base model learnt from, and the fine-tuning texts (where the fine-tune acts).
        const texts = [...sft.map((e) => `${e.prompt} ${e.completion}`), ...trainingDocuments(world)];
        const rows = tokenRows(model.tokenizer, texts, 64, z.activation_rows + z.heldout_rows);
        // Held-out rows from the end, so they share no text with the activation rows.
        const heldoutRows = rows.slice(-z.heldout_rows);
        const activationRows = rows.slice(0, rows.length - z.heldout_rows);
        const evalSet = words.wordProblemToolEvalSet(world, z.behaviour_prompts);
        const copies = (await import("../../data/factworld/tools.js")).toolEvalSet(world, 2 * z.behaviour_prompts).negative.slice(0, Math.ceil(z.behaviour_prompts / 2));
        const behaviourItems: BehaviourItem[] = [
          ...evalSet.map((i) => ({ prompt: i.prompt, expression: i.expression, kind: "word" as const })),
          ...copies.map((i) => ({ prompt: i.prompt, expression: i.expression, kind: "copy" as const })),
        ];
        await writeJsonFile(path.join(ctx.dir, "data.json"), { sft, activationRows, heldoutRows, behaviour: behaviourItems } satisfies Data);
        return { sft_examples: sft.length, activation_rows: activationRows.length, heldout_rows: heldoutRows.length, word_problems: evalSet.length, copy_prompts: copies.length };
      },
    },
    {
      name: "finetune",
      after: ["setup"],
      seeded: true,
      uses: (c) => ({ finetune: c.finetune, steps: sizesOf(c).sft_steps }),
      run: async (ctx) => {
        const c = ctx.config;
        const z = sizesOf(c);
        const [{ trainLora }, { mergeLora }, { applyPatch }, { saveModel }, { savePeftAdapter }] = await Promise.all([
          import("../../train/lora-train.js"), import("../../train/lora.js"), import("../../model/patch.js"), import("../../model/load.js"), import("../../train/peft-files-node.js"),
        ]);
        const base = await stageModel(ctx, c.model);
        const data = await readData(ctx);
        const f = c.finetune;
        const r = await trainLora({
          model: base,
          examples: data.sft,
          lora: { targets: f.targets, rank: f.rank, alpha: f.alpha, dropout: f.dropout },
          config: { lr: f.lr, totalSteps: z.sft_steps, warmupSteps: Math.max(1, Math.round(z.sft_steps / 10)), batchSize: f.batch_size, seed: deriveSeed(ctx.runSeed, "lora"), checkpointEvery: 10, minLrRatio: 0.1 },
          checkpointDir: ctx.checkpoint.dir,
          resume: true,
          log: (e) => {
            ctx.metric("finetune.loss", e.loss, e.step);
            ctx.progress(e.step, z.sft_steps);
          },
        });
        await savePeftAdapter(path.join(ctx.dir, "adapter"), r.adapter, base.config, { baseModel: modelDir(c.model) });
        const merged = applyPatch(base, mergeLora(r.adapter));
        await saveModel(merged, path.join(ctx.dir, "model"));
        const before = await behaviour(base, data.behaviour, c.max_new_tokens);
        const after = await behaviour(merged, data.behaviour, c.max_new_tokens);
        for (const [k, v] of Object.entries(after)) ctx.metric(`finetuned.${k}`, v);
        for (const [k, v] of Object.entries(before)) ctx.metric(`base_model.${k}`, v);
        return { steps: r.step, final_loss: r.losses.at(-1)?.loss, resumed_from: r.resumedFrom ? path.basename(r.resumedFrom) : null, before, after };
      },
    },
    {
      name: "base_transcoders",
      after: ["setup"],
      seeded: true,
      uses: (c) => ({ layers: c.layers, hook_in: c.hook_in, base: c.base, steps: sizesOf(c).base_steps, batch: sizesOf(c).batch_tokens }),
      run: async (ctx) => {
        const c = ctx.config;
        const z = sizesOf(c);
        const [{ trainDictionary }, { saveDictionary }] = await Promise.all([import("../../sae/train.js"), import("../../sae/dictionary-file-node.js")]);
        const model = await stageModel(ctx, c.model);
        const data = await readData(ctx);
        const out: Record<string, unknown> = {};
        for (const layer of c.layers) {
          if (layer >= model.config.nLayers) throw new ConfigError("DELTA_LAYER", `layer ${layer} does not exist (the model has ${model.config.nLayers})`, { field: "config.layers" });
          const { hookIn, hookOut } = hooksOf(c, layer);
          const cache = path.join(ctx.checkpoint.dir, `base-${layer}`);
          const source = await layerActivations(model, c, layer, data.activationRows, cache, deriveSeed(ctx.runSeed, "base-chunks", layer));
          const r = await trainDictionary({
            kind: "transcoder", hookIn, hookOut, dSae: c.base.width, activation: { type: "topk", k: c.base.k }, source, steps: z.base_steps, batchTokens: z.batch_tokens,
            lr: c.base.lr, lrWarmupSteps: Math.round(z.base_steps / 20), minLrRatio: 0.1, resampleAt: [Math.round(z.base_steps / 2)], deadWindowTokens: 20 * z.batch_tokens, seed: deriveSeed(ctx.runSeed, "base", layer),
            log: (e) => ctx.metric(`base.layer${layer}.mse`, e.mse, e.step),
          });
          await saveDictionary(dictionaryFile(ctx.dir, layerDir(layer)), r.dictionary);
          await fs.rm(cache, { recursive: true, force: true });
          out[layerDir(layer)] = { steps: r.steps, tokens: r.tokens, final_mse: r.history.at(-1)?.mse, dead_fraction: r.history.at(-1)?.deadFraction, resampled: r.resampled, step_seconds: r.stepSeconds };
        }
        return out;
      },
    },
    {
      name: "delta_transcoders",
      after: ["setup", "finetune", "base_transcoders"],
      seeded: true,
      uses: (c) => ({ delta: c.delta, steps: sizesOf(c).delta_steps, batch: sizesOf(c).batch_tokens }),
      run: async (ctx) => {
        const c = ctx.config;
        const z = sizesOf(c);
        const [{ trainDeltaTranscoder }, { saveDictionary }] = await Promise.all([import("../../sae/delta.js"), import("../../sae/dictionary-file-node.js")]);
        const tuned = await savedModel(ctx, path.join(ctx.inputDirs.finetune!, "model"));
        const data = await readData(ctx);
        const out: Record<string, unknown> = {};
        for (const layer of c.layers) {
          const base = await savedDictionary(dictionaryFile(ctx.inputDirs.base_transcoders!, layerDir(layer)));
          const cache = path.join(ctx.checkpoint.dir, `tuned-${layer}`);
          const source = await layerActivations(tuned, c, layer, data.activationRows, cache, deriveSeed(ctx.runSeed, "delta-chunks", layer));
          for (const width of c.delta.widths) {
            const r = await trainDeltaTranscoder(base, {
              dSae: width, activation: { type: "topk", k: Math.min(c.delta.k, width) }, source, steps: z.delta_steps, batchTokens: z.batch_tokens, lr: c.delta.lr,
              lrWarmupSteps: Math.round(z.delta_steps / 20), minLrRatio: 0.1, seed: deriveSeed(ctx.runSeed, "delta", layer, width),
              log: (e) => ctx.metric(`delta.layer${layer}.width${width}.mse`, e.mse, e.step),
            });
            await saveDictionary(dictionaryFile(ctx.dir, deltaDir(layer, width)), r.dictionary);
            out[deltaDir(layer, width)] = { steps: r.steps, final_residual_mse: r.history.at(-1)?.mse, dead_fraction: r.history.at(-1)?.deadFraction };
          }
          await fs.rm(cache, { recursive: true, force: true });
        }
        return out;
      },
    },
    {
      name: "evaluate",
      after: ["setup", "finetune", "base_transcoders", "delta_transcoders"],
      uses: (c) => ({ alphas: c.alphas, max_new_tokens: c.max_new_tokens }),
      run: async (ctx) => {
        const c = ctx.config;
        const [{ applyPatch }, { meanCE, splicePatch, single }, { deltaTerms }] = await Promise.all([import("../../model/patch.js"), import("../../sae/metrics.js"), import("../../sae/delta.js")]);
        const data = await readData(ctx);
        const tuned = await savedModel(ctx, path.join(ctx.inputDirs.finetune!, "model"));
        const ceRaw = await meanCE(tuned, data.heldoutRows);
        const raw = await behaviour(tuned, data.behaviour, c.max_new_tokens);
        const conditions: Record<string, unknown>[] = [{ condition: "raw", layer: null, width: null, alpha: null, delta_ce: 0, ce: ceRaw, ...raw }];
        ctx.caseResult("raw", { delta_ce: 0, ...raw });
        const total = c.layers.length * (1 + c.delta.widths.length * c.alphas.length);
        let done = 0;
        for (const layer of c.layers) {
          const base = await savedDictionary(dictionaryFile(ctx.inputDirs.base_transcoders!, layerDir(layer)));
          const run = async (condition: string, terms: Parameters<typeof splicePatch>[0], extra: Record<string, number | null>) => {
            const m = applyPatch(tuned, splicePatch(terms));
            const ce = await meanCE(m, data.heldoutRows);
            const b = await behaviour(m, data.behaviour, c.max_new_tokens);
            const row = { condition, layer, ...extra, delta_ce: ce - ceRaw, ce, ...b };
            conditions.push(row);
            ctx.caseResult(`${condition}/layer${layer}${extra.width !== null && extra.width !== undefined ? `/w${extra.width}/a${extra.alpha}` : ""}`, { delta_ce: ce - ceRaw, ...b });
            ctx.progress(++done, total);
          };
          await run("base_only", single(base), { width: null, alpha: null });
          for (const width of c.delta.widths) {
            const delta = await savedDictionary(dictionaryFile(ctx.inputDirs.delta_transcoders!, deltaDir(layer, width)));
            for (const alpha of c.alphas) await run("base+delta", deltaTerms(base, delta, alpha), { width, alpha });
          }
        }
        return { ce_raw: ceRaw, conditions };
      },
    },
    {
      name: "aggregate",
      after: ["finetune", "evaluate"],
      uses: () => ({}),
      run: async (ctx) => {
        const c = ctx.config;
        const { writeJsonFile } = await import("../../io/json.js");
        const { writeReportSection } = await import("../report/section.js");
        const { deltaTranscoderFigures, deltaTranscoderTable } = await import("./delta-transcoder-report.js");
        const ft = ctx.inputs.finetune as { before: Record<string, number>; after: Record<string, number> };
        const ev = ctx.inputs.evaluate as { ce_raw: number; conditions: Record<string, number | string | null>[] };
        // Per layer: how far base only, and the closest base + 1·delta, are from the raw fine-tuned
        // model's tool-call rate. The objective is the delta's gap at the layer where base only
        // departs most (the layer the fine-tune changed); untouched layers would make it trivially 0.
        const rawRate = ft.after.tool_call_rate!;
        const rateGap = (r: Record<string, number | string | null>) => Math.abs((r.tool_call_rate as number) - rawRate);
        const perLayer = c.layers.map((layer) => {
          const rows = ev.conditions.filter((r) => r.layer === layer);
          const baseGap = rateGap(rows.find((r) => r.condition === "base_only")!);
          const deltaGap = Math.min(...rows.filter((r) => r.condition === "base+delta" && r.alpha === 1).map(rateGap));
          ctx.metric(`layer${layer}.base_only_tool_call_gap`, baseGap);
          if (Number.isFinite(deltaGap)) ctx.metric(`layer${layer}.delta_tool_call_gap`, deltaGap);
          return { layer, baseGap, deltaGap };
        });
        const focus = perLayer.reduce((a, b) => (b.baseGap > a.baseGap ? b : a));
        const gap = focus.deltaGap;
        ctx.metric("delta_tool_call_gap", gap);
        ctx.metric("base_only_tool_call_gap", focus.baseGap);
        for (const [k, v] of Object.entries(ft.after)) ctx.metric(`finetuned.${k}`, v);
        for (const [k, v] of Object.entries(ft.before)) ctx.metric(`base_model.${k}`, v);
        const results = { base_model: ft.before, finetuned: ft.after, ce_raw: ev.ce_raw, conditions: ev.conditions, layers: c.layers, widths: c.delta.widths, alphas: c.alphas };
        await writeJsonFile(path.join(ctx.dir, "results.json"), results);
        await writeReportSection(ctx.dir, { tables: [deltaTranscoderTable(results)], figures: deltaTranscoderFigures(results) });
        return { focus_layer: focus.layer, delta_tool_call_gap: gap, base_only_tool_call_gap: focus.baseGap, per_layer: perLayer, finetuned: ft.after, base_model: ft.before };
      },
    },
  ],
};
