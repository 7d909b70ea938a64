/**
 * `scalpel edit-eval`: run an editing method over a dataset under a protocol (single / batch /
 * sequential, src/edit/protocol.ts) and write per-case JSON plus a summary table.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { UsageError } from "../../errors.js";
import { EDIT_FORMATS, loadEditCases, type EditDatasetFormat } from "../../data/editing/load.js";
import { editsPerCall, runEditExperiment, selectCases, sharedSubjectWarning } from "../../edit/experiment.js";
import type { EvalTiming, ProtocolMode } from "../../edit/protocol.js";
import { summaryTable } from "../../edit/protocol-table.js";
import { METRICS } from "../../eval/editing/metrics.js";
import { ROME_GENERATION_LENGTH } from "../../eval/editing/score.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { writeCaseRecords } from "../../edit/case-records.js";
import { savePatch } from "../../model/patch-file.js";
import { didYouMean } from "../../util/closest.js";
import { parseFlags, type Command } from "../command.js";
import { builtinDataPath } from "../default-model.js";
import { editModel, editorByName, EDIT_METHODS, hparamsFlag } from "./edit-shared.js";
import { numberFlag } from "./forward.js";
import { DEFAULT_STATS_DIR } from "../../edit/stats-store-node.js";

const MODES: ProtocolMode[] = ["single", "batch", "sequential"];
const TIMINGS: EvalTiming[] = ["after-edit", "after-all"];

const usage = `scalpel edit-eval — evaluate an editing method on a dataset

usage: scalpel edit-eval --method M [--data FILE] [--n N] [--mode single|batch|sequential] [flags]

  --model DIR          checkpoint folder (default: the built-in fact-world model)
  --method M           ${EDIT_METHODS.join(" | ")}
  --data FILE          CounterFact (ROME or MEND format), zsRE or known-facts JSON
                       (default: the fact world's counterfact.json)
  --format F           ${EDIT_FORMATS.join(" | ")} (default: recognised from the records)
  --n N                first N cases (default all)
  --distinct-subjects  keep only the first case of each subject (before --n): for batches, where
                       two edits of one subject ask one key for two values (MEMIT's setting)
  --mode M             single (each edit alone, default) | batch (--batch-size edits at once)
                       | sequential (edits applied one after another, patches composed)
  --batch-size B       edits per editor call (batch: default all N; sequential: default 1)
  --evaluate WHEN      sequential only: after-all (default) | after-edit
  --hparams FILE|JSON  override the method's default hyperparameters
  --generation         also sample from generation prompts: ROME's fluency (n-gram entropy) and
                       attribute_similarity (tf-idf); slower
  --generation-length N  tokens per generated text, prompt included (ROME's max_out_len, default 100)
  --seed S             seed of the generation sampler (default 0)
  --out DIR            write DIR/cases.json, DIR/summary.json, DIR/summary.md (and DIR/patch.safetensors
                       for sequential runs), and one record per case in DIR/cases/ in MEMIT's layout
                       ({num_edits}_edits-case_{id}.json); default: print the table only
  --json               print the summary as JSON

Metrics (per case, then mean ± population std over cases): ${Object.keys(METRICS).join(", ")},
and score (harmonic mean of efficacy, paraphrase and neighbourhood scores).

examples:
  scalpel edit-eval --method rome --n 50
  scalpel edit-eval --method memit --mode batch --n 100 --distinct-subjects --out runs/memit-100
  scalpel edit-eval --method alphaedit --mode sequential --n 100 --evaluate after-all`;

export const editEvalCommand: Command = {
  name: "edit-eval",
  summary: "Evaluate an editing method on CounterFact / zsRE (single, batch or sequential edits)",
  usage,
  async run(argv) {
    const { values } = parseFlags("edit-eval", argv, {
      model: { type: "string" },
      method: { type: "string" },
      data: { type: "string" },
      format: { type: "string" },
      n: { type: "string" },
      "distinct-subjects": { type: "boolean" },
      mode: { type: "string" },
      "batch-size": { type: "string" },
      evaluate: { type: "string" },
      hparams: { type: "string" },
      generation: { type: "boolean" },
      "generation-length": { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
      json: { type: "boolean" },
    });
    const mode = (values.mode ?? "single") as ProtocolMode;
    if (!MODES.includes(mode)) throw new UsageError("BAD_MODE", `--mode must be one of ${MODES.join(", ")}, got '${values.mode}'.${didYouMean(values.mode!, MODES)}`, { field: "--mode" });
    const timing = values.evaluate as EvalTiming | undefined;
    if (timing !== undefined && !TIMINGS.includes(timing)) throw new UsageError("BAD_EVALUATE", `--evaluate must be after-all or after-edit, got '${timing}'`, { field: "--evaluate" });
    if (timing !== undefined && mode !== "sequential") throw new UsageError("BAD_EVALUATE", "--evaluate applies to --mode sequential only (single and batch evaluate right after each edit)", { field: "--evaluate" });
    const format = values.format as EditDatasetFormat | undefined;
    if (format !== undefined && !EDIT_FORMATS.includes(format)) throw new UsageError("BAD_FORMAT", `--format must be one of ${EDIT_FORMATS.join(", ")}.${didYouMean(format, EDIT_FORMATS)}`, { field: "--format" });
    const n = numberFlag("edit-eval", "n", values.n, { integer: true, min: 1 });
    const batchSize = numberFlag("edit-eval", "batch-size", values["batch-size"], { integer: true, min: 1 });
    const seed = numberFlag("edit-eval", "seed", values.seed, { integer: true }) ?? 0;
    const generationLength = numberFlag("edit-eval", "generation-length", values["generation-length"], { integer: true, min: 2 });
    const editor = editorByName("edit-eval", values.method);
    const data = values.data ?? builtinDataPath("counterfact");
    if (values.data === undefined && !existsSync(data)) {
      throw new UsageError("NO_BUILTIN_DATA", `the fact world's CounterFact export is missing (${data})`, { fix: "run `scalpel train-default` to rebuild it, or pass --data FILE" });
    }
    const loaded = await loadEditCases(data, { format, limit: values["distinct-subjects"] ? undefined : n });
    const cases = selectCases(loaded, { n, distinctSubjects: values["distinct-subjects"] });
    const conflict = sharedSubjectWarning(cases, editsPerCall(mode, batchSize, cases.length));
    if (conflict) process.stderr.write(`warning: ${conflict}. Pass --distinct-subjects to avoid it.\n`);
    const model = await editModel(values.model);
    try {
      const hp = await hparamsFlag(values.hparams);
      const result = await runEditExperiment(model, cases, {
        method: editor.name,
        hparams: hp.text,
        hparamsSource: hp.source,
        mode,
        batchSize,
        evaluate: timing,
        generation: values.generation ? { maxOutLen: generationLength ?? ROME_GENERATION_LENGTH } : false,
        seed,
        context: { cacheDir: DEFAULT_STATS_DIR },
        onResult: (_r, done, total) => {
          if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total} cases evaluated`);
        },
      });
      if (process.stderr.isTTY) process.stderr.write("\n");
      const table = summaryTable(result);
      const meta = {
        method: editor.name,
        hparams: result.hparams,
        data: path.resolve(data),
        n: cases.length,
        mode,
        batchSize: result.batchSize,
        evaluatedAt: result.evaluatedAt,
        seed,
        modelHash: result.modelHash,
        metrics: result.metricDefinitions,
        covariance: result.covariance,
        ...(result.generation ? { generation: result.generation } : {}),
        createdAt: new Date().toISOString(),
      };
      if (values.out) {
        await writeFileAtomic(path.join(values.out, "cases.json"), JSON.stringify(result.cases, null, 1));
        await writeFileAtomic(path.join(values.out, "summary.json"), JSON.stringify({ ...meta, summary: result.summary, seconds: result.seconds }, null, 2));
        await writeFileAtomic(path.join(values.out, "summary.md"), table + "\n");
        await writeCaseRecords(path.join(values.out, "cases"), result, cases);
        if (result.patch) await savePatch(path.join(values.out, "patch.safetensors"), result.patch);
      }
      if (values.json) console.log(JSON.stringify({ ...meta, summary: result.summary, seconds: result.seconds }, null, 2));
      else {
        console.log(table);
        if (values.out) console.log(`\nwrote ${path.join(values.out, "cases.json")}, summary.json, summary.md${result.patch ? ", patch.safetensors" : ""}`);
      }
    } finally {
      model.dispose();
    }
  },
};
