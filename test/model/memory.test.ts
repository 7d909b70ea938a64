import assert from "node:assert/strict";
import { test } from "node:test";
import { grad, numpy as np } from "@jax-js/jax";
import { familyFor } from "../../src/model/families/index.js";
import { createModel } from "../../src/model/model.js";
import { randomParams } from "../../src/model/random-params.js";
import type { KVCache, Model } from "../../src/model/types.js";
import { disposeTree, readF32Sync } from "../../src/tensor/own.js";
import { stubTokenizer, tokenRows } from "./helpers.js";
import { trackLiveBuffers } from "./live-buffers.js";
import v8 from "node:v8";
import vm from "node:vm";

// A collected JS heap between measurements, so RSS reflects Wasm memory and real retention.
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;
const live = await trackLiveBuffers();

/**
 * jax-js has no garbage-collector safety net: an array nobody disposes stays in Wasm memory. A leak
 * of the logits alone here is 32·2048·4 B = 256 KB per pass, 50 MB over 200 passes; the slack
 * below (30 MB) absorbs allocator noise only (20.1 MB was seen once on plain llama forwards while
 * another job loaded both cores). The live-buffer count is exact: it must not move.
 *
 * KV decoding is checked by buffers and JS heap, not RSS: with both exactly flat, RSS still drifted
 * by ~10 MB per 200 single-token passes on this shared 2-core machine (runs of tiny rotary ops
 * alone drift the same way), which the RSS slack cannot separate from noise.
 *
 * Gradients are checked by live buffers only: jax-js 0.1.25 itself retains JS heap on every `grad`
 * call (~47 KB per traced op, e.g. 0.9 MB for 20 tanh ops, with or without scalpel code), most
 * likely the per-call jaxprs its module-level jvp/transpose caches keep as Map keys. That is not a
 * leak of ours, and RSS cannot separate the two.
 */
const SLACK = 30e6;

function model(type: "gpt2" | "llama"): Model {
  const raw =
    type === "gpt2"
      ? { model_type: "gpt2", vocab_size: 2000, n_positions: 64, n_embd: 128, n_layer: 2, n_head: 4 }
      : { model_type: "llama", vocab_size: 2000, hidden_size: 128, intermediate_size: 256, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2 };
  const config = familyFor(type, "config.json").parseConfig(raw, "config.json");
  return createModel(config, randomParams(config, 3), stubTokenizer(config.vocabSize));
}

/** Warm up, then run `steps` steps; the growth of RSS and of live jax-js buffers over them. */
interface Growth {
  rss: number;
  heap: number;
  buffers: number;
}

function growth(step: () => void, warmup = 60, steps = 200): Growth {
  for (let i = 0; i < warmup; i++) step();
  gc();
  const before = process.memoryUsage();
  const buffers = live();
  for (let i = 0; i < steps; i++) step();
  gc();
  const after = process.memoryUsage();
  return { rss: after.rss - before.rss, heap: after.heapUsed - before.heapUsed, buffers: live() - buffers };
}

/** Buffers exactly; JS heap within 4 MB; RSS within SLACK where `rss` (see the note above). */
function check(label: string, g: Growth, rss = true, heap = true): void {
  assert.equal(g.buffers, 0, `${label}: ${g.buffers} jax-js buffers leaked`);
  if (heap) assert.ok(g.heap < 4e6, `${label}: JS heap grew by ${(g.heap / 1e6).toFixed(1)} MB`);
  if (rss) assert.ok(g.rss < SLACK, `${label}: RSS grew by ${(g.rss / 1e6).toFixed(1)} MB`);
}

for (const type of ["gpt2", "llama"] as const) {
  test(`${type}: RSS stays flat over 200 forwards (plain, hooked + cached, KV decoding, grad)`, () => {
    const m = model(type);
    const tokens = tokenRows(1, 32, 2000);
    check("plain", growth(() => readF32Sync(m.forward(tokens).logits!)));

    check("hooked", growth(() => {
      const { logits, cache } = m.forward(tokens, {
        cache: (n) => n.endsWith("hook_resid_post") || n.endsWith("hook_pattern"),
        hooks: { "blocks.0.hook_mlp_out": (x) => x.mul(0.5) },
      });
      readF32Sync(logits!);
      disposeTree(cache);
    }));

    check("stopAt", growth(() => {
      const { cache } = m.forward(tokens, { stopAt: "blocks.0.hook_resid_mid", cache: ["blocks.0.hook_resid_pre"] });
      disposeTree(cache);
    }));

    check("KV decoding", growth(() => {
      const first = m.forward([tokens[0]!.slice(0, 8)], { returnKV: true });
      readF32Sync(first.logits!);
      let kv: KVCache = first.kv!;
      for (let t = 8; t < 12; t++) {
        const out = m.forward([[tokens[0]![t]!]], { kv });
        readF32Sync(out.logits!);
        kv = out.kv!;
      }
      disposeTree(kv.layers);
    }, 12, 40), false); // 5 forwards per step: 200 passes

    const v = np.zeros([m.config.dModel]);
    check("grad", growth(() => {
      const g = grad((x: np.Array) => m.forward(tokens, { hooks: { "blocks.1.hook_resid_post": (r) => r.add(x) } }).logits!.mean())(v.ref);
      readF32Sync(g);
    }, 3, 20), false, false);
    v.dispose();
    m.dispose();
  });
}

test("dispose releases everything a model made, including after rejected and stopped calls", () => {
  const start = live();
  const m = model("gpt2");
  readF32Sync(m.forward([[1, 2, 3]]).logits!); // builds the padded unembedding and the jit program
  assert.throws(() => m.forward([[1, 2, 3]], { cache: ["no.such.hook"] }));
  assert.throws(() => m.forward([[1, 99999]]));
  const { cache } = m.forward([[1, 2]], { stopAt: "blocks.0.hook_resid_post", cache: ["blocks.0.hook_resid_post"] });
  disposeTree(cache);
  const edited = m.withParams({});
  edited.dispose();
  m.dispose();
  assert.equal(live() - start, 0);
});
