/**
 * Editing at scale on factworld-m (issue 21): MEMIT and AlphaEdit with batches of 100 and 1,000
 * distinct subjects, ROME single edits, and the CounterFact-sized run — 10,000 edits of
 * ../shared/data/counterfact-mend/counterfact-edit.json in batches of 1,000, each batch into the
 * unedited model (MEMIT's mass-editing protocol) — with time and peak memory per editor call.
 *
 * Peak memory is the process's peak resident set (VmHWM) over each editor call and its evaluation,
 * reset before the call (writing 5 to /proc/self/clear_refs); the Wasm heap never shrinks, so a
 * call's peak can include memory an earlier call left resident.
 *
 * factworld-m's tokenizer knows its world's words only: the real CounterFact records' names are
 * mostly <unk> to it, so the 10k section measures time and memory of the editor at that scale, and
 * its efficacy says nothing about knowledge (the table says so).
 *
 * usage: node --import tsx bench/editing-scale.ts [--model models/factworld-m]
 *        [--only rome,memit-100,alphaedit-100,memit-1000,alphaedit-1000,cf10k] [--n-rome 50] [--out FILE]
 *        [--hparams FILE] [--cf-records A-B]
 * --hparams: a JSON file mapping a method to overrides of its defaults for this model, EasyEdit key
 * names, e.g. {"memit": {"v_num_grad_steps": 60, "mom2_update_weight": 1000}}; the out file records
 * them, and a resumed run must give the same.
 * Covariance statistics and z* are cached in .scalpel/edit-cache: AlphaEdit on the batch MEMIT just
 * edited reads MEMIT's z* (same v* hyperparameters) and its time leaves z* out (the table says so).
 * Not part of the test suite.
 *
 * Resumable: the out file keeps every finished section and, for the one under way, every finished
 * editor call's per-case metrics; run the same command again after an interruption and it goes on
 * from the next call (the 10k run is ten such calls).
 * --cf-records A-B: only CounterFact records A to B (1-based, inclusive) in the 10k section. Its
 * batches are independent (each into the unedited model), so two processes with disjoint ranges and
 * their own --out files share the 2 cores; the table is the union of their calls.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadEditCases } from "../src/data/editing/load.js";
import { aggregateMetrics } from "../src/eval/editing/metrics.js";
import { distinctSubjects } from "../src/data/editing/select.js";
import { runProtocol, type ProtocolResult } from "../src/edit/protocol.js";
import { getEditor } from "../src/edit/registry.js";
import { resolveHparams } from "../src/edit/experiment.js";
import type { EditCase } from "../src/edit/types.js";
import type { MetricSet } from "../src/eval/editing/metrics.js";
import { writeFileAtomic } from "../src/io/atomic.js";
import { loadModel } from "../src/model/load.js";
import { enableNativeExecutor } from "../src/model/native/enable-node.js";
import { initEngine } from "../src/tensor/engine.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: "models/factworld-m" },
    only: { type: "string", default: "rome,memit-100,alphaedit-100,memit-1000,alphaedit-1000,cf10k" },
    "n-rome": { type: "string", default: "50" },
    "cf-data": { type: "string", default: path.join(import.meta.dirname, "../../shared/data/counterfact-mend/counterfact-edit.json") },
    out: { type: "string", default: "bench/results/editing-scale.json" },
    hparams: { type: "string" },
    "cf-records": { type: "string" },
  },
});
const SECTIONS = ["rome", "memit-100", "alphaedit-100", "memit-1000", "alphaedit-1000", "cf10k"];
const only = new Set(values.only!.split(","));
for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section '${s}' (sections: ${SECTIONS.join(", ")})`);

await initEngine();
await enableNativeExecutor();
const model = await loadModel(values.model!);
const own = await loadEditCases(path.join(values.model!, "data", "counterfact.json"));
/** Requests whose z* the last editor call read from the store (value-cache.ts: AlphaEdit after MEMIT on the same batch). */
let zCached = 0;
const context = {
  cacheDir: ".scalpel/edit-cache",
  onProgress: (stage: string, done: number) => void (stage.endsWith("z* from cache") && (zCached = done)),
};
const overrides = (values.hparams ? JSON.parse(readFileSync(values.hparams, "utf8")) : {}) as Record<string, Record<string, unknown>>;
const hparamsOf = (method: string) => resolveHparams(method, model, overrides[method] ?? {}, values.hparams);

function resetPeak(): void {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
  } catch {
    /* not Linux: the peak is since the process started */
  }
}
function peakGB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) / 1e6 : process.memoryUsage().rss / 1e9;
}

interface Row {
  label: string;
  method: string;
  n: number;
  batchSize: number;
  /** zCached: edits whose z* came from the store, so editSeconds leaves their optimisation out. */
  calls: { edits: number; editSeconds: number; peakGB: number; zCached?: number }[];
  seconds: ProtocolResult["seconds"];
  summary: ProtocolResult["summary"];
  note?: string;
}
/** A section under way: its finished calls and their cases' metrics. */
interface Unfinished {
  calls: Row["calls"];
  cases: { pre: MetricSet; post: MetricSet }[];
  seconds: ProtocolResult["seconds"];
}
interface Saved {
  model: string;
  /** The --hparams overrides every section ran with. */
  hparams?: Record<string, Record<string, unknown>>;
  rows: Row[];
  partial: Record<string, Unfinished>;
}
const saved: Saved = existsSync(values.out!) ? (JSON.parse(readFileSync(values.out!, "utf8")) as Saved) : { model: values.model!, hparams: overrides, rows: [], partial: {} };
if (!Array.isArray(saved.rows) || saved.model !== values.model || JSON.stringify(saved.hparams ?? {}) !== JSON.stringify(overrides)) {
  throw new Error(`${values.out} holds another model's, another --hparams' or an older run's results: move it away or pass --out`);
}
const save = () => writeFileAtomic(values.out!, JSON.stringify(saved, null, 2));

