/**
 * Quick hyperparameter sweeps of the knowledge editors on the built-in fact-world model (`--hparams
 * name=YAML` overrides; the acceptance table itself comes from bench/editing-acceptance.ts, which
 * runs the real protocols and metric code). Scores, computed directly:
 *   efficacy       = fraction of cases with P(target_new | rewrite prompt) > P(target_true | rewrite prompt)
 *   paraphrase     = the same on paraphrase prompts (mean per case, then over cases)
 *   neighbourhood  = fraction of neighbourhood prompts with P(target_true) > P(target_new) (mean per case)
 *   qa accuracy    = greedy accuracy on facts of qa.json whose subject no edit touches (sequential runs)
 * Prompts are scored with the tokenizer's special tokens (BOS), as the model was trained and as the
 * editors tokenize (HF tokenizer defaults, like ROME's code).
 *
 *   node --import tsx bench/edit-acceptance.ts [--model DIR] [--n 100] [--only rome,memit,ft,seq-rome,seq-alphaedit] [--json FILE]
 *     [--hparams name=YAML ...]
 */
import { enableNodeThreads } from "../src/tensor/node-threads.js";

enableNodeThreads();

const { readFileSync, writeFileSync } = await import("node:fs");
const path = await import("node:path");
const { initEngine } = await import("../src/tensor/engine.js");
const { loadModel } = await import("../src/model/load.js");
const { applyPatch } = await import("../src/model/patch.js");
const { loglikelihood } = await import("../src/eval/logprobs.js");
const { getEditor } = await import("../src/edit/registry.js");
const { readHparams } = await import("../src/edit/hparams-yaml.js");
const { resolveModelDir, BUILTIN_DATA_DIR } = await import("../src/cli/default-model.js");
type Model = import("../src/model/types.js").Model;
type EditRequest = import("../src/edit/types.js").EditRequest;
type EditorName = import("../src/edit/hparams-yaml.js").EditorName;

const args = process.argv.slice(2);
const value = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const N = Number(value("n") ?? 100);
const ONLY = (value("only") ?? "rome,r-rome,memit,ft,ft-l,seq-rome,seq-alphaedit").split(",");
const CACHE = value("cache") ?? ".scalpel/edit-cache";
/** Sequential runs are scored after every EVERY edits. */
const EVERY = Number(value("every") ?? 25);
const overrides = new Map<string, string>();
for (let i = 0; i < args.length; i++) if (args[i] === "--hparams") {
  const [name, ...rest] = args[i + 1]!.split("=");
  overrides.set(name!, rest.join("="));
}

interface CfRecord {
  case_id: number;
  requested_rewrite: { prompt: string; subject: string; target_new: { str: string }; target_true: { str: string } };
  paraphrase_prompts: string[];
  neighborhood_prompts: string[];
}
interface Query { prompt: string; answer: string; subject: string; templates: string }

await initEngine();
const dir = resolveModelDir(value("model"));
const dataDir = value("data") ?? (value("model") === undefined ? BUILTIN_DATA_DIR : path.join(dir, "data"));
const model = await loadModel(dir);
const records = (JSON.parse(readFileSync(path.join(dataDir, "counterfact.json"), "utf8")) as CfRecord[]).slice(0, N);
const qa = JSON.parse(readFileSync(path.join(dataDir, "qa.json"), "utf8")) as Query[];
const requests: EditRequest[] = records.map((r) => ({ prompt: r.requested_rewrite.prompt, subject: r.requested_rewrite.subject, targetNew: r.requested_rewrite.target_new.str, targetTrue: r.requested_rewrite.target_true.str }));
const edited = new Set(requests.map((r) => r.subject));
const qaHeld = qa.filter((q) => q.templates === "train" && !edited.has(q.subject)).slice(0, 300);

function hparams(name: EditorName): Record<string, unknown> {
  const o = overrides.get(name);
  return readHparams(name, o ? readFileSync(o, "utf8") : {}, model.config, o);
}

