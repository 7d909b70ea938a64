/**
 * `node --import tsx bench/profile.ts [section ...]`: where the GPT-2-small forward's time goes on
 * jax-js Wasm. Sections (default: all): stages, layer, ops, jit, grad, decode.
 *
 * - stages: cumulative time to a hook point with `stopAt` (embed, 1 / 6 / 12 blocks, final norm,
 *   logits): the differences give the per-block cost and the unembedding's share.
 * - layer:  the same inside block 0, hook point by hook point.
 * - ops:    single ops at GPT-2 shapes (T = 64): projections, MLP, attention pieces, the
 *           unembedding at 50257 vs 50304 columns, the slice back, GELU, LayerNorm.
 * - jit:    jit of the whole forward (params as arguments) vs eager.
 * - grad:   forward+backward w.r.t. blocks.6.mlp.W_out, and the loss-side variants alone:
 *           slice-back vs masked padded columns, takeAlongAxis vs one-hot (iota compare).
 * - decode: one KV-cached decoding step and its parts, eager and compiled (padded cache).
 * Medians of 3 runs after 1 warm-up; all reads are asynchronous (worker pool).
 */
import { enableNodeThreads, stopNodeThreads } from "../src/tensor/node-threads.js";

enableNodeThreads();
const { grad, jit, nn, numpy: np } = await import("@jax-js/jax");
const { initEngine } = await import("../src/tensor/engine.js");
const { gpt2 } = await import("../src/model/families/gpt2.js");
const { createModel } = await import("../src/model/model.js");
const { randomParams } = await import("../src/model/random-params.js");
const { tokenLogprobs } = await import("../src/eval/logprobs.js");
const { Rng } = await import("../src/util/rng.js");
const { idTokenizer } = await import("./id-tokenizer.js");
type Arr = import("@jax-js/jax").numpy.Array;

const want = new Set(process.argv.slice(2));
const on = (s: string) => want.size === 0 || want.has(s);
const T = Number(process.env.T ?? 64);

async function med(fn: () => Promise<void>, runs = 3, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ts.push(performance.now() - t);
  }
  return ts.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}
