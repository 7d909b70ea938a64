/**
 * Dictionaries on the built-in model: the acceptance runs and the training throughput.
 *
 * 1. A TopK transcoder (k = 32, 1024 features) of layer 0's MLP (ln2.hook_normalized →
 *    hook_mlp_out) and a TopK SAE (k = 32, 1024 features) of layer 1's hook_resid_post, each
 *    trained on the built-in corpus's activations (disk cache, one pass of the model) and measured
 *    on held-out rows: MSE, explained variance, L0, dead fraction, CE loss recovered and ΔCE
 *    (SAELens' definitions, sae/metrics.ts).
 * 2. Throughput: training tokens per second of the step loop (activations already cached), against
 *    (a) the FLOP bound — (6·d_in·d_sae + 6·d_sae·d_out + 2·d_in·d_sae) FLOPs per token over the
 *    jax-js rate of the step's own matmul shape measured in this run — and (b) PyTorch
 *    (/usr/bin/python3 with Debian's torch, when installed) on the same shapes, in the same run.
 *
 *   node --import tsx bench/sae.ts [--steps N]
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { enableNodeThreads, stopNodeThreads } from "../src/tensor/node-threads.js";

enableNodeThreads();
const { initEngine } = await import("../src/tensor/engine.js");
const { loadModel } = await import("../src/model/load.js");
const { BUILTIN_MODEL_DIR } = await import("../src/cli/default-model.js");
const { buildFactWorld, trainingDocuments } = await import("../src/data/factworld/index.js");
const { tokenRows } = await import("../src/sae/token-rows.js");
const { ModelActivations } = await import("../src/sae/activation-store.js");
const { FileActivations, writeActivationCache } = await import("../src/sae/activation-cache-node.js");
const { trainDictionary } = await import("../src/sae/train.js");
const { reconstructionMetrics, spliceMetrics, single } = await import("../src/sae/metrics.js");
const { matmulGflopsAt } = await import("./flops.js");

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const steps = arg("--steps", 600);
const batchTokens = 1024;
const dSae = 1024;
const k = 32;

await initEngine();
const model = await loadModel(BUILTIN_MODEL_DIR);
const rows = tokenRows(model.tokenizer, trainingDocuments(buildFactWorld()), 64);
const train = rows.slice(0, rows.length - 200);
const validation = rows.slice(-200, -100);
const test = rows.slice(-100);
const gflops = await matmulGflopsAt(batchTokens, model.config.dModel, dSae);
const tmp = await mkdtemp(path.join(os.tmpdir(), "bench-sae-"));

const runs = [
  { name: "transcoder, layer 0 MLP", kind: "transcoder" as const, hookIn: "blocks.0.ln2.hook_normalized", hookOut: "blocks.0.hook_mlp_out" },
  { name: "SAE, layer 1 hook_resid_post", kind: "sae" as const, hookIn: "blocks.1.hook_resid_post", hookOut: "blocks.1.hook_resid_post" },
];
const lines: string[] = [];
let throughput: { tokensPerSecond: number; dIn: number; dOut: number } | undefined;
for (const r of runs) {
  const dir = path.join(tmp, r.kind);
  const t0 = performance.now();
  const meta = await writeActivationCache(dir, new ModelActivations(model, r.hookIn, r.hookOut, train, 32), Math.ceil(train.length / 32));
  const cacheSeconds = (performance.now() - t0) / 1000;
  const res = await trainDictionary({
    kind: r.kind, hookIn: r.hookIn, hookOut: r.hookOut, dSae, activation: { type: "topk", k },
    source: await FileActivations.open(dir, { seed: 1 }), validation: new ModelActivations(model, r.hookIn, r.hookOut, validation),
    steps, batchTokens, lr: 1e-3, lrWarmupSteps: 30, minLrRatio: 0.1, evalEvery: 100, patience: 5, resampleAt: [Math.round(steps / 2)], deadWindowTokens: 50_000, seed: 1,
  });
  const rec = await reconstructionMetrics(model, single(res.dictionary), test);
  const ce = await spliceMetrics(model, single(res.dictionary), test);
  const tps = res.tokens / res.stepSeconds;
  throughput ??= { tokensPerSecond: tps, dIn: meta.dIn, dOut: meta.dOut };
  lines.push(
    `| ${r.name} | ${res.steps}${res.stoppedEarly ? " (early stop)" : ""} | ${rec.mse.toFixed(3)} | ${rec.explainedVariance.toFixed(3)} | ${rec.l0.toFixed(1)} | ${rec.deadFraction.toFixed(3)} | ${ce.ceClean.toFixed(4)} / ${ce.ceSpliced.toFixed(4)} / ${ce.ceZeroAblation.toFixed(4)} | ${(100 * ce.ceLossRecovered).toFixed(1)}% | ${ce.deltaCE.toFixed(4)} | ${cacheSeconds.toFixed(0)} s + ${res.stepSeconds.toFixed(0)} s |`,
  );
}
await rm(tmp, { recursive: true, force: true });

console.log(`built-in model, ${train.length} training rows × 64 tokens; TopK k = ${k}, ${dSae} features, ${batchTokens} tokens per step, ${steps} steps; held-out: ${test.length} rows`);
console.log("| dictionary | steps | MSE | explained variance | L0 | dead | CE clean / spliced / zero-ablated | CE loss recovered | ΔCE | time (cache + training) |");
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const l of lines) console.log(l);

const { tokensPerSecond, dIn, dOut } = throughput!;
const flopsPerToken = 6 * dIn * dSae + 6 * dSae * dOut + 2 * dIn * dSae;
const bound = (gflops * 1e9) / flopsPerToken;
let torchLine = "| PyTorch (same shapes, same run) | not installed | — |";
try {
  // Debian's python3-torch, threads as ENGINE-NOTES.md recommends (OpenBLAS 2 threads, torch 1), as bench/run.ts.
  const out = execFileSync("/usr/bin/python3", [path.join(import.meta.dirname, "sae_reference_torch.py"), String(dIn), String(dSae), String(dOut), String(k), String(batchTokens), "30", "1"], {
    encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], env: { ...process.env, OPENBLAS_NUM_THREADS: "2" },
  });
  const t = JSON.parse(out) as { torch: string; threads: number; tokens_per_second: number };
  torchLine = `| PyTorch ${t.torch} (${t.threads} threads, same shapes, same run) | ${t.tokens_per_second.toFixed(0)} | ${(t.tokens_per_second / tokensPerSecond).toFixed(2)}× ours |`;
} catch {
  /* no python3/torch: the FLOP bound stays the reference */
}
console.log();
console.log(`transcoder training throughput (d_in ${dIn}, d_sae ${dSae}, d_out ${dOut}, TopK ${k}, batch ${batchTokens}); jax-js matmul ${gflops.toFixed(1)} GFLOP/s`);
console.log("| measurement | tokens / s | ratio |");
console.log("|---|---|---|");
console.log(`| scalpel training steps | ${tokensPerSecond.toFixed(0)} | — |`);
console.log(`| FLOP bound (${(flopsPerToken / 1e6).toFixed(2)} MFLOP/token at the measured matmul rate) | ${bound.toFixed(0)} | ours at ${((100 * tokensPerSecond) / bound).toFixed(0)}% |`);
console.log(torchLine);
await stopNodeThreads();
