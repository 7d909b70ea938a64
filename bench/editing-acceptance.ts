/**
 * Editing acceptance table (issue 6) on the built-in fact-world model with its CounterFact export:
 *
 *   1. ROME single edits: efficacy, paraphrase, neighbourhood (unedited vs edited)
 *   2. MEMIT, one batch of 100 edits of distinct subjects (src/data/editing/select.ts: two edits of
 *      one subject in a batch ask one key for two values; MEMIT evaluates mass edits without them)
 *   3. unconstrained FT vs ROME, single edits: neighbourhood (specificity)
 *   4. 100 sequential ROME edits vs 100 sequential AlphaEdit edits, evaluated after all
 *
 * usage: node --import tsx bench/editing-acceptance.ts [--n-single 50] [--from 0] [--n-batch 100] [--n-seq 100]
 *        [--only rome,ft,memit,seq-rome,seq-alphaedit] [--out FILE.json]
 * (--from: first case of the single-edit sections, so a longer run can continue an earlier one)
 * (default --out: bench/results/editing-acceptance-<sections>.json; sections can run as separate
 * processes). Covariance statistics are cached in .scalpel/edit-cache after the first run.
 * Not part of the test suite. Prints a markdown table; writes every protocol's summary as JSON.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { builtinDataPath, resolveModelDir } from "../src/cli/default-model.js";
import { loadEditCases } from "../src/data/editing/load.js";
import { distinctSubjects } from "../src/data/editing/select.js";
import { runProtocol, type ProtocolOptions, type ProtocolResult } from "../src/edit/protocol.js";
import { getEditor } from "../src/edit/registry.js";
import type { EditCase } from "../src/edit/types.js";
import { writeFileAtomic } from "../src/io/atomic.js";
import { loadModel } from "../src/model/load.js";
import type { Model } from "../src/model/types.js";
import { initEngine } from "../src/tensor/engine.js";

const { values } = parseArgs({
  options: {
    "n-single": { type: "string", default: "50" },
    from: { type: "string", default: "0" },
    "n-batch": { type: "string", default: "100" },
    "n-seq": { type: "string", default: "100" },
    only: { type: "string", default: "rome,ft,memit,seq-rome,seq-alphaedit" },
    data: { type: "string" },
    model: { type: "string" },
    out: { type: "string" },
  },
});
const SECTIONS = ["rome", "ft", "memit", "seq-rome", "seq-alphaedit"];
const only = new Set(values.only!.split(","));
for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section '${s}' (sections: ${SECTIONS.join(", ")})`);
// One file per section list, so sections can run as separate processes side by side.
values.out ??= `bench/results/editing-acceptance-${[...only].join("+")}.json`;

await initEngine();
const model = await loadModel(resolveModelDir(values.model));
const data = values.data ?? builtinDataPath("counterfact");
const all = await loadEditCases(data);
const rows: { label: string; r: ProtocolResult }[] = [];
const context = { cacheDir: ".scalpel/edit-cache" };

const cols = ["efficacy_score", "paraphrase_score", "neighborhood_score", "score", "efficacy_magnitude", "neighborhood_magnitude", "reliability", "generalization", "locality"];
const f = (x?: { mean: number }) => (x ? (100 * x.mean).toFixed(1) : "—");
const header = [
  `Editing acceptance on ${path.relative(process.cwd(), data)} (${all.length} cases); scores ×100, mean over cases; "pre" = the unedited model`,
  "",
  `| protocol | n | ${cols.join(" | ")} | edit s/case |`,
  `|---|---|${cols.map(() => "---").join("|")}|---|`,
];
console.log(header.join("\n"));

/** Print a protocol's two rows and rewrite the JSON file, so an interrupted run keeps what it did. */
async function report(label: string, r: ProtocolResult): Promise<void> {
  console.log(`| ${label} (pre) | ${r.cases.length} | ${cols.map((c) => f(r.summary.pre[c])).join(" | ")} | |`);
  console.log(`| ${label} | ${r.cases.length} | ${cols.map((c) => f(r.summary.post[c])).join(" | ")} | ${(r.seconds.edit / r.cases.length).toFixed(2)} |`);
  await writeFileAtomic(values.out!, JSON.stringify(rows.map(({ label, r }) => ({ label, method: r.method, mode: r.mode, batchSize: r.batchSize, evaluatedAt: r.evaluatedAt, n: r.cases.length, summary: r.summary, seconds: r.seconds })), null, 2));
}

async function run(label: string, name: string, cases: EditCase[], opts: Omit<ProtocolOptions<Record<string, unknown>>, "context">, m: Model = model): Promise<void> {
  const editor = getEditor(name);
  const t0 = performance.now();
  process.stderr.write(`${label}: ${cases.length} cases …`);
  const r = await runProtocol(m, editor, cases, { ...opts, context });
  process.stderr.write(` ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  rows.push({ label, r });
  await report(label, r);
}

const nSingle = Number(values["n-single"]);
const from = Number(values.from);
const single = all.slice(from, from + nSingle);
const range = from > 0 ? ` (cases ${from}–${from + single.length - 1})` : "";
const nBatch = Number(values["n-batch"]);
const nSeq = Number(values["n-seq"]);
if (only.has("rome")) await run(`ROME, single edits${range}`, "rome", single, { mode: "single" });
if (only.has("ft")) await run(`FT (unconstrained), single edits${range}`, "ft", single, { mode: "single" });
if (only.has("memit")) await run(`MEMIT, one batch of ${nBatch} (distinct subjects)`, "memit", distinctSubjects(all).slice(0, nBatch), { mode: "batch", batchSize: nBatch });
if (only.has("seq-rome")) await run(`ROME, ${nSeq} sequential`, "rome", all.slice(0, nSeq), { mode: "sequential", evaluate: "after-all" });
if (only.has("seq-alphaedit")) await run(`AlphaEdit, ${nSeq} sequential`, "alphaedit", all.slice(0, nSeq), { mode: "sequential", evaluate: "after-all" });

console.error(`wrote ${values.out}`);
model.dispose();
