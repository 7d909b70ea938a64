/**
 * Training-step timing: forward+backward vs the optimizer update, on a ~2M-parameter Llama
 * (d_model 192, 4 layers) with 64×32-token batches, threads on; and RSS over many steps of a tiny
 * model. Not part of the test suite.
 *   nice -n 15 node --expose-gc --import tsx bench/train-step.ts [steps=6] [rssSteps=200]
 */
import { enableNodeThreads, stopNodeThreads } from "../src/tensor/node-threads.js";
// Threads must be on before jax-js is first imported, so everything else loads dynamically.
enableNodeThreads();
const { Rng } = await import("../src/util/rng.js");
const { familyFor } = await import("../src/model/families/index.js");
const { createModel, paramCount } = await import("../src/model/model.js");
const { randomParams } = await import("../src/model/random-params.js");
const { train } = await import("../src/train/loop.js");
const { tinyDocs, tinyModel } = await import("../test/train/fixture.js");
const { wordLevelTokenizer } = await import("../src/io/tokenizer/index.js");
type LogEntry = import("../src/train/loop.js").LogEntry;
const steps = Number(process.argv[2] ?? 6);
const rssSteps = Number(process.argv[3] ?? 200);
const gc = (globalThis as { gc?: () => void }).gc;
const V = 1024;
const raw = {
  model_type: "llama", vocab_size: V, hidden_size: 192, intermediate_size: 512, num_hidden_layers: 4,
  num_attention_heads: 6, num_key_value_heads: 6, max_position_embeddings: 64, tie_word_embeddings: true,
};
const config = familyFor("llama", "config.json").parseConfig(raw, "config.json");
const words = Array.from({ length: V }, (_, i) => `w${i}`);
const model = createModel(config, randomParams(config, 1), wordLevelTokenizer(words));
console.log(`model: ${paramCount(model).toLocaleString("en")} parameters`);
const rng = new Rng(1);
const docs = Array.from({ length: 400 }, () => ({ tokens: Array.from({ length: 40 }, () => rng.int(V)) }));
const med = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const jitOptimizer of steps > 0 ? [false, true] : []) {
const logs: LogEntry[] = [];
const r = await train({ model, documents: docs, config: { totalSteps: steps, batchSize: 64, seqLen: 32, warmupSteps: 1 }, log: (e) => logs.push(e), jitOptimizer });
r.model.dispose();
const rest = logs.length > 1 ? logs.slice(1) : logs; // the first step compiles/warms up
console.log(`${jitOptimizer ? "jit" : "eager"} optimizer: fwd+bwd+clip median ${med(rest.map((l) => l.fwdBwdMs)).toFixed(0)} ms, optimizer median ${med(rest.map((l) => l.optMs)).toFixed(1)} ms, ` +
  `${med(rest.map((l) => l.tokensPerSec)).toFixed(0)} tokens/s (steps ${rest.map((l) => `${l.fwdBwdMs.toFixed(0)}+${l.optMs.toFixed(0)}`).join(" ")})`);
}
model.dispose();

if (rssSteps > 0) {
  const tiny = tinyModel();
  const rss: number[] = [];
  const heap: number[] = [];
  await train({ model: tiny, documents: tinyDocs(), config: { totalSteps: rssSteps, batchSize: 8, seqLen: 16, warmupSteps: 5 }, log: (e) => {
    if (e.step % 25 !== 0) return;
    gc?.(); // run with --expose-gc so RSS reflects retained memory, not uncollected JS garbage
    rss.push(process.memoryUsage().rss / 1e6);
    heap.push(process.memoryUsage().heapUsed / 1e6);
  } }).then((t) => t.model.dispose());
  console.log(`tiny model RSS every 25 steps over ${rssSteps} steps (MB): ${rss.map((x) => x.toFixed(0)).join(" ")}; JS heap (MB): ${heap.map((x) => x.toFixed(0)).join(" ")}`);
  tiny.dispose();
}
await stopNodeThreads();
