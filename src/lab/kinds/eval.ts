/**
 * The `eval` experiment kind: benchmark tasks on a model, and before/after an intervention.
 *
 *   patch     the intervention: a patch file, or an edit made here (the first n cases of an
 *             edit dataset, in one editor call or as a resumable sequential stream — lifelong
 *             editing), saved as the stage's patch.safetensors
 *   base      every task on the model (lm-evaluation-harness semantics, eval/evaluate.ts); one
 *             case_results row per document; the request cache lives in the stage's checkpoint,
 *             so a killed evaluation resumes with the requests it had answered
 *   patched   the same on the patched model (when there is a patch)
 *   compare   each metric before vs after: paired bootstrap CI, paired t and McNemar (eval/compare.ts)
 *
 * Summary metrics: `<task>.<metric>` (before), `<task>.<metric>.patched`, `.diff`, `.ci_low`,
 * `.ci_high`; `score` is the mean over tasks of each task's first metric on the evaluated model
 * (the patched one when there is a patch). The library function is eval/experiment.ts.
 */
import path from "node:path";
import { existsSync } from "node:fs";
import { BUILTIN_DATA, BUILTIN_DATA_DIR } from "../../data/builtin-node.js";
import { EDIT_FORMATS, loadEditCases } from "../../data/editing/load.js";
import { EDITOR_NAMES } from "../../edit/hparams-yaml.js";
import { MEND_SPLIT } from "../../edit/mend-train.js";
import type { EvaluationResult, TaskResult } from "../../eval/evaluate.js";
import { DEFAULT_TASKS } from "../../eval/task-names.js";
import type { Patch } from "../../model/patch.js";
import type { Model } from "../../model/types.js";
import { s, type Infer } from "../schema/schema.js";
import { streamCheckpoint } from "./edit-stream-checkpoint.js";
import { editDataFile, fingerprint, modelDir, modelField, stageModel } from "./model-input.js";
import type { ExperimentKind, StageContext } from "./types.js";
import { DEFAULT_STATS_DIR } from "../../edit/stats-store-node.js";

export const evalSchema = s.object({
  model: modelField,
  tasks: s.array(s.string(), { minItems: 1 }).default([...DEFAULT_TASKS]).describeAs("built-in task names (see scalpel eval --list), 'caa', or task files (.yaml/.json)"),
  limit: s.nullable(s.int({ min: 1 })).describeAs("documents per task (per group for grouped tasks such as MMLU); null = all"),
  data_dir: s.nullable(s.string()).describeAs("benchmark data folder; null = ../shared/data beside the checkout"),
  batch_size: s.int({ min: 1 }).default(16).describeAs("loglikelihood requests per forward pass"),
  add_bos: s.boolean().default(false).describeAs("encode every request with the tokenizer's special tokens (lm-eval's add_bos_token=True)"),
  patch_file: s.nullable(s.string()).describeAs("evaluate before and after this patch (.safetensors written by scalpel)"),
  edit: s.nullable(s.object({
    method: s.enum(EDITOR_NAMES).default("rome").describeAs("editing method"),
    data: s.nullable(s.string()).describeAs("edit dataset; null = the built-in model's counterfact.json (zsre.json with format zsre)"),
    format: s.nullable(s.enum(EDIT_FORMATS)).describeAs("dataset format; null = recognised from the records"),
    n: s.int({ min: 1 }).default(5).describeAs("the first n cases are edited"),
    mode: s.enum(["batch", "sequential"] as const).default("batch").describeAs("batch: all n in one editor call; sequential: one after another (lifelong editing), resumable"),
    batch_size: s.int({ min: 1 }).default(1).describeAs("sequential only: edits per editor call"),
    unrelated: s.nullable(s.object({
      data: s.nullable(s.string()).describeAs("records whose locality prompts are used; null = the built-in model's zsRE export"),
      from: s.int({ min: 0 }).default(MEND_SPLIT.trainFrom).describeAs("first record used (the built-in export's records before 200 are evaluation cases)"),
    })).describeAs("unrelated prompts for editors that train a router against them (WISE's loc_prompts), as in the edit kind"),
    distinct_subjects: s.boolean().default(true).describeAs("one edit per subject"),
    disjoint_locality: s.boolean().default(false).describeAs("drop cases whose locality probe is another chosen case's edit"),
    hparams: s.record(s.scalar()).default({}).describeAs("overrides of the method's defaults (EasyEdit key names, scalar values)"),
    stats_dir: s.string().default(DEFAULT_STATS_DIR).describeAs("covariance statistics cache"),
  })).describeAs("evaluate before and after an edit made here (instead of patch_file)"),
  bootstrap_seed: s.int({ min: 0 }).default(0).describeAs("seed of the paired bootstrap"),
});