/** Run `cases` in calls of `batchSize` (each into the unedited model), measuring every call; resumes a saved section. */
async function section(label: string, method: string, cases: EditCase[], batchSize: number, note?: string): Promise<void> {
  let row = saved.rows.find((r) => r.label === label);
  if (!row) {
    const editor = getEditor(method);
    const part = (saved.partial[label] ??= { calls: [], cases: [], seconds: { edit: 0, eval: 0, total: 0 } });
    // Single edits run ten per protocol call (each restored after its evaluation); batches one call each.
    const step = batchSize === 1 ? 10 : batchSize;
    for (let i = part.cases.length; i < cases.length; i += step) {
      const chunk = cases.slice(i, i + step);
      resetPeak();
      zCached = 0;
      process.stderr.write(`${label}: edits ${i + 1}–${i + chunk.length} …`);
      const r = await runProtocol(model, editor, chunk, { mode: batchSize === 1 ? "single" : "batch", batchSize, context, hparams: hparamsOf(method) });
      part.calls.push({ edits: chunk.length, editSeconds: batchSize === 1 ? r.seconds.edit / chunk.length : r.seconds.edit, peakGB: peakGB(), ...(zCached ? { zCached } : {}) });
      process.stderr.write(` edit ${r.seconds.edit.toFixed(0)} s, eval ${r.seconds.eval.toFixed(0)} s, peak ${peakGB().toFixed(2)} GB\n`);
      part.cases.push(...r.cases.map((c) => ({ pre: c.pre, post: c.post })));
      part.seconds = { edit: part.seconds.edit + r.seconds.edit, eval: part.seconds.eval + r.seconds.eval, total: part.seconds.total + r.seconds.total };
      await save();
    }
    // The protocol's own aggregation (mean ± population std, ROME's S) over every call's cases.
    const summary = { pre: aggregateMetrics(part.cases.map((c) => c.pre)), post: aggregateMetrics(part.cases.map((c) => c.post)) };
    row = { label, method, n: part.cases.length, batchSize, calls: part.calls, seconds: part.seconds, summary, ...(note ? { note } : {}) };
    saved.rows.push(row);
    delete saved.partial[label];
    await save();
  }
  const { n, calls, seconds, summary } = row;
  const pct = (x?: { mean: number }) => (x && Number.isFinite(x.mean) ? (100 * x.mean).toFixed(1) : "—");
  const s = summary;
  const cachedZ = calls.reduce((t, c) => t + (c.zCached ?? 0), 0);
  console.log(
    `| ${label} | ${n} | ${pct(s.post.efficacy_score ?? s.post.reliability)} (${pct(s.pre.efficacy_score ?? s.pre.reliability)}) | ${pct(s.post.paraphrase_score ?? s.post.generalization)} | ${pct(s.post.neighborhood_score ?? s.post.locality)} (${pct(s.pre.neighborhood_score)}) | ${(seconds.edit / (batchSize === 1 ? n : calls.length)).toFixed(1)}${cachedZ ? ` (z* of ${cachedZ} read from the store)` : ""} | ${Math.max(...calls.map((c) => c.peakGB)).toFixed(2)} |`,
  );
}

console.log(`Editing at scale on ${values.model} (${own.length} CounterFact cases of its world); scores ×100 (unedited in brackets)\n`);
console.log("| protocol | n | efficacy | paraphrase | neighbourhood | edit s / call | peak GB |\n|---|---|---|---|---|---|---|");
const distinct = distinctSubjects(own);
if (only.has("rome")) await section("ROME, single edits", "rome", own.slice(0, Number(values["n-rome"])), 1);
for (const n of [100, 1000]) {
  for (const method of ["memit", "alphaedit"]) {
    if (!only.has(`${method}-${n}`)) continue;
    if (distinct.length < n) throw new Error(`${values.model}: only ${distinct.length} distinct subjects, ${n} needed`);
    await section(`${method === "memit" ? "MEMIT" : "AlphaEdit"}, one batch of ${n} distinct subjects`, method, distinct.slice(0, n), n);
  }
}
if (only.has("cf10k")) {
  const all = await loadEditCases(values["cf-data"]!);
  const range = values["cf-records"]?.split("-").map(Number);
  if (range && !(range.length === 2 && range.every(Number.isInteger) && range[0]! >= 1 && range[0]! <= range[1]!)) throw new Error(`--cf-records: '${values["cf-records"]}' is not A-B with 1 ≤ A ≤ B`);
  const cf = range ? all.slice(range[0]! - 1, range[1]) : all;
  const records = range ? ` (records ${range[0]}–${Math.min(range[1]!, all.length)})` : "";
  await section(`MEMIT, ${cf.length} CounterFact (MEND format) edits${records} in batches of 1,000`, "memit", cf, 1000, "real-world names are <unk> to the fact-world tokenizer: time and memory only");
}
console.error(`wrote ${values.out}`);
model.dispose();
