import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np } from "@jax-js/jax";
import { ConfigError } from "../../src/errors.js";
import { disposeTree, readF32Sync } from "../../src/tensor/own.js";
import { maxAbsDiff, tinyModel, tokenRows, type Variant } from "./helpers.js";

const VARIANTS: Variant[] = ["gpt2", "llama", "mistral", "gemma2", "gptj", "parallel"];

for (const variant of VARIANTS) {
  test(`${variant}: a pass started at block k from a residual stream gives the full pass with that stream there, for every k`, () => {
    const model = tinyModel(variant);
    const tokens = tokenRows(2, 6, model.config.vocabSize);
    // Right padding in the second row: positions and mask must come out as in the full pass.
    const attentionMask = [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]];
    const n = model.config.nLayers;
    // The stream entering block k (k = n: after the last block).
    const points = [...Array.from({ length: n }, (_, l) => `blocks.${l}.hook_resid_pre`), `blocks.${n - 1}.hook_resid_post`];
    const { cache } = model.forward(tokens, { attentionMask, cache: points });
    const shift = np.array(Float32Array.from({ length: 2 * 6 * model.config.dModel }, (_, i) => Math.sin(i))).reshape([2, 6, model.config.dModel]);
    for (let k = 0; k <= n; k++) {
      // Shifted, so a pass that ignored startFrom would differ.
      const whole = model.forward(tokens, { attentionMask, paddedLogits: true, hooks: { [points[k]!]: (x) => x.add(shift.ref) } });
      const want = readF32Sync(whole.logits!);
      const out = model.forward(tokens, { attentionMask, paddedLogits: true, startFrom: { layer: k, resid: cache[points[k]!]!.ref.add(shift.ref) } });
      const got = readF32Sync(out.logits!);
      assert.ok(maxAbsDiff(got, want) < 1e-5, `k = ${k}: max |Δ| ${maxAbsDiff(got, want)}`);
    }
    for (const a of [...Object.values(cache), shift]) a.dispose();
    model.dispose();
  });
}

for (const variant of VARIANTS) {
  test(`${variant}: startFrom with the KV cache of ragged prefixes gives the whole pass at the later positions`, () => {
    const model = tinyModel(variant);
    const n = model.config.nLayers;
    const d = model.config.dModel;
    const tokens = tokenRows(2, 6, model.config.vocabSize);
    const split = [3, 2]; // row b's positions split[b]… change; the earlier ones are cached
    const pad = 0;
    // The whole pass with a shift at the later positions only, entering block k.
    const shiftAt = (k: number) =>
      np.array(Float32Array.from({ length: 2 * 6 * d }, (_, i) => (Math.floor(i / d) % 6 >= split[Math.floor(i / (6 * d))]! ? Math.cos(i + k) : 0))).reshape([2, 6, d]);
    const points = Array.from({ length: n }, (_, l) => `blocks.${l}.hook_resid_pre`);
    const { cache } = model.forward(tokens, { cache: points });
    for (let k = 1; k < n; k++) {
      const shift = shiftAt(k);
      const want = readF32Sync(model.forward(tokens, { paddedLogits: true, hooks: { [points[k]!]: (x) => x.add(shift.ref) } }).logits!);
      // Prefixes right-padded to the longest, with their KV cache.
      const prefix = tokens.map((row, b) => [...row.slice(0, split[b]), ...Array(3 - split[b]!).fill(pad)]);
      const { kv, logits } = model.forward(prefix, { attentionMask: split.map((s) => [1, 1, 1].map((_, t) => (t < s ? 1 : 0))), returnKV: true });
      logits!.dispose();
      // The rest, right-padded, from block k with the shifted stream at those positions.
      const Ts = 4;
      const rest = tokens.map((row, b) => [...row.slice(split[b]), ...Array(Ts - (6 - split[b]!)).fill(pad)]);
      const mask = split.map((s) => Array.from({ length: Ts }, (_, t) => (t < 6 - s ? 1 : 0)));
      const shifted = cache[points[k]!]!.ref.add(shift);
      const resid = np.stack(split.map((s, b) => {
        const row = shifted.ref.slice([b, b + 1], [s, 6]).reshape([6 - s, d]);
        return 6 - s < Ts ? np.concatenate([row, np.zeros([Ts - (6 - s), d])], 0) : row;
      }));
      shifted.dispose();
      // The cache of the blocks the pass runs, k…
      for (const { k: kk, v } of kv!.layers.slice(0, k)) disposeTree([kk, v]);
      const tail = { ...kv!, layers: kv!.layers.slice(k) };
      const got = readF32Sync(model.forward(rest, { attentionMask: mask, paddedLogits: true, kv: tail, startFrom: { layer: k, resid } }).logits!);
      const V = want.length / 12;
      let worst = 0;
      split.forEach((s, b) => {
        for (let t = s; t < 6; t++) for (let j = 0; j < V; j++) worst = Math.max(worst, Math.abs(got[(b * Ts + t - s) * V + j]! - want[(b * 6 + t) * V + j]!));
      });
      assert.ok(worst < 1e-4, `k = ${k}: max |Δ| ${worst}`);
    }
    for (const a of Object.values(cache)) a.dispose();
    model.dispose();
  });
}

