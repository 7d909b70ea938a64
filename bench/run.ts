/**
 * `npm run bench`: GPT-2-small-shaped model (random weights) on the jax-js Wasm backend with
 * worker threads, each number printed beside a reference measured in the same run:
 * PyTorch CPU (bench/reference_torch.py, same shapes) when /usr/bin/python3 has torch, otherwise
 * the FLOP count divided by the jax-js matmul rate measured here.
 *
 * Every row: median of RUNS timed runs after WARMUP untimed ones. Results are read with
 * `await` (blockUntilReady / data()) so the worker pool runs the kernels (ENGINE-NOTES.md:
 * dataSync stays on one thread).
 *
 * Forward rows are repeated for the native executor (model/native/onnx-node.ts: the same forward
 * as an ONNX graph on onnxruntime-node's CPU kernels), against the same reference.
 *
 * Flags: --runs N (default 5), --quick (1 warm-up, 5 runs, no 512 row), --no-torch, --json FILE.
 */
import { enableNodeThreads, stopNodeThreads } from "../src/tensor/node-threads.js";

enableNodeThreads(); // before jax-js is imported: it looks for `Worker` when it loads

const { spawnSync } = await import("node:child_process");
const { writeFileSync } = await import("node:fs");
const { fileURLToPath } = await import("node:url");
const os = await import("node:os");
const { grad, numpy: np } = await import("@jax-js/jax");
const { initEngine } = await import("../src/tensor/engine.js");
const { gpt2 } = await import("../src/model/families/gpt2.js");
const { createModel } = await import("../src/model/model.js");
const { randomParams } = await import("../src/model/random-params.js");
const { generate } = await import("../src/model/generate.js");
const { tokenLogprobs } = await import("../src/eval/logprobs.js");
const { Rng } = await import("../src/util/rng.js");
const { nativeForward } = await import("../src/model/native/onnx-node.js");
const { enableNativeExecutor } = await import("../src/model/native/enable-node.js");
const { setNativeExecutor } = await import("../src/model/native/executor.js");
const { loglikelihoodTokens } = await import("../src/eval/logprobs.js");
const { collectMom2 } = await import("../src/edit/covariance.js");
const { idTokenizer } = await import("./id-tokenizer.js");

type Arr = import("@jax-js/jax").numpy.Array;

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const value = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const RUNS = Number(value("runs") ?? 5);
const WARMUP = flag("quick") ? 1 : 2;
const SEQ_LENS = flag("quick") ? [64] : [64, 512];
const GRAD_SEQ = 64;
const GEN_PROMPT = 16;
const GEN_NEW = 32;

async function medianMs(fn: () => Promise<void>, runs = RUNS, warmup = WARMUP): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

function randomIds(n: number, vocab: number, seed: number): number[] {
  const rng = Rng.forRow(seed);
  return Array.from({ length: n }, () => Math.floor(rng.random() * vocab));
}

const loadStart = os.loadavg()[0]!;
const device = await initEngine("wasm");
const config = gpt2.parseConfig({ model_type: "gpt2" }, "bench"); // GPT2Config defaults = GPT-2 small
const { nLayers: L, dModel: D, dMlp: F, vocabSize: V, nCtx } = config;
console.error(`bench: ${device}, ${os.availableParallelism()} cores; building GPT-2 small (random weights)…`);
const model = createModel(config, randomParams(config, 0), idTokenizer(V));

const ours: Record<string, number> = {};

// --- How many cores this process can get right now: two plain busy worker threads for 1 s. If
// this is ~1, other jobs hold a core and no engine can show a 2-thread speedup in this run.
{
  const { Worker } = await import("node:worker_threads");
  const src = `const { parentPort } = require("node:worker_threads");
    parentPort.on("message", () => { let x = 0; const t = Date.now(); while (Date.now() - t < 1000) x += Math.sqrt(x + 1); parentPort.postMessage(x); });`;
  const ws = [0, 1].map(() => new Worker(src, { eval: true }));
  await Promise.all(ws.map((w) => new Promise((r) => w.once("online", r))));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(ws.map((w) => new Promise((r) => (w.once("message", r), w.postMessage(0)))));
  const c = process.cpuUsage(c0);
  ours.cores_available = (c.user + c.system) / 1000 / (performance.now() - t0);
  await Promise.all(ws.map((w) => w.terminate()));
}

