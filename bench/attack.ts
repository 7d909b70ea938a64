/**
 * Attack cost on the built-in model: how many forward and forward+backward passes per second the
 * attacks get (attack/objective.ts rowLosses and lossAndEmbeddingGrad on 12 fact-statement rows of
 * ~12 tokens), and the wall time of one HotFlip example (budget 2, 4 candidates) and one UAT
 * iteration (3 trigger tokens × 8 candidates, 12 rows). Reference, measured in the same run: the
 * FLOP count (forward ≈ 2·params·tokens + attention, backward ≈ 2 × forward) over the jax-js matmul
 * rate at the model's shapes.
 *   node --import tsx bench/attack.ts [--model DIR]
 */
import { enableNodeThreads, stopNodeThreads } from "../src/tensor/node-threads.js";

enableNodeThreads();
const os = await import("node:os");
const { initEngine } = await import("../src/tensor/engine.js");
const { loadModel } = await import("../src/model/load.js");
const { BUILTIN_MODEL_DIR } = await import("../src/cli/default-model.js");
const { attackRows, hotflip, lossAndEmbeddingGrad, rowLosses, universalTrigger } = await import("../src/attack/index.js");
const { factWorldRobustnessData } = await import("../src/constrain/robustness-data.js");
const { flopsPerToken, matmulGflops } = await import("./flops.js");

const i = process.argv.indexOf("--model");
const model = await (async () => {
  await initEngine();
  return loadModel(i > 0 ? process.argv[i + 1]! : BUILTIN_MODEL_DIR);
})();
const c = model.config;
const load0 = os.loadavg()[0]!;
const rows = attackRows(model, factWorldRobustnessData(8, 12).attack);
const tokens = rows.reduce((s, r) => s + r.tokens.length, 0);
const meanLen = tokens / rows.length;
const gflops = await matmulGflops(c);
const fwdFlops = tokens * flopsPerToken(c, meanLen / 2);

async function timed(f: () => Promise<unknown>, n: number): Promise<number> {
  await f(); // warm-up: compile the shapes' programs
  const t = performance.now();
  for (let k = 0; k < n; k++) await f();
  return (performance.now() - t) / 1000 / n;
}

const fwd = await timed(() => rowLosses(model, rows), 10);
const fwdBwd = await timed(() => lossAndEmbeddingGrad(model, rows), 10);
const flip = await timed(() => hotflip(model, rows[0]!, { budget: 2, candidates: 4 }), 3);
const uat = await timed(() => universalTrigger(model, rows, { length: 3, iterations: 1, candidates: 8 }), 3);
const ref = (flops: number) => flops / (gflops * 1e9);
console.log(`model ${c.nLayers} layers, d_model ${c.dModel}, vocab ${c.vocabSize}; ${rows.length} rows, ${tokens} tokens; jax-js matmul ${gflops.toFixed(1)} GFLOP/s; load ${load0.toFixed(1)} → ${os.loadavg()[0]!.toFixed(1)}`);
console.log("| measurement | ours | FLOP reference | ratio |");
console.log("|---|---|---|---|");
console.log(`| forward passes / s (batch of ${rows.length} rows) | ${(1 / fwd).toFixed(1)} | ${(1 / ref(fwdFlops)).toFixed(1)} | ${(fwd / ref(fwdFlops)).toFixed(1)}× |`);
console.log(`| forward+backward passes / s (embedding gradient, same batch) | ${(1 / fwdBwd).toFixed(1)} | ${(1 / ref(3 * fwdFlops)).toFixed(1)} | ${(fwdBwd / ref(3 * fwdFlops)).toFixed(1)}× |`);
console.log(`| HotFlip, one example, budget 2 × 4 candidates (s) | ${flip.toFixed(3)} | — | — |`);
console.log(`| UAT, one iteration: gradient + 24 candidate triggers × ${rows.length} rows (s) | ${uat.toFixed(3)} | — | — |`);
await stopNodeThreads();