/** P(a) > P(b) after each prompt, as fractions per group of prompts. */
async function prefer(m: Model, prompts: string[], a: string, b: string): Promise<number[]> {
  const reqs = prompts.flatMap((p) => [{ context: p, continuation: " " + a }, { context: p, continuation: " " + b }]);
  const s = await loglikelihood(m, reqs, { batchSize: 32, addSpecialTokens: true });
  return prompts.map((_, i) => (s[2 * i]!.sum > s[2 * i + 1]!.sum ? 1 : 0));
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

interface CaseScore { efficacy: number; paraphrase: number; neighbourhood: number }

async function scoreCase(m: Model, r: CfRecord): Promise<CaseScore> {
  const rw = r.requested_rewrite;
  const prompt = rw.prompt.replace("{}", rw.subject);
  const [eff] = await prefer(m, [prompt], rw.target_new.str, rw.target_true.str);
  const para = await prefer(m, r.paraphrase_prompts, rw.target_new.str, rw.target_true.str);
  const nb = await prefer(m, r.neighborhood_prompts, rw.target_true.str, rw.target_new.str);
  return { efficacy: eff!, paraphrase: mean(para), neighbourhood: mean(nb) };
}

async function qaAccuracy(m: Model): Promise<number> {
  const s = await loglikelihood(m, qaHeld.map((q) => ({ context: q.prompt, continuation: " " + q.answer })), { batchSize: 32, addSpecialTokens: true });
  return mean(s.map((x) => (x.isGreedy ? 1 : 0)));
}

function summary(scores: CaseScore[]): Record<string, number> {
  return { efficacy: mean(scores.map((s) => s.efficacy)), paraphrase: mean(scores.map((s) => s.paraphrase)), neighbourhood: mean(scores.map((s) => s.neighbourhood)) };
}

const results: Record<string, unknown> = { model: dir, n: records.length };
const log = (k: string, v: unknown) => {
  results[k] = v;
  console.log(k.padEnd(22), JSON.stringify(v));
};
const ctx = { cacheDir: CACHE };

const t0 = performance.now();
log("unedited", { ...summary(await Promise.all(records.map((r) => scoreCase(model, r)))), qa: await qaAccuracy(model) });

for (const name of ["rome", "r-rome", "ft", "ft-l", "ft-m"] as EditorName[]) {
  if (!ONLY.includes(name)) continue;
  const editor = getEditor(name);
  const hp = hparams(name);
  const scores: CaseScore[] = [];
  const t = performance.now();
  for (const [i, r] of records.entries()) {
    const patch = await editor.edit(model, [requests[i]!], hp as never, ctx);
    const m = applyPatch(model, patch);
    scores.push(await scoreCase(m, r));
    m.dispose();
    console.error(`  ${name} case ${i + 1}/${records.length}: ${JSON.stringify(scores[scores.length - 1])} (${((performance.now() - t) / 1000).toFixed(0)} s)`);
  }
  log(`single ${name}`, { ...summary(scores), secondsPerEdit: (performance.now() - t) / 1000 / records.length });
}

for (const name of ["memit", "alphaedit"] as EditorName[]) {
  if (!ONLY.includes(name)) continue;
  const t = performance.now();
  const patch = await getEditor(name).edit(model, requests, hparams(name) as never, ctx);
  const m = applyPatch(model, patch);
  const scores: CaseScore[] = [];
  for (const r of records) scores.push(await scoreCase(m, r));
  log(`batch ${name}`, { ...summary(scores), qa: await qaAccuracy(m), seconds: (performance.now() - t) / 1000 });
  m.dispose();
}

for (const name of ["rome", "alphaedit", "memit"] as EditorName[]) {
  if (!ONLY.includes(`seq-${name}`)) continue;
  const editor = getEditor(name);
  const hp = hparams(name);
  const t = performance.now();
  let m = model;
  const trace: Record<string, number>[] = [];
  for (const [i, req] of requests.entries()) {
    const patch = await editor.edit(m, [req], hp as never, ctx);
    const next = applyPatch(m, patch);
    if (m !== model) m.dispose();
    m = next;
    if ((i + 1) % EVERY === 0 || i === requests.length - 1) {
      const scores: CaseScore[] = [];
      for (const r of records.slice(0, i + 1)) scores.push(await scoreCase(m, r));
      trace.push({ edits: i + 1, ...summary(scores), qa: await qaAccuracy(m) });
      console.log(`  seq ${name} after ${i + 1}:`, JSON.stringify(trace[trace.length - 1]));
    }
  }
  log(`sequential ${name}`, { final: trace[trace.length - 1], trace, seconds: (performance.now() - t) / 1000 });
  if (m !== model) m.dispose();
}
log("total seconds", (performance.now() - t0) / 1000);
const out = value("json");
if (out) writeFileSync(out, JSON.stringify(results, null, 2));
process.exit(0);