export type EvalConfig = Infer<typeof evalSchema>;

const editData = (e: { data: string | null; format: string | null }) => editDataFile(e.data, e.format);

// The method code loads when a stage runs (model-input.ts says why).
const patchFiles = () => import("../../model/patch-file.js");

const tasksOf = async (c: EvalConfig, model: string | null) => {
  const { loadTasks } = await import("../../eval/registry-node.js");
  const dir = modelDir(model);
  const factworldDataDir = existsSync(path.join(dir, "data", BUILTIN_DATA.qa)) ? path.join(dir, "data") : BUILTIN_DATA_DIR;
  return loadTasks(c.tasks, { dataDir: c.data_dir ?? undefined, factworldDataDir });
};

/** Evaluate `model` on the config's tasks with a request cache that survives a kill; every document is a case row. */
async function evaluateStage(ctx: StageContext<EvalConfig>, model: Model, patch?: Patch): Promise<EvaluationResult> {
  const c = ctx.config;
  const [{ FileRequestCache }, { evaluate }, { docRow }] = await Promise.all([import("../../eval/request-cache-node.js"), import("../../eval/evaluate.js"), import("../../eval/experiment.js")]);
  const cache = new FileRequestCache(path.join(ctx.checkpoint.dir, "requests.jsonl"));
  const result = await evaluate(model, await tasksOf(c, c.model), {
    limit: c.limit ?? undefined,
    cache,
    batchSize: c.batch_size,
    addSpecialTokens: c.add_bos,
    patch,
    onProgress: (done, total) => ctx.progress(done, total),
  });
  for (const t of result.tasks) t.perDoc.ids.forEach((id, i) => ctx.caseResult(`${t.task}/${id}`, docRow(t.perDoc.values, i)));
  return result;
}

const firstMetric = (t: TaskResult) => Object.values(t.metrics)[0]?.value ?? NaN;

