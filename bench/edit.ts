/**
 * `npm run bench:edit`: knowledge editors on the GPT-2-small shape (random weights, a word-level
 * stand-in vocabulary of the same size), each phase timed beside a PyTorch reference measured in
 * the same run (bench/edit_reference_torch.py: the same primitive operations at the same shapes,
 * combined with the same counts), or, without PyTorch, the FLOP count over the jax-js matmul rate.
 *
 * Rows: covariance statistics over a small corpus sample (per layer), the Cholesky factor of C
 * (once per layer), one ROME edit (templates, k*, v* optimisation, rank-one update), and a
 * 100-edit MEMIT batch: its z* phase (the requests' v*-style optimisations, batched as MEMIT runs
 * them; timed on a sample of requests and scaled to 100, linear at this vocabulary size) and its layer phase (keys of all
 * 100 requests, residuals, the float64 solve, per layer) timed in full. Peak RSS is the process's
 * maximum so far after each row.
 *
 * Each phase runs in its own child process (`--phase cov|rome|memit`), so each peak RSS is that
 * phase's own and the Wasm memory (which never shrinks, max 4 GiB) starts empty; the covariance
 * statistics computed by the cov phase are shared through a cache directory.
 *
 * Flags: --quick (fewer steps and texts), --z-sample K (default 3), --no-torch, --json FILE.
 */
import { enableNodeThreads, stopNodeThreads } from "../src/tensor/node-threads.js";

enableNodeThreads();

const { spawnSync } = await import("node:child_process");
const { writeFileSync } = await import("node:fs");
const { fileURLToPath } = await import("node:url");
const os = await import("node:os");
const path = await import("node:path");
const { numpy: np } = await import("@jax-js/jax");
const { initEngine } = await import("../src/tensor/engine.js");
const { gpt2 } = await import("../src/model/families/gpt2.js");
const { createModel } = await import("../src/model/model.js");
const { randomParams } = await import("../src/model/random-params.js");
const { wordLevelTokenizer } = await import("../src/io/tokenizer/index.js");
const { keyCovariance } = await import("../src/edit/mom2.js");
const { EditCaches } = await import("../src/edit/caches.js");
const { romeDefaults, memitDefaults } = await import("../src/edit/hparams.js");
const { romeEdit, inverseCovTimes } = await import("../src/edit/rome.js");
const { computeTargetVectors } = await import("../src/edit/compute-value.js");
const { contextTemplates } = await import("../src/edit/context-templates.js");
const { memitLayerUpdate, residualsAt, spreadOverLayers } = await import("../src/edit/memit.js");
const { encodePrompt, fill } = await import("../src/edit/tokens.js");
type EditRequest = import("../src/edit/types.js").EditRequest;

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const value = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const QUICK = flag("quick");
const PHASE = value("phase");
const CACHE = value("cache") ?? path.join(os.tmpdir(), "scalpel-bench-edit-cache");
const Z_SAMPLE = Number(value("z-sample") ?? (QUICK ? 1 : 3));
const N_EDITS = 100;
// 64 × 64 = 4,096 keys > d_mlp 3,072, so C is full rank and the Cholesky row times a Cholesky (with
// fewer keys C is singular and ROME falls back to a pivoted LU).
const COV_TEXTS = QUICK ? 16 : 64;
const COV_LEN = 64;
const V_STEPS = QUICK ? 5 : 20;

const loadStart = os.loadavg()[0]!;
const config = gpt2.parseConfig({ model_type: "gpt2" }, "bench");
const { nLayers: L, dModel: D, dMlp: F, vocabSize: V } = config;
const rome = { ...romeDefaults(config), mom2Dataset: "bench", mom2NSamples: COV_TEXTS, vNumGradSteps: V_STEPS };
const memit = { ...memitDefaults(config), mom2Dataset: "bench", mom2NSamples: COV_TEXTS, vNumGradSteps: V_STEPS };
const layers = [...new Set([rome.layer, ...memit.layers])];
const rss = () => process.resourceUsage().maxRSS / 1024;

