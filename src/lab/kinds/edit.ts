/**
 * The `edit` experiment kind: knowledge editing evaluated as in ROME/MEMIT/AlphaEdit/EasyEdit.
 *
 *   cases       read the dataset (CounterFact ROME or MEND format, zsRE, known facts), pick n
 *   covariance  the method's hyperparameters for the model, and the key covariance C = E[kkᵀ]
 *               of each edited layer (ROME, MEMIT, AlphaEdit), kept in the stats cache
 *   edits       the protocol (single / batch / sequential) with per-case metrics, one
 *               case_results row per case and one JSON record per case in the stage's cases/
 *               folder (MEMIT's layout, edit/case-records.ts); the sequential stream checkpoints after every
 *               editor call, so a killed run resumes after its last finished edit
 *   pitfalls    with `seesaw:` only, the editing-pitfalls measures (edit-seesaw.ts) from the
 *               per-case records: bias of completions, single-token bias, cross-property probe
 *   summary     mean of every metric over the cases (ROME's S as `score`), and the times
 *
 * The library function is edit/experiment.ts runEditExperiment; `scalpel edit-eval` runs the same.
 */
import path from "node:path";
import { ConfigError } from "../../errors.js";
import { EDIT_FORMATS, loadEditCases } from "../../data/editing/load.js";
import { EDITOR_NAMES, hparamKeyKinds, type HparamKind } from "../../edit/hparams-yaml.js";
import { MEND_SMALL_MODEL, MEND_SPLIT } from "../../edit/mend-train.js";
import type { StreamPoint } from "../../edit/protocol.js";
import { METRICS, SEESAW_METRICS } from "../../eval/editing/metrics.js";
import type { EditCase, PromptTarget } from "../../edit/types.js";
import { s, type Infer, type Schema } from "../schema/schema.js";
import { streamCheckpoint } from "./edit-stream-checkpoint.js";
import { editDataFile, fingerprint, modelDir, modelField, stageModel } from "./model-input.js";
import type { ExperimentKind, StageContext } from "./types.js";
import { DEFAULT_STATS_DIR } from "../../edit/stats-store-node.js";
import { loadSeesawWorld, readCaseRecords, seesawContext, seesawDataFile, seesawField, seesawScoring, seesawSectionTable, seesawWorldFile } from "./edit-seesaw.js";

const hparamSchemas: Record<HparamKind, () => Schema<unknown>> = {
  number: () => s.number(),
  int: () => s.int(),
  bool: () => s.boolean(),
  string: () => s.string(),
  "int[]": () => s.array(s.int(), { minItems: 1 }),
  "string[]": () => s.array(s.string()),
  pairs: () => s.array(s.array(s.int({ min: 0 }), { minItems: 2, maxItems: 2 })),
  numberOrFalse: () => s.scalar(),
  objective: () => s.enum(["prompt_last", "target_new"] as const),
  keyMode: () => s.enum(["rome", "r-rome"] as const),
  mom2Sample: () => s.enum(["reference"] as const),
  templateGroups: () => s.array(s.array(s.string(), { minItems: 1 }), { minItems: 1 }),
};

/** Every key some editor accepts (EasyEdit's names), each optional: the chosen method checks its own at run time. */
const hparamFields = () => Object.fromEntries(Object.entries(hparamKeyKinds()).map(([k, kind]) => [k, s.nullable(hparamSchemas[kind]())]));
/**
 * Overrides for every method, and under a method's name overrides for that method only, which win:
 * a sweep over methods gives each its own (`memit: {mom2_update_weight: 1000}`) without the others
 * rejecting keys they do not have.
 */
const hparamsSchema = s.object({
  ...hparamFields(),
  ...Object.fromEntries(EDITOR_NAMES.map((name) => [name, s.nullable(s.object(hparamFields())).describeAs(`overrides for method ${name} only`)])),
});

