// Temporary measurement script (removed before hand-back).
import { enableNodeThreads, stopNodeThreads } from "../src/tensor/node-threads.js";
enableNodeThreads();
const { grad, numpy: np } = await import("@jax-js/jax");
const { initEngine } = await import("../src/tensor/engine.js");
const { gpt2 } = await import("../src/model/families/gpt2.js");
const { createModel } = await import("../src/model/model.js");
const { randomParams } = await import("../src/model/random-params.js");
const { generate } = await import("../src/model/generate.js");
const { tokenLogprobs } = await import("../src/eval/logprobs.js");
const { Rng } = await import("../src/model/sampling.js");
const { idTokenizer } = await import("./id-tokenizer.js");
type Arr = import("@jax-js/jax").numpy.Array;
const want = new Set(process.argv.slice(2));
const RUNS = Number(process.env.RUNS ?? 5);
async function med(fn: () => Promise<void>, runs = RUNS, warmup = 1) {
  for (let i = 0; i < warmup; i++) await fn();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) { const t = performance.now(); await fn(); ts.push(performance.now() - t); }
  ts.sort((a, b) => a - b);
  return { med: ts[Math.floor(runs / 2)]!, all: ts.map((x) => Math.round(x)) };
}
const ids = (n: number, seed: number) => { const r = new Rng(seed); return Array.from({ length: n }, () => Math.floor(r.next() * 50257)); };
await initEngine("wasm");
const config = gpt2.parseConfig({ model_type: "gpt2" }, "bench");
const model = createModel(config, randomParams(config, 0), idTokenizer(config.vocabSize));
const opts = JSON.parse(process.env.OPTS ?? "{}");
const show = (l: string, r: { med: number; all: number[] }) => console.log(`${l.padEnd(40)} ${r.med.toFixed(0).padStart(7)} ms  [${r.all.join(", ")}]`);
if (want.has("fwd")) {
  const t = [ids(64, 64)];
  show("forward 64", await med(async () => { const { logits } = model.forward(t, opts); await logits!.blockUntilReady(); logits!.dispose(); }));
}
if (want.has("fwd512")) {
  const t = [ids(512, 512)];
  show("forward 512", await med(async () => { const { logits } = model.forward(t, opts); await logits!.blockUntilReady(); logits!.dispose(); }, 3));
}
if (want.has("apply")) {
  const t = [ids(63, 1)];
  show("apply forward 63", await med(async () => {
    const p = Object.fromEntries(Object.entries(model.params).map(([k, a]) => [k, a.ref]));
    const { logits } = model.apply(p, t, opts); await logits!.blockUntilReady(); logits!.dispose(); }));
}
if (want.has("grad")) {
  const s = ids(64, 1); const inputs = [s.slice(0, -1)]; const targets = [s.slice(1)];
  const name = "blocks.6.mlp.W_out";
  const loss = (W: Arr) => {
    const params = Object.fromEntries(Object.entries(model.params).map(([k, a]) => [k, k === name ? W : a.ref]));
    const { logits } = model.apply(params, inputs, opts);
    const { logprobs, greedy } = tokenLogprobs(logits!, np.array(targets, { dtype: np.int32 }));
    greedy.dispose();
    return logprobs.mean().neg();
  };
  const d = grad(loss);
  show("fwd+bwd W_out 63", await med(async () => { const g = d(model.params[name]!.ref); await g.blockUntilReady(); g.dispose(); }));
}
if (want.has("gen")) {
  const p = ids(16, 2);
  const r = await med(async () => { await generate(model, [p], { maxNewTokens: 32, eosTokenId: null }); }, Math.min(RUNS, 3));
  show(`generate 16+32 (${(32 / (r.med / 1000)).toFixed(2)} tok/s)`, r);
}
console.log("rss MB", (process.resourceUsage().maxRSS / 1024).toFixed(0));
model.dispose();
await stopNodeThreads();