test("startFrom: hooks before the start are not reached, later ones run and change the result", () => {
  const model = tinyModel("llama");
  const tokens = tokenRows(1, 5, model.config.vocabSize);
  const { cache } = model.forward(tokens, { cache: ["blocks.1.hook_resid_pre"] });
  const called: string[] = [];
  const hooks = {
    hook_embed: (x: never) => (called.push("hook_embed"), x),
    "blocks.0.hook_mlp_out": (x: never) => (called.push("blocks.0.hook_mlp_out"), x),
    "blocks.1.hook_mlp_out": (x: { mul(v: number): never }) => (called.push("blocks.1.hook_mlp_out"), x.mul(0)),
  };
  const out = model.forward(tokens, { hooks: hooks as never, startFrom: { layer: 1, resid: cache["blocks.1.hook_resid_pre"]!.ref } });
  assert.deepEqual(called, ["blocks.1.hook_mlp_out"]);
  // The same ablation on the whole pass gives the same logits: the start is where the pass picks up.
  const whole = model.forward(tokens, { hooks: { "blocks.1.hook_mlp_out": (x) => x.mul(0) } });
  assert.ok(maxAbsDiff(readF32Sync(out.logits!), readF32Sync(whole.logits!)) < 1e-5);
  cache["blocks.1.hook_resid_pre"]!.dispose();
  model.dispose();
});

test("startFrom: a bad layer, a misshapen residual stream or a KV cache asked back is a ConfigError naming the field", () => {
  const model = tinyModel("gpt2");
  const tokens = tokenRows(2, 4, model.config.vocabSize);
  const d = model.config.dModel;
  const cases: [object, RegExp][] = [
    [{ startFrom: { layer: 3, resid: np.zeros([2, 4, d]) } }, /startFrom\.layer must be an integer in \[0, 2\]/],
    [{ startFrom: { layer: 1, resid: np.zeros([2, 3, d]) } }, /startFrom\.resid must be \[2, 4, 32\]/],
    [{ startFrom: { layer: 1, resid: np.zeros([2, 4, d]) }, returnKV: true }, /startFrom cannot return a KV cache/],
    [{ startFrom: { layer: 1, resid: np.zeros([2, 4, d]) }, kv: { layers: [], length: 1, mask: [[1], [1]] } }, /kv cache does not match this model or batch \(it needs 1 blocks/],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => model.forward(tokens, options), (e: unknown) => e instanceof ConfigError && message.test(e.message));
    (options as { startFrom: { resid: { dispose(): void } } }).startFrom.resid.dispose();
  }
  model.dispose();
});