export const editSchema = s.object({
  model: modelField,
  data: s.nullable(s.string()).describeAs("edit dataset file: CounterFact (ROME or MEND format), zsRE, known facts, WISE hallucination or temporal; null = the export in `format` that comes with the model (<model>/data/, else the built-in model's; counterfact.json when format is null), or with `seesaw:` its pair file"),
  format: s.nullable(s.enum(EDIT_FORMATS)).describeAs("dataset format; null = recognised from the records"),
  n: s.nullable(s.int({ min: 1 })).describeAs("first n cases (after distinct_subjects); null = all"),
  distinct_subjects: s.boolean().default(false).describeAs("keep the first case of each subject (batches where one subject is edited twice conflict)"),
  disjoint_locality: s.boolean().default(false).describeAs("drop cases whose locality probe is another chosen case's edit (it must change when both edits coexist: batches, sequential streams)"),
  method: s.enum(EDITOR_NAMES).default("rome").describeAs("editing method: ft, ft-l, ft-m, rome, r-rome, memit, alphaedit"),
  hparams: hparamsSchema.default({}).describeAs("overrides of the method's defaults for this model, EasyEdit key names (layers, v_num_grad_steps, mom2_n_samples …); under a method's name (memit: {…}) for that method only"),
  mode: s.enum(["single", "batch", "sequential"] as const).default("single").describeAs("single: each edit alone; batch: batch_size edits at once; sequential: edits one after another, composed"),
  batch_size: s.nullable(s.int({ min: 1 })).describeAs("edits per editor call (batch: default all n; sequential: default 1)"),
  evaluate: s.nullable(s.enum(["after-edit", "after-all"] as const)).describeAs("sequential only: evaluate each case right after its edit, or all after the last edit (default)"),
  stream_at: s.nullable(s.array(s.int({ min: 1 }), { minItems: 1 })).describeAs("sequential only: also measure the stream after these numbers of edits (e.g. [1, 10, 100]): the cases edited so far, and the edited matrices' norms"),
  generation: s.boolean().default(false).describeAs("also sample from generation prompts: ROME's fluency (generation_entropy) and attribute_similarity (slower)"),
  generation_length: s.int({ min: 2 }).default(100).describeAs("tokens per generated text, prompt included (ROME's max_out_len: 100)"),
  stats_dir: s.string().default(DEFAULT_STATS_DIR).describeAs("where covariance statistics and z*/v* target vectors are cached (shared with scalpel edit-eval)"),
  unrelated: s.nullable(s.object({
    data: s.nullable(s.string()).describeAs("records whose locality prompts are used (e.g. zsre_mend_train.json, hallucination-train.json); null = the built-in model's zsRE export"),
    format: s.nullable(s.enum(EDIT_FORMATS)).describeAs("their format; null = recognised"),
    from: s.int({ min: 0 }).default(MEND_SPLIT.trainFrom).describeAs("first record used (the built-in export's records before 200 are evaluation cases)"),
  })).describeAs("unrelated prompts (a training split's locality probes, minus any the evaluated cases use) for editors that train a router to stay off them: WISE's loc_prompts"),
  seesaw: seesawField,
  editor_training: s.object({
    data: s.nullable(s.string()).describeAs("zsRE-format training records; null = the built-in model's zsre.json"),
    train_from: s.int({ min: 0 }).default(MEND_SPLIT.trainFrom).describeAs("first training record (the records before it are left for evaluation streams)"),
    val_count: s.int({ min: 0 }).default(MEND_SPLIT.valCount).describeAs("the last val_count records validate (early stopping keeps the best network)"),
    steps: s.int({ min: 1 }).default(MEND_SMALL_MODEL.maxIters!).describeAs("training steps"),
  }).describeAs("MEND only, when hparams.archive is not given: its editor network is trained here on the model first (a cached, resumable stage)"),
});

export type EditConfig = Infer<typeof editSchema>;

/** The dataset file; with none given, the seesaw pair file of the model's export, or the built-in model's export in the format (CounterFact by default). */
const dataFile = (c: EditConfig) => c.data ?? (c.seesaw ? seesawDataFile(modelDir(c.model), c.seesaw) : editDataFile(null, c.format, c.model));
const given = (m: Record<string, unknown>) => Object.entries(m).filter(([k, v]) => v !== null && !(EDITOR_NAMES as readonly string[]).includes(k));
/** The chosen method's overrides: the keys for every method, then its own map's. */
const overrides = (c: EditConfig): Record<string, unknown> => {
  const own = (c.hparams as Record<string, unknown>)[c.method] as Record<string, unknown> | null | undefined;
  return Object.fromEntries([...given(c.hparams), ...given(own ?? {})]);
};
/** Methods that learn from data before they edit (MEND's editor network), when no trained one is given. */
const needsTraining = (c: EditConfig) => c.method === "mend" && !overrides(c).archive;