// --- Thread check: a 1024³ matmul read asynchronously (workers) vs with dataSync (one thread).
{
  const a = np.array(Float32Array.from(randomIds(1024 * 1024, 1000, 1), (x) => x / 1000 - 0.5), { shape: [1024, 1024] });
  const b = np.array(Float32Array.from(randomIds(1024 * 1024, 1000, 2), (x) => x / 1000 - 0.5), { shape: [1024, 1024] });
  const flops = 2 * 1024 ** 3;
  // CPU time / wall time while the matmuls run: ~2 when both cores work (process.cpuUsage counts
  // worker threads), ~1 on one thread. Unlike the speedup, this holds when other jobs load the CPU.
  const busy = async (fn: () => Promise<number>) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const ms = await fn();
    const c = process.cpuUsage(c0);
    return { ms, cores: (c.user + c.system) / 1000 / (performance.now() - t0) };
  };
  const threaded = await busy(() => medianMs(async () => {
    await np.matmul(a.ref, b.ref).data();
  }));
  const single = await busy(() => medianMs(async () => {
    np.matmul(a.ref, b.ref).dataSync();
  }));
  ours.matmul_cores = threaded.cores;
  ours.matmul_single_cores = single.cores;
  a.dispose();
  b.dispose();
  ours.matmul_gflops = flops / (threaded.ms / 1000) / 1e9;
  ours.matmul_single_gflops = flops / (single.ms / 1000) / 1e9;
}

// --- Forward latency (logits for every position, batch 1).
for (const T of SEQ_LENS) {
  const ids = randomIds(T, V, T);
  ours[`forward_${T}_ms`] = await medianMs(async () => {
    const { logits } = model.forward([ids]);
    await logits!.blockUntilReady();
    logits!.dispose();
  });
}

// --- The same forwards through the native executor (model/native: ONNX graph on onnxruntime-node).
for (const T of SEQ_LENS) {
  const ids = randomIds(T, V, T);
  ours[`native_forward_${T}_ms`] = await medianMs(async () => {
    await nativeForward(model, [ids]);
  });
}

// --- Forward + backward w.r.t. blocks.6.mlp.W_out of the mean next-token cross-entropy.
{
  const ids = randomIds(GRAD_SEQ, V, 1);
  const inputs = [ids.slice(0, -1)];
  const targets = [ids.slice(1)];
  const name = "blocks.6.mlp.W_out";
  const loss = (W: Arr) => {
    const params = Object.fromEntries(Object.entries(model.params).map(([k, a]) => [k, k === name ? W : a.ref]));
    // Padded logits (pad columns at −1e9): cutting them off made the backward several times slower.
    const { logits } = model.apply(params, inputs, { paddedLogits: true });
    const { logprobs, greedy } = tokenLogprobs(logits!, np.array(targets, { dtype: np.int32 }));
    greedy.dispose();
    return logprobs.mean().neg();
  };
  const dLoss = grad(loss);
  ours.fwd_bwd_ms = await medianMs(async () => {
    const g = dLoss(model.params[name]!.ref);
    await g.blockUntilReady();
    g.dispose();
  });
}

