/**
 * `npm run bench:eval`: throughput of the evaluation harness on the default (fact-world) model,
 * each rate beside a reference measured in the same run: the FLOP-bound rate, i.e. the model's
 * forward FLOPs per request divided by the jax-js matmul rate measured here at the model's own
 * shapes (so "× below bound" is how far the harness is from spending all its time in matmuls).
 *
 * Rows (no request cache, so everything is computed; one warm-up pass compiles first):
 * - MC, MMLU 5-shot (first question of each subject, 4 choices; the built-in model's 256-token
 *   window truncates these prompts from the left, so no prefix is shared);
 * - MC, fact-world CAA A/B (2 choices);
 * - loglikelihood, fact-world QA (first answer token), zero-shot and 5-shot (the same five answered
 *   questions before each: one shared prefix), the latter with and without prefix sharing;
 * - generation, fact-world arithmetic (greedy, until "Question", ≤ 32 tokens).
 *
 * Flags: --model DIR (default: the built-in model), --n N (documents per row, default 64).
 */
import { enableNodeThreads, stopNodeThreads } from "../src/tensor/node-threads.js";

enableNodeThreads();

const os = await import("node:os");
const { existsSync } = await import("node:fs");
const path = await import("node:path");
const { flopsPerToken, matmulGflops } = await import("./flops.js");
const { initEngine } = await import("../src/tensor/engine.js");
const { loadModel } = await import("../src/model/load.js");
const { evaluate } = await import("../src/eval/evaluate.js");
const { loadTasks } = await import("../src/eval/registry-node.js");
const { BUILTIN_MODEL_DIR, BUILTIN_DATA_DIR } = await import("../src/cli/default-model.js");
const { paramCount } = await import("../src/model/model.js");
const { factQaTask } = await import("../src/eval/tasks/factworld.js");
const { readFactQueries } = await import("../src/data/benchmarks/readers.js");
type Task = import("../src/eval/types.js").Task;

const args = process.argv.slice(2);
const value = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const modelDir = value("model") ?? BUILTIN_MODEL_DIR;
const N = Number(value("n") ?? 64);
if (!existsSync(path.join(modelDir, "model.safetensors"))) {
  console.error(`bench:eval: no model at ${modelDir} (run 'scalpel train-default' or pass --model DIR)`);
  process.exit(2);
}

await initEngine();
const model = await loadModel(modelDir);
const c = model.config;
const load0 = os.loadavg()[0]!;

const gflops = await matmulGflops(c);
const factworldDataDir = existsSync(path.join(modelDir, "data")) ? path.join(modelDir, "data") : BUILTIN_DATA_DIR;
const tasks = (names: string[]) => loadTasks(names, { factworldDataDir });

interface Row { name: string; requests: number; seconds: number; forwardTokens: number }
async function measure(name: string, make: () => Task[], limit: number, opts: { minSharedPrefix?: number } = {}): Promise<Row> {
  const ts = make();
  await evaluate(model, ts, { limit: Math.min(limit, 4), ...opts }); // warm-up: compile the shapes' programs
  const t = performance.now();
  const res = await evaluate(model, ts, { limit, batchSize: 32, generateBatchSize: 32, ...opts });
  const seconds = (performance.now() - t) / 1000;
  return { name, requests: res.stats.unique, seconds, forwardTokens: res.stats.forwardTokens };
}

const rows: Row[] = [];
const fewshotQA = () => [factQaTask(readFactQueries(path.join(factworldDataDir, "qa.json")), "train", 5)];
rows.push(await measure("MC: MMLU 5-shot (1 question per subject)", () => tasks(["mmlu"]), 1));
rows.push(await measure("MC: fact-world CAA A/B", () => tasks(["factworld-caa"]), N));
rows.push(await measure("loglikelihood: fact-world QA", () => tasks(["factworld-qa"]), 4 * N));
rows.push(await measure("loglikelihood: fact-world QA 5-shot, shared prefix", fewshotQA, 4 * N));
rows.push(await measure("loglikelihood: fact-world QA 5-shot, no prefix sharing", fewshotQA, 4 * N, { minSharedPrefix: 0 }));
rows.push(await measure("generation: fact-world arithmetic", () => tasks(["factworld-arithmetic"]), N));

console.log(`model ${modelDir}: ${c.modelType}, ${c.nLayers} layers, d_model ${c.dModel}, vocab ${c.vocabSize}, n_ctx ${c.nCtx}, ${paramCount(model).toLocaleString("en")} parameters`);
console.log(`matmul [2048×${c.dModel}]·[${c.dModel}×${c.dMlp}]: ${gflops.toFixed(1)} GFLOP/s (median of 9); load average ${load0.toFixed(2)} → ${os.loadavg()[0]!.toFixed(2)}`);
console.log("");
console.log("| row | requests | seconds | requests/s | positions run | FLOP-bound requests/s | × below bound |");
console.log("|---|---|---|---|---|---|---|");
for (const r of rows) {
  const rate = r.requests / r.seconds;
  const flops = r.forwardTokens * flopsPerToken(c, c.nCtx / 2);
  const bound = r.requests / (flops / (gflops * 1e9));
  console.log(`| ${r.name} | ${r.requests} | ${r.seconds.toFixed(2)} | ${rate.toFixed(1)} | ${r.forwardTokens} | ${bound.toFixed(0)} | ${(bound / rate).toFixed(1)}× |`);
}
model.dispose();
await stopNodeThreads();
