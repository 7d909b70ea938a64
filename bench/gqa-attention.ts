/**
 * Grouped-query attention on jax-js Wasm: keys/values repeated per query head with np.repeat
 * (scalpel before 2026-12-06: a broadcast view the matmul reads) against the query heads grouped
 * over a broadcast batch axis (model/attention.ts `grouped`, now), at the factworld-m training
 * shape (micro-batch 16 × 128 tokens, 8 query heads over 4 KV heads, d_head 32), in the same run:
 *
 *   scores   q · kᵀ   [16, 8, 128, 32] · [16, 8, 32, 128]
 *   mix      p · v    [16, 8, 128, 128] · [16, 8, 128, 32]
 *   step     forward + backward of the training loss w.r.t. every parameter, one micro-batch, on a
 *            randomly initialised model of the factworld-m shape (the current code only).
 *
 * Medians of 5 (3 for the step) after a warm-up; threads on.
 * usage: node --import tsx bench/gqa-attention.ts
 */
import { enableNodeThreads, stopNodeThreads } from "../src/tensor/node-threads.js";

enableNodeThreads();
const { blockUntilReady, numpy: np, valueAndGrad } = await import("@jax-js/jax");
const { initEngine } = await import("../src/tensor/engine.js");
const { familyFor } = await import("../src/model/families/index.js");
const { createModel } = await import("../src/model/model.js");
const { randomParams } = await import("../src/model/random-params.js");
const { tokenLogprobs } = await import("../src/eval/logprobs.js");
const { Rng } = await import("../src/util/rng.js");
const { idTokenizer } = await import("./id-tokenizer.js");
type Arr = import("@jax-js/jax").numpy.Array;
await initEngine();

const B = 16, T = 128, H = 8, KV = 4, DH = 32, V = 1792;
const rng = new Rng(1);
const rand = async (shape: number[]): Promise<Arr> => {
  const a = np.array(Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.random() - 0.5)).reshape(shape);
  await blockUntilReady(a.ref);
  return a;
};
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function time(f: () => Arr, runs = 5): Promise<number> {
  await blockUntilReady(f()).then((y) => y.dispose());
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const y = f();
    await blockUntilReady(y);
    ts.push(performance.now() - t);
    y.dispose();
  }
  return median(ts);
}

// q and k as the projection lays them out, [B, T, heads, d_head], then [B, heads, T, d_head] views.
const q = await rand([B, T, H, DH]);
const k = await rand([B, T, KV, DH]);
const p = await rand([B, H, T, T]);
const qh = () => q.ref.transpose([0, 2, 1, 3]);
const repeated = () => np.repeat(k.ref.transpose([0, 2, 1, 3]), H / KV, 1);
const kh5 = () => k.ref.transpose([0, 2, 1, 3]).reshape([B, KV, 1, T, DH]);
const rows: [string, number, number][] = [
  ["scores q · kᵀ", await time(() => np.matmul(qh(), repeated().transpose([0, 1, 3, 2]))), await time(() => np.matmul(qh().reshape([B, KV, H / KV, T, DH]), kh5().transpose([0, 1, 2, 4, 3])).reshape([B, H, T, T]))],
  ["mix p · v", await time(() => np.matmul(p.ref, repeated())), await time(() => np.matmul(p.ref.reshape([B, KV, H / KV, T, T]), kh5()).reshape([B, H, T, DH]))],
];
console.log(`GQA attention, ${B} × ${T} tokens, ${H} query heads over ${KV} KV heads, d_head ${DH} (ms, median of 5)\n`);
console.log("| product | np.repeat (before) | grouped heads (now) | × |\n|---|---|---|---|");
for (const [name, view, flat] of rows) console.log(`| ${name} | ${view.toFixed(1)} | ${flat.toFixed(1)} | ${(view / flat).toFixed(1)} |`);

const config = familyFor("llama", "config.json").parseConfig(
  { model_type: "llama", vocab_size: V, hidden_size: 256, intermediate_size: 1024, num_hidden_layers: 6, num_attention_heads: H, num_key_value_heads: KV, max_position_embeddings: 256 },
  "config.json",
);
const model = createModel(config, randomParams(config, 1, { std: 0.02 }), idTokenizer(V));
const tokens = Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(V)));
const targets = np.array(Int32Array.from({ length: B * T }, () => rng.int(V)), { dtype: np.int32 }).reshape([B, T]);
const loss = (params: Record<string, Arr>): Arr => {
  const { logits, cache } = model.apply(params, tokens, { paddedLogits: true });
  for (const a of Object.values(cache)) a.dispose();
  const { logprobs, greedy } = tokenLogprobs(logits!, targets.ref);
  greedy.dispose();
  return logprobs.mean().mul(-1);
};
const borrow = () => Object.fromEntries(Object.entries(model.params).map(([n, a]) => [n, a.ref]));
const steps: number[] = [];
for (let i = 0; i < 4; i++) {
  const t = performance.now();
  const [value, grads] = valueAndGrad(loss)(borrow()) as unknown as [Arr, Record<string, Arr>];
  await blockUntilReady([value, ...Object.values(grads)]);
  value.dispose();
  for (const g of Object.values(grads)) g.dispose();
  if (i > 0) steps.push(performance.now() - t);
}
console.log(`\nfactworld-m shape, one micro-batch forward + backward (current code): ${median(steps).toFixed(0)} ms (${steps.map((s) => s.toFixed(0)).join(", ")})`);
model.dispose();
await stopNodeThreads();
