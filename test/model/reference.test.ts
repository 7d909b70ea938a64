/**
 * Checks of the reference implementation itself (reference.ts), so that parity against it means
 * something: its erf, causality, left-padding invariance, grouped-query head mapping, and that
 * every switch the parity tests vary actually changes the logits.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildTensors, type CheckpointSpec, type HFModelType } from "./checkpoint-builder.js";
import { erf, referenceLogits } from "./reference.js";

const base = { dModel: 16, nHeads: 4, nLayers: 2, vocabSize: 260 };
const TOKS = [[5, 77, 130, 9, 200, 41, 3, 99]];

function maxDiff(a: Float64Array[][], b: Float64Array[][], pick?: (bi: number, t: number) => [number, number]): number {
  let m = 0;
  a.forEach((row, bi) => row.forEach((z, t) => {
    const [bb, tt] = pick ? pick(bi, t) : [bi, t];
    z.forEach((v, i) => (m = Math.max(m, Math.abs(v - b[bb]![tt]![i]!))));
  }));
  return m;
}

function logits(spec: CheckpointSpec, toks = TOKS, mask?: number[][]) {
  const { config, tensors } = buildTensors(spec);
  return referenceLogits(config, tensors, toks, mask);
}

test("erf matches tabulated values", () => {
  const table: [number, number][] = [
    [0, 0], [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
    [2, 0.9953222650189527], [2.5, 0.999593047982555], [3, 0.9999779095030014], [-1.5, -0.9661051464753108], [7, 1],
  ];
  for (const [x, want] of table) assert.ok(Math.abs(erf(x) - want) < 1e-14, `erf(${x}) = ${erf(x)}, want ${want}`);
});

const types: HFModelType[] = ["gpt2", "gpt_neox", "gptj", "llama", "mistral", "qwen2", "gemma2"];

for (const modelType of types) {
  test(`${modelType}: causal, and left padding changes nothing for real tokens`, () => {
    const spec: CheckpointSpec = { modelType, ...base, config: modelType === "gemma2" ? { sliding_window: 3 } : {} };
    const full = logits(spec);
    const changedLast = logits(spec, [[...TOKS[0]!.slice(0, -1), 17]]);
    const T = TOKS[0]!.length;
    for (let t = 0; t < T - 1; t++) assert.deepEqual(changedLast[0]![t], full[0]![t], `position ${t} saw the future`);
    assert.ok(maxDiff([[changedLast[0]![T - 1]!]], [[full[0]![T - 1]!]]) > 1e-3, "last position ignores its own token");
    const padded = logits(spec, [[0, 0, 0, ...TOKS[0]!]], [[0, 0, 0, ...TOKS[0]!.map(() => 1)]]);
    const d = maxDiff([padded[0]!.slice(3)], full);
    assert.ok(d < 1e-12, `padding changed real logits by ${d}`);
  });
}

test("grouped-query attention: kv head g serves query heads g·(H/KV) … — equals MHA with duplicated k/v rows", () => {
  const gqa = buildTensors({ modelType: "llama", ...base, nKVHeads: 2 });
  const dh = 4;
  const mha = { ...gqa.tensors };
  for (let l = 0; l < 2; l++) {
    for (const n of ["k_proj", "v_proj"]) {
      const w = gqa.tensors[`model.layers.${l}.self_attn.${n}.weight`]!; // [2*dh, d]
      const d = w.shape[1]!;
      const out = new Float32Array(4 * dh * d);
      // repeat_kv (modeling_llama.py): expand(b, kv, n_rep, s, dh).reshape(b, kv*n_rep, …) → head h uses kv h // n_rep.
      for (let h = 0; h < 4; h++) out.set(w.data.subarray(Math.floor(h / 2) * dh * d, (Math.floor(h / 2) + 1) * dh * d), h * dh * d);
      mha[`model.layers.${l}.self_attn.${n}.weight`] = { shape: [4 * dh, d], data: out };
    }
  }
  const a = referenceLogits(gqa.config, gqa.tensors, TOKS);
  const b = referenceLogits({ ...gqa.config, num_key_value_heads: 4 }, mha, TOKS);
  assert.ok(maxDiff(a, b) < 1e-12);
});

test("every switch the parity tests vary changes the logits", () => {
  const pairs: [string, CheckpointSpec, Record<string, unknown>][] = [
    ["neox parallel vs sequential", { modelType: "gpt_neox", ...base }, { use_parallel_residual: false }],
    ["neox rotary_pct", { modelType: "gpt_neox", ...base }, { rotary_pct: 1 }],
    ["neox linear rope scaling", { modelType: "gpt_neox", ...base }, { rope_scaling: { type: "linear", factor: 2 } }],
    ["gptj rotary_dim", { modelType: "gptj", ...base }, { rotary_dim: 4 }],
    ["llama3 rope", { modelType: "llama", ...base, config: { rope_theta: 500000 } },
      { rope_scaling: { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8 } }],
    ["dynamic rope past max_position_embeddings", { modelType: "llama", ...base, nCtx: 4 }, { rope_scaling: { type: "dynamic", factor: 2 } }],
    ["mistral window", { modelType: "mistral", ...base }, { sliding_window: 3 }],
    ["qwen2 window on layers >= max_window_layers", { modelType: "qwen2", ...base }, { use_sliding_window: true, sliding_window: 2, max_window_layers: 1 }],
    ["gemma2 attention soft-cap", { modelType: "gemma2", ...base }, { attn_logit_softcapping: 1 }],
    ["gemma2 final soft-cap", { modelType: "gemma2", ...base }, { final_logit_softcapping: 1 }],
    ["gemma2 window", { modelType: "gemma2", ...base }, { sliding_window: 2 }],
    ["gemma2 which layers slide", { modelType: "gemma2", ...base, config: { sliding_window: 2 } },
      { layer_types: ["full_attention", "sliding_attention"] }],
    ["gemma2 query_pre_attn_scalar", { modelType: "gemma2", ...base }, { query_pre_attn_scalar: 1 }],
  ];
  for (const [what, spec, change] of pairs) {
    const { config, tensors } = buildTensors(spec);
    const a = referenceLogits(config, tensors, TOKS);
    const b = referenceLogits({ ...config, ...change }, tensors, TOKS);
    assert.ok(maxDiff(a, b) > 1e-3, `${what}: no effect (max diff ${maxDiff(a, b)})`);
  }
});