// --- Greedy generation with the KV cache: tokens per second (prefill included).
{
  const prompt = randomIds(GEN_PROMPT, V, 2);
  const ms = await medianMs(async () => {
    await generate(model, [prompt], { maxNewTokens: GEN_NEW, eosTokenId: null });
  });
  ours.generate_tok_s = GEN_NEW / (ms / 1000);
}
// --- The same generation, then scoring and covariance statistics, on jax-js and through the native
// executor (registered as the `scalpel` command registers it).
const EVAL_REQUESTS = 16;
const COV_LAYER = 6;
{
  const prompt = randomIds(GEN_PROMPT, V, 2);
  const evalRequests = Array.from({ length: EVAL_REQUESTS }, (_, i) => {
    const ids = randomIds(64, V, 100 + i);
    return { context: ids.slice(0, 48), continuation: ids.slice(48) };
  });
  const covTexts = Array.from({ length: 8 }, (_, i) => randomIds(64, V, 200 + i).map((t) => `<${t}>`).join(""));
  for (const path of ["jax", "native"] as const) {
    if (path === "native") enableNativeExecutor();
    if (path === "native") {
      const ms = await medianMs(async () => {
        await generate(model, [prompt], { maxNewTokens: GEN_NEW, eosTokenId: null });
      });
      ours.native_generate_tok_s = GEN_NEW / (ms / 1000);
    }
    ours[`${path}_eval_req_s`] = EVAL_REQUESTS / ((await medianMs(async () => {
      await loglikelihoodTokens(model, evalRequests, { batchSize: 8 });
    })) / 1000);
    ours[`${path}_cov_tok_s`] = (8 * 64) / ((await medianMs(async () => {
      await collectMom2(model, { layer: COV_LAYER, texts: covTexts, maxLength: 64 });
    })) / 1000);
    setNativeExecutor(undefined);
  }
}
ours.peak_rss_mb = process.resourceUsage().maxRSS / 1024;
model.dispose();
await stopNodeThreads();

// --- Reference.
const refConfig = { nLayers: L, dModel: D, nHeads: config.nHeads, dMlp: F, vocab: V, nCtx, runs: RUNS, warmup: WARMUP, seqLens: SEQ_LENS, gradSeqLen: GRAD_SEQ, genPrompt: GEN_PROMPT, genNew: GEN_NEW, evalRequests: EVAL_REQUESTS, covLayer: COV_LAYER };
let ref: Record<string, number> | undefined;
let refName = "";
if (!flag("no-torch")) {
  const script = fileURLToPath(new URL("./reference_torch.py", import.meta.url));
  console.error("bench: running the PyTorch reference…");
  const r = spawnSync("/usr/bin/python3", [script, JSON.stringify(refConfig)], {
    env: { ...process.env, OPENBLAS_NUM_THREADS: "2", OMP_NUM_THREADS: "1" },
    encoding: "utf8",
  });
  if (r.status === 0) {
    ref = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    refName = `PyTorch ${(ref as unknown as { torch: string }).torch} CPU (1 torch thread, OpenBLAS 2 threads)`;
  } else {
    console.error(`bench: no PyTorch reference (${(r.stderr || String(r.error)).trim().split("\n").at(-1)}); using FLOP counts`);
  }
}
if (!ref) {
  // FLOPs / the jax-js matmul rate measured above: what the engine would take at its matmul peak.
  const rate = ours.matmul_gflops! * 1e9;
  const fwdFlops = (T: number) => 2 * T * (L * (4 * D * D + 2 * D * F) + D * V) + L * 4 * T * T * D;
  ref = { matmul_gflops: ours.matmul_gflops! };
  for (const T of SEQ_LENS) ref[`forward_${T}_ms`] = (fwdFlops(T) / rate) * 1000;
  ref.fwd_bwd_ms = ((3 * fwdFlops(GRAD_SEQ - 1)) / rate) * 1000; // backward ≈ 2× forward
  const genFlops = fwdFlops(GEN_PROMPT) + (GEN_NEW - 1) * fwdFlops(1);
  ref.generate_tok_s = GEN_NEW / (genFlops / rate);
  refName = "FLOP count / jax-js matmul rate (no PyTorch found)";
}

