import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np } from "@jax-js/jax";
import { ConfigError } from "../../src/errors.js";
import { disposeTree, readF32Sync } from "../../src/tensor/own.js";
import { maxAbsDiff, peek, tinyModel, tokenRows, type Variant } from "./helpers.js";
import type { Arr } from "../../src/model/types.js";

function expectedShape(name: string, v: { batch: number; len: number; d: number; heads: number; kv: number; dHead: number; dMlp: number }): number[] {
  const { batch, len, d, heads, kv, dHead, dMlp } = v;
  if (/attn\.hook_(q|rot_q|z)$/.test(name)) return [batch, len, heads, dHead];
  if (/attn\.hook_(k|v|rot_k)$/.test(name)) return [batch, len, kv, dHead];
  if (/attn\.hook_(pattern|attn_scores)$/.test(name)) return [batch, heads, len, len];
  if (/mlp\.hook_(pre|pre_linear|post)$/.test(name)) return [batch, len, dMlp];
  return [batch, len, d];
}

for (const variant of ["gpt2", "llama", "mistral", "parallel", "gemma2", "gptj"] as Variant[]) {
  test(`${variant}: every hook point is cached with its shape, in hookNames() order`, () => {
    const model = tinyModel(variant);
    const c = model.config;
    const tokens = tokenRows(2, 5, c.vocabSize);
    const order: string[] = [];
    const { logits, cache } = model.forward(tokens, {
      cache: (name) => {
        order.push(name);
        return true;
      },
    });
    assert.deepEqual(order, model.hookNames());
    assert.deepEqual(Object.keys(cache).sort(), model.hookNames().slice().sort());
    const dims = { batch: 2, len: 5, d: c.dModel, heads: c.nHeads, kv: c.nKVHeads, dHead: c.dHead, dMlp: c.dMlp };
    for (const name of model.hookNames()) assert.deepEqual(cache[name]!.shape, expectedShape(name, dims), name);
    // Caching changes nothing: the plain (jit-compiled) pass gives the same logits.
    const plain = model.forward(tokens).logits!;
    assert.ok(maxAbsDiff(readF32Sync(plain), peek(logits!)) < 1e-5);
    // Patterns are distributions over keys.
    const pat = peek(cache["blocks.0.attn.hook_pattern"]!);
    for (let r = 0; r < pat.length / 5; r++) {
      let s = 0;
      for (let k = 0; k < 5; k++) s += pat[r * 5 + k]!;
      assert.ok(Math.abs(s - 1) < 1e-5);
    }
    logits!.dispose();
    disposeTree(cache);
    model.dispose();
  });
}

test("parallel-residual blocks have no hook_resid_mid; sequential ones do", () => {
  const seq = tinyModel("gpt2");
  const par = tinyModel("parallel");
  assert.ok(seq.hookNames().includes("blocks.0.hook_resid_mid"));
  assert.ok(!par.hookNames().includes("blocks.0.hook_resid_mid"));
  assert.ok(par.hookNames().includes("blocks.0.hook_mlp_in"));
  seq.dispose();
  par.dispose();
});

/** Host LayerNorm + unembedding (tied), float64: the independent computation. */
function hostFinal(model: ReturnType<typeof tinyModel>, resid: Float32Array, rows: number): Float64Array {
  const c = model.config;
  const d = c.dModel;
  const V = c.vocabSize;
  const w = peek(model.params["ln_final.w"]!);
  const b = peek(model.params["ln_final.b"]!);
  const E = peek(model.params["embed.W_E"]!); // tied: W_U = W_Eᵀ
  const out = new Float64Array(rows * V);
  for (let r = 0; r < rows; r++) {
    const x = resid.subarray(r * d, (r + 1) * d);
    let mean = 0;
    for (const v of x) mean += v;
    mean /= d;
    let vr = 0;
    for (const v of x) vr += (v - mean) ** 2;
    vr /= d;
    const n = Array.from(x, (v, i) => ((v - mean) / Math.sqrt(vr + c.normEps)) * w[i]! + b[i]!);
    for (let t = 0; t < V; t++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += n[i]! * E[t * d + i]!;
      out[r * V + t] = s;
    }
  }
  return out;
}

test("replacing the last hook_resid_post with zeros gives logits = ln_final.b · W_U at every position", () => {
  const model = tinyModel("gpt2");
  const c = model.config;
  const last = `blocks.${c.nLayers - 1}.hook_resid_post`;
  const tokens = tokenRows(2, 4, c.vocabSize);
  const { logits } = model.forward(tokens, {
    hooks: {
      [last]: (x) => {
        const z = np.zerosLike(x.ref);
        x.dispose();
        return z;
      },
    },
  });
  const got = readF32Sync(logits!);
  const want = hostFinal(model, new Float32Array(8 * c.dModel), 8);
  assert.ok(maxAbsDiff(got, want) < 1e-5, `max diff ${maxAbsDiff(got, want)}`);
  // And it differs from the unhooked model's logits.
  const plain = readF32Sync(model.forward(tokens).logits!);
  assert.ok(maxAbsDiff(got, plain) > 1e-2);
  model.dispose();
});