const rnd = (shape: number[], seed: number): Arr => {
  const rng = Rng.forRow(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(Float32Array.from({ length: n }, () => (rng.random() - 0.5) * 0.1), { shape });
};
const ids = (n: number, seed: number) => {
  const rng = Rng.forRow(seed);
  return Array.from({ length: n }, () => Math.floor(rng.random() * 50257));
};
const row = (label: string, ms: number, note = "") => console.log(`${label.padEnd(58)} ${ms.toFixed(1).padStart(9)} ms ${note}`);

await initEngine("wasm");
const config = gpt2.parseConfig({ model_type: "gpt2" }, "bench");
const model = createModel(config, randomParams(config, 0), idTokenizer(config.vocabSize));
const tokens = [ids(T, 1)];

async function runTo(stopAt: string | undefined): Promise<number> {
  return med(async () => {
    const r = model.forward(tokens, stopAt ? { stopAt, cache: [stopAt] } : {});
    const out = stopAt ? r.cache[stopAt]! : r.logits!;
    await out.blockUntilReady();
    out.dispose();
    if (stopAt) r.logits?.dispose();
  });
}

if (on("stages")) {
  console.log(`\n## forward stages, T=${T} (cumulative, stopAt)`);
  let prev = 0;
  for (const s of ["hook_embed", "blocks.0.hook_resid_post", "blocks.5.hook_resid_post", "blocks.11.hook_resid_post", "ln_final.hook_normalized", undefined]) {
    const ms = await runTo(s);
    row(s ?? "logits (full forward)", ms, `(+${(ms - prev).toFixed(1)})`);
    prev = ms;
  }
}

if (on("layer")) {
  console.log(`\n## block 0, T=${T} (cumulative, stopAt)`);
  let prev = await runTo("blocks.0.hook_resid_pre");
  row("blocks.0.hook_resid_pre", prev);
  for (const h of model.hookNames().filter((n) => n.startsWith("blocks.0.") && n !== "blocks.0.hook_resid_pre")) {
    const ms = await runTo(h);
    row(h, ms, `(+${(ms - prev).toFixed(1)})`);
    prev = ms;
  }
}

if (on("ops")) {
  console.log(`\n## single ops, T=${T}`);
  const D = 768;
  const x = rnd([1, T, D], 1);
  const op = async (label: string, f: () => Arr, flops?: number) => {
    const ms = await med(async () => {
      const y = f();
      await y.blockUntilReady();
      y.dispose();
    });
    row(label, ms, flops ? `${(flops / ms / 1e6).toFixed(1)} GFLOP/s` : "");
  };
  const Wq = rnd([D, D], 2);
  const Win = rnd([D, 3072], 3);
  const Wout = rnd([3072, D], 4);
  const h3072 = rnd([1, T, 3072], 5);
  await op("x·W_Q  [64,768]·[768,768]", () => np.matmul(x.ref, Wq.ref), 2 * T * D * D);
  await op("x·W_in [64,768]·[768,3072]", () => np.matmul(x.ref, Win.ref), 2 * T * D * 3072);
  await op("h·W_out [64,3072]·[3072,768]", () => np.matmul(h3072.ref, Wout.ref), 2 * T * D * 3072);
  await op("gelu_new [64,3072]", () => {
    const a = h3072.ref;
    return a.ref.mul(0.5).mul(np.tanh(a.ref.add(a.ref.mul(a.ref).mul(a).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1));
  });
  await op("layernorm [64,768]", () => {
    const m = np.mean(x.ref, -1, { keepdims: true });
    const c = x.ref.sub(m);
    const v = np.mean(c.ref.mul(c.ref), -1, { keepdims: true });
    return c.div(np.sqrt(v.add(1e-5)));
  });
  const q = rnd([1, 12, T, 64], 6);
  const k = rnd([1, 12, T, 64], 7);
  const pat = nn.softmax(rnd([1, 12, T, T], 8), -1);
  await op("scores q·kᵀ [12,64,64]·[12,64,64]", () => np.matmul(q.ref, k.ref.transpose([0, 1, 3, 2])), 2 * 12 * T * T * 64);
  await op("softmax [12,64,64]", () => nn.softmax(pat.ref, -1));
  await op("pattern·v + transpose", () => np.matmul(pat.ref, k.ref).transpose([0, 2, 1, 3]).reshape([1, T, D]));
  const W50257 = rnd([D, 50257], 9);
  const W50304 = rnd([D, 50304], 10);
  await op("unembed [64,768]·[768,50257]", () => np.matmul(x.ref, W50257.ref), 2 * T * D * 50257);
  await op("unembed [64,768]·[768,50304] (padded)", () => np.matmul(x.ref, W50304.ref), 2 * T * D * 50304);
  const WT = rnd([50304, D], 11);
  await op("unembed x·W_Eᵀ with W_E [50304,768] (transposed view)", () => np.matmul(x.ref, WT.ref.transpose()), 2 * T * D * 50304);
  const logits = rnd([1, T, 50304], 12);
  await op("slice logits [64,50304] → [64,50257]", () => logits.ref.slice([], [], [0, 50257]));
  for (const a of [x, Wq, Win, Wout, h3072, q, k, pat, W50257, W50304, WT, logits]) a.dispose();
}

if (on("jit")) {
  console.log(`\n## jit of the forward, T=${T}`);
  const eager = await runTo(undefined);
  row("eager forward", eager);
  const f = jit((p: Record<string, Arr>) => model.apply(p, tokens).logits!);
  const borrowed = () => Object.fromEntries(Object.entries(model.params).map(([k, a]) => [k, a.ref]));
  const t0 = performance.now();
  const first = f(borrowed());
  await first.blockUntilReady();
  first.dispose();
  row("jit forward: first call (trace + compile)", performance.now() - t0);
  const ms = await med(async () => {
    const y = f(borrowed());
    await y.blockUntilReady();
    y.dispose();
  });
  row("jit forward", ms, `${(eager / ms).toFixed(2)}× vs eager`);
  f.dispose();
}

if (on("grad")) {
  console.log(`\n## forward+backward w.r.t. blocks.6.mlp.W_out, T=${T - 1}`);
  const seq = ids(T, 1);
  const inputs = [seq.slice(0, -1)];
  const targets = () => np.array([seq.slice(1)], { dtype: np.int32 });
  const name = "blocks.6.mlp.W_out";
  const withW = (W: Arr) => Object.fromEntries(Object.entries(model.params).map(([k, a]) => [k, k === name ? W : a.ref]));
  const gradMs = async (loss: (W: Arr) => Arr) => {
    const g = grad(loss);
    return med(async () => {
      const d = g(model.params[name]!.ref);
      await d.blockUntilReady();
      d.dispose();
    }, 3, 1);
  };
  const fwdMs = await med(async () => {
    const { logits } = model.apply(withW(model.params[name]!.ref), inputs);
    await logits!.blockUntilReady();
    logits!.dispose();
  });
  row("apply() forward alone (model's padded unembedding and fused QKV reused)", fwdMs);
  for (const paddedLogits of [false, true]) {
    row(
      `grad, loss = mean CE via takeAlongAxis${paddedLogits ? ", paddedLogits" : ", logits cut to 50257"}`,
      await gradMs((W) => {
        const { logprobs, greedy } = tokenLogprobs(model.apply(withW(W), inputs, { paddedLogits }).logits!, targets());
        greedy.dispose();
        return logprobs.mean().neg();
      }),
    );
  }
  row(
    "grad, loss = mean CE via one-hot (targets == arange(V)), paddedLogits",
    await gradMs((W) => {
      const logits = model.apply(withW(W), inputs, { paddedLogits: true }).logits!;
      const V = logits.shape[2]!;
      const onehot = np.equal(np.expandDims(targets(), -1), np.arange(V, undefined, undefined, { dtype: np.int32 })).astype(np.float32);
      const picked = np.sum(logits.ref.mul(onehot), -1);
      return nn.logsumexp(logits, -1).sub(picked).mean();
    }),
  );
  // The loss side alone: h [63,768] → logits → CE, grad w.r.t. h.
  const h = rnd([1, T - 1, 768], 13);
  const Wpad = rnd([768, 50304], 14);
  const V = 50257;
  const side = async (label: string, logitsOf: (h: Arr) => Arr) => {
    const g = grad((hh: Arr) => {
      const { logprobs, greedy } = tokenLogprobs(logitsOf(hh), targets());
      greedy.dispose();
      return logprobs.mean().neg();
    });
    row(label, await med(async () => {
      const d = g(h.ref);
      await d.blockUntilReady();
      d.dispose();
    }));
  };
  await side("loss side: padded matmul, slice back to 50257", (hh) => np.matmul(hh, Wpad.ref).slice([], [], [0, V]));
  await side("loss side: padded matmul, pad columns masked to -1e9", (hh) => {
    const mask = np.where(np.less(np.arange(50304), V), 0, -1e9);
    return np.matmul(hh, Wpad.ref).add(mask);
  });
  h.dispose();
  Wpad.dispose();
}

if (on("decode")) {
  console.log("\n## one KV-cached decoding step (16 cached positions, batch 1)");
  const prompt = [ids(16, 2)];
  const step = async (opts: { stopAt?: string; sync?: boolean }) =>
    med(async () => {
      const pre = model.forward(prompt, { returnKV: true });
      pre.logits!.dispose();
      await Promise.all(pre.kv!.layers.map((l) => l.v.blockUntilReady()));
      const t = performance.now();
      const r = model.forward([[5]], { kv: pre.kv, returnKV: !opts.stopAt, ...(opts.stopAt ? { stopAt: opts.stopAt, cache: [opts.stopAt] } : {}) });
      const out = opts.stopAt ? r.cache[opts.stopAt]! : r.logits!;
      if (opts.sync) out.ref.dataSync();
      else await out.blockUntilReady();
      const ms = performance.now() - t;
      out.dispose();
      if (r.kv) for (const l of r.kv.layers) (l.k.dispose(), l.v.dispose());
      stepTimes.push(ms);
    }, 3, 1);
  let stepTimes: number[] = [];
  const time = async (label: string, stopAt?: string, sync = false) => {
    stepTimes = [];
    await step({ stopAt, sync });
    const s = stepTimes.slice(1).sort((a, b) => a - b);
    row(label, s[Math.floor(s.length / 2)]!);
  };
  await time("decode step to blocks.0.hook_resid_post", "blocks.0.hook_resid_post");
  await time("decode step to ln_final.hook_normalized", "ln_final.hook_normalized");
  await time("decode step, full (logits)");
  await time("decode step, full (logits), read with dataSync (no workers)", undefined, true);
  // The generate() path: a cache with room (kvPadTo) keeps shapes fixed, so the step runs compiled.
  const padded: number[] = [];
  await med(async () => {
    const pre = model.forward(prompt, { returnKV: true, kvPadTo: 64 });
    pre.logits!.dispose();
    await Promise.all(pre.kv!.layers.map((l) => l.v.blockUntilReady()));
    const t = performance.now();
    const r = model.forward([[5]], { kv: pre.kv, paddedLogits: true });
    await r.logits!.blockUntilReady();
    padded.push(performance.now() - t);
    r.logits!.dispose();
    for (const l of r.kv!.layers) (l.k.dispose(), l.v.dispose());
  }, 3, 1);
  row("decode step, padded KV cache (kvPadTo 64: compiled step)", padded.slice(1).sort((a, b) => a - b)[1]!);
  const x = rnd([1, 1, 768], 15);
  const W = rnd([768, 50304], 16);
  row("unembed GEMV [1,768]·[768,50304]", await med(async () => {
    const y = np.matmul(x.ref, W.ref);
    await y.blockUntilReady();
    y.dispose();
  }));
  const y = rnd([1, 1, 50257], 17);
  row("read one logits row to JS (await data())", await med(async () => {
    await y.ref.data();
  }));
  x.dispose();
  W.dispose();
  y.dispose();
}

model.dispose();
await stopNodeThreads();