// --- Table. Ratio = how many times slower jax-js is than the reference (lower is better).
const rows: [string, string, number, number | undefined, "time" | "rate"][] = [
  ["matmul 1024³ (GFLOP/s)", "matmul_gflops", ours.matmul_gflops!, ref.matmul_gflops, "rate"],
  ...SEQ_LENS.map((T) => [`forward, ${T} tokens (ms)`, `forward_${T}_ms`, ours[`forward_${T}_ms`]!, ref![`forward_${T}_ms`], "time"] as [string, string, number, number | undefined, "time"]),
  ...SEQ_LENS.map((T) => [`forward, ${T} tokens, native executor (onnxruntime) (ms)`, `native_forward_${T}_ms`, ours[`native_forward_${T}_ms`]!, ref![`forward_${T}_ms`], "time"] as [string, string, number, number | undefined, "time"]),
  [`forward+backward wrt blocks.6.mlp.W_out, ${GRAD_SEQ - 1} tokens (ms)`, "fwd_bwd_ms", ours.fwd_bwd_ms!, ref.fwd_bwd_ms, "time"],
  [`greedy generation, KV cache, ${GEN_PROMPT}+${GEN_NEW} tokens (tokens/s)`, "generate_tok_s", ours.generate_tok_s!, ref.generate_tok_s, "rate"],
  [`greedy generation, KV cache, ${GEN_PROMPT}+${GEN_NEW} tokens, native executor (tokens/s)`, "native_generate_tok_s", ours.native_generate_tok_s!, ref.generate_tok_s, "rate"],
  [`scoring (loglikelihood), ${EVAL_REQUESTS} requests of 48+16 tokens, batch 8 (requests/s)`, "jax_eval_req_s", ours.jax_eval_req_s!, ref.eval_req_s, "rate"],
  [`scoring, native executor (requests/s)`, "native_eval_req_s", ours.native_eval_req_s!, ref.eval_req_s, "rate"],
  [`covariance statistics, layer ${COV_LAYER} MLP keys, 8 × 64 tokens (tokens/s)`, "jax_cov_tok_s", ours.jax_cov_tok_s!, ref.cov_tok_s, "rate"],
  [`covariance statistics, native executor (tokens/s)`, "native_cov_tok_s", ours.native_cov_tok_s!, ref.cov_tok_s, "rate"],
  ["peak RSS (MB)", "peak_rss_mb", ours.peak_rss_mb!, ref.peak_rss_mb, "time"],
];
const fmt = (x: number | undefined) => (x === undefined ? "—" : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const lines = [
  `scalpel bench — GPT-2 small shape (${L} layers, d_model ${D}, d_mlp ${F}, vocab ${V}), random weights, median of ${RUNS} after ${WARMUP} warm-up`,
  `jax-js ${device}, ${os.availableParallelism()} worker threads; reference: ${refName}`,
  "",
  `| measurement | jax-js | reference | ratio (× slower) |`,
  `|---|---|---|---|`,
  ...rows.map(([label, , x, r, kind]) => {
    const ratio = r === undefined ? "—" : (kind === "time" ? x / r : r / x).toFixed(2) + "×";
    return `| ${label} | ${fmt(x)} | ${fmt(r)} | ${ratio} |`;
  }),
  "",
  `threads: 1024³ matmul ${fmt(ours.matmul_gflops)} GFLOP/s with workers vs ${fmt(ours.matmul_single_gflops)} single-threaded (dataSync) → ${(ours.matmul_gflops! / ours.matmul_single_gflops!).toFixed(2)}× speedup; ` +
    `cores busy (CPU time / wall time): ${ours.matmul_cores!.toFixed(2)} with workers, ${ours.matmul_single_cores!.toFixed(2)} without`,
  `cores this process could get (two plain JS busy threads): ${ours.cores_available!.toFixed(2)}${ours.cores_available! < 1.6 ? " — the CPU was shared with other jobs: no 2-thread speedup was possible in this run" : ""}`,
  `load average (1 min): ${loadStart.toFixed(1)} at the start, ${os.loadavg()[0]!.toFixed(1)} at the end, on ${os.availableParallelism()} cores (above ${os.availableParallelism()}: other jobs shared the CPU; ratios are then noisy)`,
];
console.log(lines.join("\n"));
const jsonOut = value("json");
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ ours, ref, refName, runs: RUNS, loadStart, loadEnd: os.loadavg()[0] }, null, 2));