/** One phase, in this process: returns its measurements. */
async function runPhase(phase: string): Promise<{ ours: Record<string, number>; shapes: Record<string, number[]> }> {
  await initEngine("wasm");
  // A word-level vocabulary of GPT-2's size: "w0" … so prompts are text, as editors need.
  const words = Array.from({ length: V - 3 }, (_, i) => `w${i}`);
  const tokenizer = wordLevelTokenizer(words, { bos: "<s>", eos: "</s>", unk: "<unk>" });
  const model = createModel(config, randomParams(config, 0), tokenizer);
  let seed = 1;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const word = () => `w${Math.floor(rnd() * 5000)}`;
  const caches = new EditCaches().registerCorpus("bench", Array.from({ length: COV_TEXTS }, () => Array.from({ length: COV_LEN }, word).join(" ")));
  const requests: EditRequest[] = Array.from({ length: N_EDITS }, (_, i) => ({
    prompt: `{} ${word()} ${word()} ${word()}`,
    subject: `w${10000 + 2 * i} w${10001 + 2 * i}`,
    targetNew: `w${20000 + i}`,
  }));
  const ctx = { cacheDir: CACHE, caches };
  const ours: Record<string, number> = {};
  const shapes: Record<string, number[]> = {};
  const time = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const t = performance.now();
    const r = await fn();
    return [r, performance.now() - t];
  };
  if (phase === "cov") {
    // matmul rate (for the FLOP reference).
    const a = np.array(Float32Array.from({ length: 1024 * 1024 }, () => rnd() - 0.5), { shape: [1024, 1024] });
    const b = np.array(Float32Array.from({ length: 1024 * 1024 }, () => rnd() - 0.5), { shape: [1024, 1024] });
    await np.matmul(a.ref, b.ref).data();
    const [, mm] = await time(async () => void (await np.matmul(a.ref, b.ref).data()));
    ours.matmul_gflops = (2 * 1024 ** 3) / (mm / 1000) / 1e9;
    a.dispose();
    b.dispose();
    let total = 0;
    for (const l of layers) total += (await time(() => keyCovariance(model, l, rome, ctx)))[1];
    ours.cov_ms_per_layer = total / layers.length;
    const [, ms] = await time(() => inverseCovTimes(model, rome.layer, rome, ctx, new Float64Array(F).fill(1)));
    ours.cholesky_ms = ms;
    ours.cov_peak_rss_mb = rss();
  } else if (phase === "rome") {
    await keyCovariance(model, rome.layer, rome, ctx);
    await inverseCovTimes(model, rome.layer, rome, ctx, new Float64Array(F).fill(1));
    const templates = (await contextTemplates(model, rome, 0, caches)).flat();
    const [, ms] = await time(() => romeEdit(model, [requests[0]!], rome, ctx));
    ours.rome_ms = ms;
    ours.rome_peak_rss_mb = rss();
    const r0 = requests[0]!;
    const rows = [...templates.map((t) => encodePrompt(tokenizer, fill(fill(t, r0.prompt), r0.subject)).length + 1), encodePrompt(tokenizer, `${r0.subject} is a`).length];
    shapes.rome_v = [rows.length, Math.max(...rows)];
    shapes.rome_k = [templates.length, Math.max(...rows)];
  } else if (phase === "memit") {
    const Cs = new Map<number, Float64Array>();
    for (const l of memit.layers) Cs.set(l, await keyCovariance(model, l, memit, ctx));
    const templates = await contextTemplates(model, memit, 0, caches);
    const zLayer = memit.layers[memit.layers.length - 1]!;
    // The sample's z* as MEMIT computes them (batched); with GPT-2's vocabulary a pass holds ~4
    // prompt rows (compute-value.ts LOGITS_PER_PASS), so the cost grows linearly with the requests.
    const [zsSample, zMs] = await time(async () =>
      (await computeTargetVectors(model, requests.slice(0, Z_SAMPLE), memit, templates.flat(), `blocks.${zLayer}.hook_resid_post`)).map((z) => z.target),
    );
    ours.memit_z_ms_per_request = zMs / Z_SAMPLE;
    // The other requests' z*: their current residual plus a small offset (the values do not change
    // the layer phase's cost).
    const cur = await residualsAt(model, zLayer, requests);
    const zs = requests.map((_, i) => zsSample[i] ?? cur[i]!.map((v) => v + 0.1));
    const [res, layerMs] = await time(() =>
      spreadOverLayers(model, requests, memit, {}, async (_i, l, keys, resid) => memitLayerUpdate(Cs.get(l), keys, resid, memit.mom2UpdateWeight), "memit", zs),
    );
    if (res.edited !== model) res.edited.dispose();
    ours.memit_layers_ms = layerMs;
    ours.memit_total_ms = ours.memit_z_ms_per_request * N_EDITS + layerMs;
    ours.memit_peak_rss_mb = rss();
    const flat = templates.flat();
    const len = encodePrompt(tokenizer, fill(fill(flat[flat.length - 1]!, requests[0]!.prompt), requests[0]!.subject)).length + 1;
    shapes.memit_z = [flat.length + 1, len];
    shapes.memit_k = [N_EDITS * flat.length, len];
  } else throw new Error(`bench:edit: unknown phase ${phase}`);
  model.dispose();
  return { ours, shapes };
}

if (PHASE) {
  const r = await runPhase(PHASE);
  await stopNodeThreads();
  console.log(JSON.stringify(r));
  process.exit(0);
}

const ours: Record<string, number> = {};
const shapes: Record<string, number[]> = {};
console.error(`bench:edit: GPT-2 small shape, random weights, load average ${loadStart.toFixed(1)}; cache ${CACHE}`);
for (const phase of ["cov", "rome", "memit"]) {
  const t = performance.now();
  const r = spawnSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), ...args, "--phase", phase, "--cache", CACHE], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (r.status !== 0) throw new Error(`bench:edit: phase ${phase} failed (exit ${r.status})`);
  const res = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { ours: Record<string, number>; shapes: Record<string, number[]> };
  Object.assign(ours, res.ours);
  Object.assign(shapes, res.shapes);
  console.error(`bench:edit: phase ${phase} done in ${((performance.now() - t) / 1000).toFixed(0)} s: ${JSON.stringify(res.ours)}`);
}
await stopNodeThreads();

