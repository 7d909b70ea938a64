/**
 * `npm run bench:lifelong`: the lifelong-editing acceptance table on the built-in fact-world model.
 *
 *   stream     each editor given the first --n distinct-subject cases of a dataset (none whose
 *              locality probe is another chosen case's edit: data/editing/select.ts) one after
 *              another (the sequential protocol, batch 1), measured after 1, 10 and --n edits
 *              (reliability = rewrite, generalisation = rephrase, locality) with edit seconds
 *   act-ratio  WISE's act_ratio swept (0.1 … 0.9): reliability and locality after --n edits (one
 *              trained memory re-scored per value: act_ratio acts only at inference)
 *   mend       the cost of training MEND's editor network on the model (MEND_SMALL_MODEL settings,
 *              zsRE records 200…419, validation 420…455): steps, seconds, s/step, validation success
 *
 * Quality numbers, not speed against a reference: these are the acceptance numbers.
 * usage: node --import tsx bench/lifelong.ts [--only stream,act-ratio,mend] [--methods grace,wise,elder,mend,alphaedit]
 *        [--format zsre|wise-hallucination|wise-temporal] [--n 100] [--ratios 0.1,0.3,…] [--wise-hparams JSON] [--out FILE.json]
 * The stream's MEND uses models/factworld/mend.safetensors (the network `--only mend` trains).
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { BUILTIN_DATA, BUILTIN_DATA_DIR, BUILTIN_MODEL_DIR } from "../src/data/builtin-node.js";
import { loadEditCases, type EditDatasetFormat } from "../src/data/editing/load.js";
import { runEditExperiment, selectCases, unrelatedPool } from "../src/edit/experiment.js";
import { MEND_SMALL_MODEL, MEND_SPLIT, trainMend } from "../src/edit/mend-train.js";
import { writeFileAtomic } from "../src/io/atomic.js";
import { aggregateMetrics, caseMetrics } from "../src/eval/editing/metrics.js";
import { scoreCases } from "../src/eval/editing/score.js";
import { loadModel } from "../src/model/load.js";
import type { WiseModule } from "../src/model/modules/wise.js";
import { applyPatch, type ModulePatch } from "../src/model/patch.js";
import { initEngine } from "../src/tensor/engine.js";

const { values } = parseArgs({
  options: {
    only: { type: "string", default: "stream,act-ratio,mend" },
    methods: { type: "string", default: "grace,wise,elder,mend,alphaedit" },
    format: { type: "string", default: "zsre" },
    n: { type: "string", default: "100" },
    ratios: { type: "string", default: "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1,1.1,1.2" },
    "wise-hparams": { type: "string", default: "{}" },
    out: { type: "string" },
  },
});
const only = new Set(values.only!.split(","));
const n = Number(values.n);
const format = values.format as EditDatasetFormat;
const FILES: Record<string, string> = { zsre: BUILTIN_DATA.zsre, "wise-hallucination": BUILTIN_DATA.wiseHallucination, "wise-temporal": BUILTIN_DATA.wiseTemporal };
const MEND_ARCHIVE = path.join(BUILTIN_MODEL_DIR, "mend.safetensors");

await initEngine();
const model = await loadModel(BUILTIN_MODEL_DIR);
const cases = selectCases(await loadEditCases(path.join(BUILTIN_DATA_DIR, FILES[format]!), { format }), { n, distinctSubjects: true, disjointLocality: true });
const out: Record<string, unknown> = { format, n: cases.length };
// WISE's loc_prompts: the zsRE export's training split (records from 200), minus the evaluated cases' probes.
const unrelated = unrelatedPool((await loadEditCases(path.join(BUILTIN_DATA_DIR, BUILTIN_DATA.zsre), { format: "zsre" })).slice(MEND_SPLIT.trainFrom), cases);
const WISE_HP = JSON.parse(values["wise-hparams"]!) as Record<string, unknown>;
const f = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "—" : x.toFixed(2));

if (only.has("mend")) {
  const records = await loadEditCases(path.join(BUILTIN_DATA_DIR, BUILTIN_DATA.zsre), { format: "zsre" });
  const train = records.slice(MEND_SPLIT.trainFrom, records.length - MEND_SPLIT.valCount);
  const val = records.slice(records.length - MEND_SPLIT.valCount);
  const r = await trainMend(model, train, val, MEND_SMALL_MODEL);
  out.mend = { steps: r.steps, seconds: r.seconds, seconds_per_step: r.seconds / r.steps, val_edit_success: r.valAcc, train: train.length, val: val.length };
  console.log(`MEND training: ${r.steps} steps in ${r.seconds.toFixed(1)} s (${(r.seconds / r.steps).toFixed(2)} s/step), validation edit success ${f(r.valAcc)}`);
}

let wiseRun: Awaited<ReturnType<typeof runEditExperiment>> | undefined;
if (only.has("stream")) {
  console.log(`\n| method | T | reliability | generalization | locality | edit s (total) |\n| --- | --- | --- | --- | --- | --- |`);
  const rows: unknown[] = [];
  for (const method of values.methods!.split(",")) {
    const r = await runEditExperiment(model, cases, {
      method,
      mode: "sequential",
      evaluate: "after-all",
      hparams: method === "mend" ? { archive: MEND_ARCHIVE } : method === "wise" ? WISE_HP : {},
      context: { unrelated },
      streamAt: [1, 10, cases.length],
    });
    for (const p of r.stream ?? []) {
      const m = (k: string) => p.summary[k]?.mean;
      console.log(`| ${method} | ${p.edits} | ${f(m("reliability"))} | ${f(m("generalization"))} | ${f(m("locality"))} | ${p.edits === cases.length ? r.seconds.edit.toFixed(0) : ""} |`);
    }
    rows.push({ method, stream: r.stream, summary: r.summary.post, seconds: r.seconds });
    if (method === "wise") wiseRun = r;
  }
  out.stream = rows;
}

if (only.has("act-ratio")) {
  // act_ratio only scales the routing threshold at inference (min_act × act_ratio), so one trained
  // memory re-scored with each value gives exactly what a run per value would.
  const r = wiseRun ?? (await runEditExperiment(model, cases, { method: "wise", mode: "sequential", evaluate: "after-all", hparams: WISE_HP, context: { unrelated } }));
  const memory = r.patch as ModulePatch;
  console.log(`\nWISE trained once (${r.seconds.edit.toFixed(0)} s of edits); min_act per memory: ${(memory.module as WiseModule).memories.map((m) => m.minAct.toFixed(1)).join(", ")}`);
  console.log(`\n| act_ratio | reliability | generalization | locality |\n| --- | --- | --- | --- |`);
  const rows: unknown[] = [];
  for (const ratio of values.ratios!.split(",").map(Number)) {
    const module: WiseModule = { ...(memory.module as WiseModule), actRatio: ratio };
    const edited = applyPatch(model, { ...memory, module });
    const post = await scoreCases(edited, cases);
    edited.dispose();
    const summary = aggregateMetrics(cases.map((c, i) => caseMetrics(c, post[i]!, r.cases[i]!.scores.pre)));
    const m = (k: string) => summary[k]?.mean;
    console.log(`| ${ratio} | ${f(m("reliability"))} | ${f(m("generalization"))} | ${f(m("locality"))} |`);
    rows.push({ act_ratio: ratio, summary });
  }
  out.act_ratio = rows;
}

const file = values.out ?? path.join("bench", "results", `lifelong-${format}-${[...only].join("+")}.json`);
await writeFileAtomic(file, JSON.stringify(out, null, 1));
console.log(`\nwritten ${file}`);
model.dispose();