interface EditsOutput {
  method: string;
  mode: string;
  batch_size: number;
  evaluated_at: string;
  summary: unknown;
  seconds: { edit: number; eval: number; total: number };
  warnings: string[];
  /** Edits restored from the stream's checkpoint rather than recomputed (0 on an uninterrupted run). */
  resumed_edits: number;
  patch: string | null;
  /** The covariance sample of each layer the editor used (corpus, texts, tokens, max length). */
  covariance: unknown[];
  /** Generation settings of the generation metrics, when generated. */
  generation: unknown;
  /** The stream measured along the way (stream_at). */
  stream: StreamPoint[] | null;
}

// The method code loads when a stage runs (model-input.ts says why).
const experiment = () => import("../../edit/experiment.js");

/** The editors' caches (covariance, templates), one per process, shared by the stages and in-process trials. */
const editCaches = (ctx: StageContext<unknown>) => ctx.resource("edit-caches", async () => new (await import("../../edit/caches.js")).EditCaches());
const patchFiles = () => import("../../model/patch-file.js");

export const editKind: ExperimentKind<EditConfig> = {
  name: "edit",
  version: "1",
  description: "Knowledge editing (FT, ROME, MEMIT, AlphaEdit, GRACE, WISE, ELDER, MEND) on CounterFact / zsRE / WISE data: single, batch or sequential (lifelong, measured along the stream); per-case metrics.",
  schema: editSchema,
  objective: { metric: "score", direction: "maximize" },
  metrics: {
    ...Object.fromEntries(Object.entries(METRICS).map(([k, m]) => [k, { definition: m.def, version: m.version }])),
    score: { definition: "ROME S: harmonic mean of the efficacy, paraphrase and neighbourhood scores (case means)", version: 1 },
    ...Object.fromEntries(Object.entries(SEESAW_METRICS).map(([k, m]) => [k, { definition: `with seesaw: ${m.def}`, version: m.version }])),
  },
  stages: [
    {
      name: "cases",
      after: [],
      uses: (c) => ({
        data: fingerprint(dataFile(c)), format: c.format, n: c.n, distinct_subjects: c.distinct_subjects, disjoint_locality: c.disjoint_locality,
        unrelated: c.unrelated && { ...c.unrelated, data: fingerprint(editDataFile(c.unrelated.data, "zsre", c.model)) },
      }),
      run: async ({ config: c }) => {
        const file = dataFile(c);
        const { selectCases, unrelatedPool } = await experiment();
        const filtered = c.distinct_subjects || c.disjoint_locality;
        const loaded = await loadEditCases(file, { format: c.format ?? undefined, limit: filtered ? undefined : c.n ?? undefined });
        const cases = selectCases(loaded, { n: c.n ?? undefined, distinctSubjects: c.distinct_subjects, disjointLocality: c.disjoint_locality });
        const u = c.unrelated;
        const unrelated = u ? unrelatedPool((await loadEditCases(editDataFile(u.data, "zsre", c.model), { format: u.format ?? undefined })).slice(u.from), cases) : [];
        if (u && unrelated.length === 0) throw new ConfigError("EDIT_UNRELATED_EMPTY", `config.unrelated: no locality prompts left in ${editDataFile(u.data, "zsre", c.model)} from record ${u.from} (after dropping the evaluated cases' own)`, { field: "config.unrelated", fix: "lower from, or give another data file" });
        return { file, cases, unrelated };
      },
    },
    {
      name: "covariance",
      after: [],
      uses: (c) => ({ model: fingerprint(modelDir(c.model)), method: c.method, hparams: overrides(c), stats_dir: c.stats_dir }),
      run: async (ctx) => {
        const c = ctx.config;
        const model = await stageModel(ctx, c.model);
        const [{ resolveHparams }, { keyCovariance }] = await Promise.all([experiment(), import("../../edit/mom2.js")]);
        const hp = resolveHparams(c.method, model, overrides(c), "config.hparams");
        const layers = c.method === "rome" || c.method === "r-rome" ? (hp.mom2Adjustment ? [hp.layer as number] : []) : c.method === "memit" || c.method === "alphaedit" ? (hp.layers as number[]) : [];
        for (const [i, layer] of layers.entries()) {
          ctx.progress(i, layers.length);
          await keyCovariance(model, layer, hp as never, { cacheDir: c.stats_dir, caches: await editCaches(ctx) });
        }
        return { hparams: hp, layers };
      },
    },
    {
      name: "editor-training",
      after: [],
      seeded: false,
      uses: (c) => (needsTraining(c) ? { model: fingerprint(modelDir(c.model)), ...c.editor_training, data: fingerprint(editDataFile(c.editor_training.data, "zsre", c.model)), hparams: overrides(c) } : null),
      run: async (ctx) => {
        const c = ctx.config;
        if (!needsTraining(c)) return { archive: null };
        const t = c.editor_training;
        const file = editDataFile(t.data, "zsre", c.model);
        const [{ trainMend }, { mendCheckpointFile, saveMendNetwork }] = await Promise.all([import("../../edit/mend-train.js"), import("../../edit/mend-file-node.js")]);
        const records = await loadEditCases(file);
        const train = records.slice(t.train_from, records.length - t.val_count);
        const val = t.val_count > 0 ? records.slice(records.length - t.val_count) : [];
        if (train.length === 0) throw new ConfigError("EDITOR_TRAINING_SPLIT", `${file} has ${records.length} records: none left to train MEND on from record ${t.train_from} with ${t.val_count} for validation`, { field: "config.editor_training", fix: "lower train_from or val_count, or give a larger data file" });
        const model = await stageModel(ctx, c.model);
        const innerParams = overrides(c).inner_params as string[] | undefined;
        const result = await trainMend(model, train, val, {
          ...MEND_SMALL_MODEL,
          ...(innerParams?.length ? { innerParams } : {}),
          maxIters: t.steps,
          valSteps: Math.min(MEND_SMALL_MODEL.valSteps!, Math.max(1, val.length)),
          valInterval: val.length ? MEND_SMALL_MODEL.valInterval : 0,
          checkpoint: mendCheckpointFile(path.join(ctx.checkpoint.dir, "mend-training.safetensors")),
          onStep: (s) => ctx.progress(s.step, t.steps),
        });
        for (const h of result.history) ctx.metric("mend.loss", h.loss, h.step);
        await saveMendNetwork(path.join(ctx.dir, "mend.safetensors"), result.net);
        return { archive: "mend.safetensors", steps: result.steps, seconds: result.seconds, val_edit_success: result.valAcc ?? null, train_records: train.length, val_records: val.length };
      },
    },
    {
      name: "edits",
      after: ["cases", "covariance", "editor-training"],
      // Context templates and generation metrics sample with the run seed.
      seeded: true,
      uses: (c) => ({
        mode: c.mode, batch_size: c.batch_size, evaluate: c.evaluate, stream_at: c.stream_at, generation: c.generation, generation_length: c.generation ? c.generation_length : null,
        ...(c.seesaw ? { seesaw: { ...c.seesaw, world: fingerprint(seesawWorldFile(modelDir(c.model), c.seesaw)) } } : {}),
      }),
      run: async (ctx): Promise<EditsOutput> => {
        const c = ctx.config;
        if (c.evaluate !== null && c.mode !== "sequential") {
          throw new ConfigError("EDIT_EVALUATE", "config.evaluate applies to mode: sequential only (single and batch evaluate right after each edit)", { field: "config.evaluate" });
        }
        if (c.stream_at !== null && c.mode !== "sequential") {
          throw new ConfigError("EDIT_STREAM_AT", "config.stream_at measures a sequential stream; it needs mode: sequential", { field: "config.stream_at", fix: "set mode: sequential or remove stream_at" });
        }
        const { cases, unrelated } = ctx.inputs.cases as { cases: EditCase[]; unrelated?: PromptTarget[] };
        const model = await stageModel(ctx, c.model);
        const { runEditExperiment, caseRow } = await experiment();
        let resumed = 0;
        const trained = (ctx.inputs["editor-training"] as { archive: string | null }).archive;
        const sw = c.seesaw && (await seesawContext(await loadSeesawWorld(seesawWorldFile(modelDir(c.model), c.seesaw)), c.seesaw));
        const result = await runEditExperiment(model, cases, {
          method: c.method,
          hparams: trained ? { ...overrides(c), archive: path.join(ctx.inputDirs["editor-training"]!, trained) } : overrides(c),
          hparamsSource: "config.hparams",
          mode: c.mode,
          batchSize: c.batch_size ?? undefined,
          evaluate: c.evaluate ?? undefined,
          generation: c.generation ? { maxOutLen: c.generation_length } : false,
          ...(c.seesaw && sw ? { scoring: seesawScoring(sw.candidates, c.seesaw.probed !== null) } : {}),
          seed: ctx.seed,
          context: { cacheDir: c.stats_dir, caches: await editCaches(ctx), ...(unrelated?.length ? { unrelated } : {}) },
          checkpoint: c.mode === "sequential" ? streamCheckpoint(ctx, (n) => (resumed = n)) : undefined,
          streamAt: c.stream_at ?? undefined,
          onResult: (_r, done, total) => ctx.progress(done, total),
        });
        for (const r of result.cases) ctx.caseResult(r.id, caseRow(r));
        // The reference code's per-case files too (MEMIT's {num_edits}_edits-case_{id}.json), for its analysis scripts.
        await (await import("../../edit/case-records.js")).writeCaseRecords(path.join(ctx.dir, "cases"), result, cases);
        if (result.patch) await (await patchFiles()).savePatch(path.join(ctx.dir, "patch.safetensors"), result.patch);
        if (result.stream) {
          const [{ writeReportSection }, { streamFigures, streamTable }] = await Promise.all([import("../report/section.js"), import("./edit-stream-report.js")]);
          await writeReportSection(ctx.dir, { tables: [streamTable(result.method, result.stream)], figures: streamFigures(result.method, result.stream) });
        }
        return {
          method: result.method,
          mode: result.mode,
          batch_size: result.batchSize,
          evaluated_at: result.evaluatedAt,
          summary: result.summary,
          seconds: result.seconds,
          warnings: result.warnings,
          resumed_edits: resumed,
          patch: result.patch ? "patch.safetensors" : null,
          covariance: result.covariance,
          generation: result.generation ?? null,
          stream: result.stream ?? null,
        };
      },
    },
    {
      name: "pitfalls",
      after: ["cases", "edits"],
      uses: (c) => (c.seesaw ? { seesaw: c.seesaw } : null),
      run: async (ctx) => {
        const c = ctx.config;
        if (!c.seesaw) return { measures: null };
        const { seesawCaseMetrics, seesawTable } = await import("../../eval/editing/seesaw.js");
        const sw = await seesawContext(await loadSeesawWorld(seesawWorldFile(modelDir(c.model), c.seesaw)), c.seesaw);
        const { cases } = ctx.inputs.cases as { cases: EditCase[] };
        const byId = new Map(cases.map((k) => [k.id, k]));
        const rows = (await readCaseRecords(path.join(ctx.inputDirs.edits!, "cases"))).map((r) => {
          const k = byId.get(String(r.case_id))!;
          const row = seesawCaseMetrics(r, { attribute: k.attributePrompts, generation: k.generationPrompts }, sw);
          ctx.caseResult(String(r.case_id), row);
          return row;
        });
        const table = seesawTable(rows);
        for (const t of table) for (const [k, v] of [["pre", t.pre], ["post", t.post], ["diff", t.diff], ["p", t.pPaired]] as const) if (Number.isFinite(v)) ctx.metric(`${t.measure}.${k}`, v);
        const { writeReportSection } = await import("../report/section.js");
        await writeReportSection(ctx.dir, { tables: [seesawSectionTable(c.method, c.seesaw, table)] });
        return { measures: table };
      },
    },
    {
      name: "summary",
      after: ["edits"],
      uses: () => ({}),
      run: (ctx) => {
        const edits = ctx.inputs.edits as EditsOutput;
        const summary = edits.summary as { pre: Record<string, { mean: number }>; post: Record<string, { mean: number }> };
        const out: Record<string, number> = {};
        for (const [k, v] of Object.entries(summary.post)) if (Number.isFinite(v.mean)) out[k] = v.mean;
        for (const [k, v] of Object.entries(summary.pre)) if (Number.isFinite(v.mean)) out[`pre.${k}`] = v.mean;
        out.edit_seconds = edits.seconds.edit;
        out.eval_seconds = edits.seconds.eval;
        for (const [k, v] of Object.entries(out)) ctx.metric(k, v);
        // The stream as series (step = edits so far): stream.<metric> and norm.<matrix>.
        for (const p of edits.stream ?? []) {
          for (const [k, v] of Object.entries(p.summary)) if (Number.isFinite(v.mean)) ctx.metric(`stream.${k}`, v.mean, p.edits);
          for (const [k, v] of Object.entries(p.norms)) ctx.metric(`norm.${k}`, v, p.edits);
        }
        return out;
      },
    },
  ],
};