// --- Reference: the same primitives in PyTorch, combined with the same counts.
const refConfig = { nLayers: L, dModel: D, nHeads: config.nHeads, dMlp: F, vocab: V, nCtx: config.nCtx, shapes, covTexts: COV_TEXTS, covLen: COV_LEN, nEdits: N_EDITS, romeLayer: rome.layer, memitLayers: memit.layers, vSteps: V_STEPS };
let ref: Record<string, number> | undefined;
let refName = "";
if (!flag("no-torch")) {
  const script = fileURLToPath(new URL("./edit_reference_torch.py", import.meta.url));
  console.error("bench:edit: running the PyTorch reference…");
  const r = spawnSync("/usr/bin/python3", [script, JSON.stringify(refConfig)], { env: { ...process.env, OPENBLAS_NUM_THREADS: "2", OMP_NUM_THREADS: "1" }, encoding: "utf8" });
  if (r.status === 0) {
    ref = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    refName = `PyTorch ${(ref as unknown as { torch: string }).torch} CPU (1 torch thread, OpenBLAS 2 threads), same operations and counts`;
  } else console.error(`bench:edit: no PyTorch reference (${(r.stderr || String(r.error)).trim().split("\n").at(-1)}); using FLOP counts`);
}
if (!ref) {
  const rate = ours.matmul_gflops! * 1e9;
  const fwd = (B: number, T: number, layersUsed = L, logits = true) => 2 * B * T * (layersUsed * (4 * D * D + 2 * D * F) + (logits ? D * V : 0));
  const ms = (flops: number) => (flops / rate) * 1000;
  const [vb, vt] = shapes.rome_v!;
  const [kb, kt] = shapes.rome_k!;
  const [zb, zt] = shapes.memit_z!;
  const [mb, mt] = shapes.memit_k!;
  ref = {
    cov_ms_per_layer: ms(fwd(COV_TEXTS, COV_LEN, rome.layer + 1, false) + 2 * COV_TEXTS * COV_LEN * F * F),
    cholesky_ms: ms(F ** 3 / 3),
    rome_ms: ms(V_STEPS * 3 * fwd(vb!, vt!) + fwd(kb!, kt!, rome.layer + 1, false)),
    memit_z_ms_per_request: ms(V_STEPS * 3 * fwd(zb!, zt!)),
    memit_layers_ms: ms(memit.layers.length * (fwd(mb!, mt!, L, false) + F ** 3 / 3 + 2 * F * F * N_EDITS)),
  };
  ref.memit_total_ms = ref.memit_z_ms_per_request! * N_EDITS + ref.memit_layers_ms!;
  refName = "FLOP count / jax-js matmul rate (no PyTorch found)";
}

const rows: [string, string][] = [
  [`covariance, ${COV_TEXTS}×${COV_LEN} tokens, per layer (ms)`, "cov_ms_per_layer"],
  [`Cholesky of C, ${F}×${F} float64 (ms)`, "cholesky_ms"],
  [`one ROME edit, ${V_STEPS} v* steps (ms)`, "rome_ms"],
  [`MEMIT z*, per request, ${V_STEPS} steps (ms)`, "memit_z_ms_per_request"],
  [`MEMIT layer phase, ${N_EDITS} edits × ${memit.layers.length} layers (ms)`, "memit_layers_ms"],
  [`MEMIT ${N_EDITS}-edit batch, total (ms)`, "memit_total_ms"],
];
const fmt = (x: number | undefined) => (x === undefined ? "—" : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const lines = [
  `scalpel bench:edit — GPT-2 small shape (${L} layers, d_model ${D}, d_mlp ${F}, vocab ${V}), random weights; ROME layer ${rome.layer}, MEMIT layers ${memit.layers.join(",")}`,
  `reference: ${refName}`,
  `load average ${loadStart.toFixed(1)} → ${os.loadavg()[0]!.toFixed(1)}; jax-js matmul ${ours.matmul_gflops!.toFixed(1)} GFLOP/s; MEMIT z* timed on ${Z_SAMPLE} request(s), scaled to ${N_EDITS}`,
  "",
  "| measurement | jax-js | reference | ratio (× slower) |",
  "|---|---|---|---|",
  ...rows.map(([label, key]) => `| ${label} | ${fmt(ours[key])} | ${fmt(ref![key])} | ${ref![key] ? (ours[key]! / ref![key]!).toFixed(2) + "×" : "—"} |`),
  "",
  `peak RSS (MB), each phase in its own process: covariance + Cholesky ${fmt(ours.cov_peak_rss_mb)}, ROME ${fmt(ours.rome_peak_rss_mb)}, MEMIT ${fmt(ours.memit_peak_rss_mb)}${ref.peak_rss_mb ? `; PyTorch reference process (all phases) ${fmt(ref.peak_rss_mb)}` : ""}`,
];
console.log(lines.join("\n"));
const out = value("json");
if (out) writeFileSync(out, JSON.stringify({ ours, ref, refName, shapes }, null, 2));
process.exit(0);