test("adding a vector at the last hook_resid_post shifts logits as ln_final + unembed of (resid + v) predicts", () => {
  const model = tinyModel("gpt2");
  const c = model.config;
  const last = `blocks.${c.nLayers - 1}.hook_resid_post`;
  const tokens = tokenRows(1, 6, c.vocabSize);
  const vec = Float32Array.from({ length: c.dModel }, (_, i) => Math.sin(i) * 0.7);
  const { cache } = model.forward(tokens, { cache: [last] });
  const resid = readF32Sync(cache[last]!);
  const steered = resid.map((x, i) => x + vec[i % c.dModel]!);
  const v = np.array(vec);
  const { logits } = model.forward(tokens, { hooks: { [last]: (x) => x.add(v.ref) } });
  v.dispose();
  const got = readF32Sync(logits!);
  const want = hostFinal(model, steered, 6);
  assert.ok(maxAbsDiff(got, want) < 2e-5, `max diff ${maxAbsDiff(got, want)}`);
  model.dispose();
});

test("hooks receive name, layer, positions and query positions; a hook on an earlier layer changes later activations", () => {
  const model = tinyModel("llama");
  const tokens = tokenRows(1, 3, model.config.vocabSize);
  const seen: { name: string; layer?: number; positions: number[]; queryPositions: number[] }[] = [];
  const { cache: base } = model.forward(tokens, { cache: ["blocks.1.hook_resid_pre"] });
  const { cache } = model.forward(tokens, {
    cache: ["blocks.1.hook_resid_pre"],
    hooks: {
      "blocks.0.mlp.hook_post": (x, ctx) => {
        seen.push({ ...ctx });
        return x.mul(0);
      },
    },
  });
  assert.deepEqual(seen, [{ name: "blocks.0.mlp.hook_post", layer: 0, positions: [0, 1, 2], queryPositions: [2] }]);
  assert.ok(maxAbsDiff(readF32Sync(base["blocks.1.hook_resid_pre"]!), readF32Sync(cache["blocks.1.hook_resid_pre"]!)) > 1e-3);
  model.dispose();
});

test("unknown hook names are a ConfigError with a suggestion", () => {
  const model = tinyModel("gpt2");
  assert.throws(() => model.forward([[1, 2]], { cache: ["blocks.0.hook_resid_psot"] }), (e: unknown) => e instanceof ConfigError && /hook_resid_post/.test(e.message));
  assert.throws(() => model.forward([[1, 2]], { hooks: { "blocks.9.hook_resid_post": (x) => x } }), ConfigError);
  assert.throws(() => model.forward([[1, 2]], { stopAt: "nope" }), ConfigError);
  assert.throws(() => model.forward([[1, 500]]), ConfigError);
  model.dispose();
});

// A pass hooked only at a later block runs the blocks before it compiled (forward.ts jitPrefix);
// its activations and logits must equal the all-eager pass's (a model built with jit off).
test("hooks on a later block: compiled prefix gives the eager pass's activations and logits", () => {
  for (const variant of ["gpt2", "llama", "gemma2", "gptj"] as Variant[]) {
    const compiled = tinyModel(variant, 3, true);
    const eager = tinyModel(variant, 3, false);
    const tokens = tokenRows(2, 6, compiled.config.vocabSize);
    const name = "blocks.1.hook_resid_pre";
    const opts = { cache: [name, "blocks.1.attn.hook_pattern"], hooks: { "blocks.1.hook_attn_out": (x: Arr) => x.mul(1.5) } };
    const a = compiled.forward(tokens, opts);
    const b = eager.forward(tokens, opts);
    for (const n of opts.cache) assert.ok(maxAbsDiff(peek(a.cache[n]!), peek(b.cache[n]!)) < 1e-5, `${variant} ${n}`);
    assert.ok(maxAbsDiff(readF32Sync(a.logits!), readF32Sync(b.logits!)) < 1e-5, `${variant} logits`);
    disposeTree(a.cache);
    disposeTree(b.cache);
    compiled.dispose();
    eager.dispose();
  }
});

test("queryPositions: each row's last real token by default, the caller's when given, checked", () => {
  const model = tinyModel("llama");
  const tokens = tokenRows(3, 5, model.config.vocabSize);
  const seen: number[][] = [];
  const hooks = { "blocks.0.hook_resid_post": (x: Arr, ctx: { queryPositions: number[] }) => (seen.push(ctx.queryPositions), x) };
  const run = (options: object) => disposeTree(model.forward(tokens, { hooks, ...options }));
  run({});
  // Right padding: the last 1 of each mask row.
  run({ attentionMask: [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]] });
  run({ queryPositions: [0, 2, 4] });
  assert.deepEqual(seen, [[4, 4, 4], [4, 2, 0], [0, 2, 4]]);
  assert.throws(() => run({ queryPositions: [0, 5, 1] }), ConfigError);
  assert.throws(() => run({ queryPositions: [0, 1] }), ConfigError);
});