export const evalKind: ExperimentKind<EvalConfig> = {
  name: "eval",
  version: "1",
  description: "Benchmark tasks (MMLU, GSM8K, LAMBADA, TruthfulQA, fact world …) on a model, before and after a patch or an edit, with paired CIs.",
  schema: evalSchema,
  objective: { metric: "score", direction: "maximize" },
  stages: [
    {
      name: "patch",
      after: [],
      seeded: true, // an edit's context templates are sampled with the run seed
      uses: (c) => ({ model: fingerprint(modelDir(c.model)), patch_file: c.patch_file && fingerprint(c.patch_file), edit: c.edit && { ...c.edit, data: fingerprint(editData(c.edit)), unrelated: c.edit.unrelated && { ...c.edit.unrelated, data: fingerprint(editDataFile(c.edit.unrelated.data, "zsre")) } } }),
      run: async (ctx) => {
        const c = ctx.config;
        if (c.patch_file) return { file: path.resolve(c.patch_file) };
        if (!c.edit) return { file: null };
        const e = c.edit;
        const model = await stageModel(ctx, c.model);
        const [{ resolveHparams, selectCases, runEditExperiment, unrelatedPool }, { getEditor }] = await Promise.all([import("../../edit/experiment.js"), import("../../edit/registry.js")]);
        const cases = selectCases(await loadEditCases(editData(e), { format: e.format ?? undefined }), { n: e.n, distinctSubjects: e.distinct_subjects, disjointLocality: e.disjoint_locality });
        let patch: Patch;
        let summary: unknown = null;
        if (e.mode === "sequential") {
          // The stream through the editing protocol: its edits' own metrics come with the patch.
          const r = await runEditExperiment(model, cases, {
            method: e.method,
            hparams: e.hparams,
            hparamsSource: "config.edit.hparams",
            mode: "sequential",
            batchSize: e.batch_size,
            evaluate: "after-all",
            seed: ctx.seed,
            context: { cacheDir: e.stats_dir, ...(e.unrelated ? { unrelated: unrelatedPool((await loadEditCases(editDataFile(e.unrelated.data, "zsre"))).slice(e.unrelated.from), cases) } : {}) },
            checkpoint: streamCheckpoint(ctx, () => {}),
            onResult: (_r, done, total) => ctx.progress(done, total),
          });
          patch = r.patch!;
          summary = r.summary;
        } else {
          const hp = resolveHparams(e.method, model, e.hparams, "config.edit.hparams");
          patch = await getEditor(e.method).edit(model, cases.map((x) => x.request), hp, { cacheDir: e.stats_dir, seed: ctx.seed });
        }
        await (await patchFiles()).savePatch(path.join(ctx.dir, "patch.safetensors"), patch);
        return { file: "patch.safetensors", requests: cases.map((x) => x.request), edit_summary: summary };
      },
    },
    {
      name: "base",
      after: [],
      uses: (c) => ({ model: fingerprint(modelDir(c.model)), tasks: c.tasks, limit: c.limit, data_dir: c.data_dir, add_bos: c.add_bos }),
      run: async (ctx) => evaluateStage(ctx, await stageModel(ctx, ctx.config.model)),
    },
    {
      name: "patched",
      after: ["patch", "base"],
      uses: () => ({}),
      run: async (ctx) => {
        const { file } = ctx.inputs.patch as { file: string | null };
        if (file === null) return null;
        const where = path.isAbsolute(file) ? file : path.join(ctx.inputDirs.patch!, file);
        const patch = await (await patchFiles()).loadPatch(where);
        const { patchedModel } = await import("../../eval/experiment.js");
        const model = patchedModel(await stageModel(ctx, ctx.config.model), patch, where);
        try {
          return await evaluateStage(ctx, model, patch);
        } finally {
          model.dispose();
        }
      },
    },
    {
      name: "compare",
      after: ["patch", "base", "patched"],
      uses: (c) => ({ bootstrap_seed: c.bootstrap_seed }),
      run: async (ctx) => {
        const { compareTask } = await import("../../eval/compare.js");
        const base = ctx.inputs.base as EvaluationResult;
        const patched = ctx.inputs.patched as EvaluationResult | null;
        const out: Record<string, number> = {};
        const finalTasks = (patched ?? base).tasks;
        out.score = finalTasks.reduce((sum, t) => sum + firstMetric(t), 0) / finalTasks.length;
        for (const t of base.tasks) for (const [m, r] of Object.entries(t.metrics)) out[`${t.task}.${m}`] = r.value;
        if (patched) {
          base.tasks.forEach((t, i) => {
            for (const cmp of compareTask(t, patched.tasks[i]!, { seed: ctx.config.bootstrap_seed })) {
              const k = `${t.task}.${cmp.metric}`;
              Object.assign(out, { [`${k}.patched`]: cmp.after, [`${k}.diff`]: cmp.diff, [`${k}.ci_low`]: cmp.ci[0], [`${k}.ci_high`]: cmp.ci[1] });
            }
          });
        }
        // A sequential edit's own metrics (reliability, locality … of its edits): `edit.<metric>`.
        const editSummary = (ctx.inputs.patch as { edit_summary?: { post: Record<string, { mean: number }> } | null }).edit_summary;
        for (const [k, v] of Object.entries(editSummary?.post ?? {})) out[`edit.${k}`] = v.mean;
        for (const [k, v] of Object.entries(out)) if (Number.isFinite(v)) ctx.metric(k, v);
        return out;
      },
    },
  ],
};
