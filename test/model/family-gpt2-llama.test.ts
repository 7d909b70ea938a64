import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, UnsupportedArchitectureError } from "../../src/errors.js";
import { familyFor } from "../../src/model/families/index.js";
import type { F32Tensor, HFTensorSource } from "../../src/model/families/types.js";
import { randomParams } from "../../src/model/random-params.js";
import { readF32Sync } from "../../src/tensor/own.js";
import type { ModelConfig } from "../../src/model/types.js";

const parse = (raw: Record<string, unknown>): ModelConfig => familyFor(raw["model_type"], "config.json").parseConfig(raw, "config.json");

test("gpt2 defaults are GPT2Config's", () => {
  const c = parse({ model_type: "gpt2" });
  assert.equal(c.vocabSize, 50257);
  assert.equal(c.dModel, 768);
  assert.equal(c.nLayers, 12);
  assert.equal(c.nHeads, 12);
  assert.equal(c.dHead, 64);
  assert.equal(c.dMlp, 3072);
  assert.equal(c.nCtx, 1024);
  assert.equal(c.act, "gelu_new");
  assert.equal(c.normEps, 1e-5);
  assert.equal(c.tiedEmbeddings, true);
  assert.equal(c.positional, "learned");
  assert.equal(c.eosTokenId, 50256);
  assert.equal(parse({ model_type: "gpt2", n_inner: 100 }).dMlp, 100);
});

test("llama / mistral / qwen2 defaults and switches", () => {
  const l = parse({ model_type: "llama" });
  assert.deepEqual([l.vocabSize, l.dModel, l.dMlp, l.nLayers, l.nHeads, l.nKVHeads, l.nCtx], [32000, 4096, 11008, 32, 32, 32, 2048]);
  assert.equal(l.normEps, 1e-6);
  assert.equal(l.rotaryBase, 10000);
  assert.equal(l.rotaryDim, 128);
  assert.equal(l.tiedEmbeddings, false);
  assert.equal(l.slidingWindow, undefined);
  assert.deepEqual(l.biases, { qkv: false, o: false, mlp: false, unembed: false });
  assert.deepEqual(parse({ model_type: "llama", attention_bias: true }).biases, { qkv: true, o: true, mlp: false, unembed: false });

  const m = parse({ model_type: "mistral" });
  assert.deepEqual([m.dMlp, m.nKVHeads, m.nCtx, m.slidingWindow], [14336, 8, 131072, 4096]);
  assert.equal(parse({ model_type: "mistral", sliding_window: null }).slidingWindow, undefined);

  const q = parse({ model_type: "qwen2" });
  assert.deepEqual([q.vocabSize, q.dMlp, q.nKVHeads, q.nCtx], [151936, 22016, 32, 32768]);
  assert.equal(q.biases?.qkv, true);
  assert.equal(q.biases?.o, false);
  assert.equal(q.slidingWindow, undefined, "use_sliding_window defaults to false");
  const qs = parse({ model_type: "qwen2", num_hidden_layers: 4, use_sliding_window: true, sliding_window: 16, max_window_layers: 2 });
  assert.equal(qs.slidingWindow, 16);
  assert.deepEqual([0, 1, 2, 3].map((l) => qs.slidingWindowLayers![l]), [false, false, true, true]);
  const qt = parse({ model_type: "qwen2", num_hidden_layers: 2, use_sliding_window: true, layer_types: ["sliding_attention", "full_attention"] });
  assert.deepEqual([0, 1].map((l) => qt.slidingWindowLayers![l]), [true, false]);

  const v5 = parse({ model_type: "llama", rope_parameters: { rope_type: "llama3", rope_theta: 500000, factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } });
  assert.equal(v5.rotaryBase, 500000);
  assert.equal(v5.ropeScaling?.["rope_type"], "llama3");
  assert.equal(parse({ model_type: "llama", head_dim: 64, partial_rotary_factor: 0.5 }).rotaryDim, 32);
});

test("ill-typed, inconsistent or unsupported configs are typed errors naming the field", () => {
  const bad: [Record<string, unknown>, string][] = [
    [{ model_type: "gpt2", n_embd: "768" }, "n_embd"],
    [{ model_type: "gpt2", n_embd: 100, n_head: 12 }, "n_head"],
    [{ model_type: "gpt2", activation_function: "swishy" }, "activation_function"],
    [{ model_type: "gpt2", scale_attn_by_inverse_layer_idx: true }, "scale_attn_by_inverse_layer_idx"],
    [{ model_type: "gpt2", tie_word_embeddings: "yes" }, "tie_word_embeddings"],
    [{ model_type: "llama", num_attention_heads: 32, num_key_value_heads: 5 }, "num_key_value_heads"],
    [{ model_type: "llama", rope_scaling: { rope_type: "yarn", factor: 2 } }, "rope_scaling"],
    [{ model_type: "llama", rope_scaling: { rope_type: "linear" } }, "rope_scaling.factor"],
    [{ model_type: "llama", hidden_size: -1 }, "hidden_size"],
    [{ model_type: "llama", rms_norm_eps: null }, "rms_norm_eps"],
    [{ model_type: "qwen2", num_hidden_layers: 2, layer_types: ["sliding_attention"] }, "layer_types"],
  ];
  for (const [raw, field] of bad) {
    assert.throws(() => parse(raw), (e: unknown) => e instanceof ConfigError && e.field === field && e.file === "config.json", JSON.stringify(raw));
  }
  assert.throws(() => familyFor("gpt3", "config.json"), (e: unknown) => e instanceof UnsupportedArchitectureError && /gpt2/.test(e.message));
});

test("absent takes transformers' default; an explicit null is None (configuration_{llama,mistral,qwen2,gpt2}.py)", () => {
  // Mistral: num_key_value_heads defaults to 8, but None → num_attention_heads.
  assert.equal(parse({ model_type: "mistral" }).nKVHeads, 8);
  assert.equal(parse({ model_type: "mistral", num_key_value_heads: null }).nKVHeads, 32);
  assert.equal(parse({ model_type: "qwen2", num_attention_heads: 16, num_key_value_heads: null }).nKVHeads, 16);
  // sliding_window: int | None = 4096; None → no window.
  assert.equal(parse({ model_type: "mistral" }).slidingWindow, 4096);
  assert.equal(parse({ model_type: "mistral", sliding_window: null }).slidingWindow, undefined);
  // head_dim / rope_scaling / layer_types: None means "derive it" / "none", the same as absent.
  assert.equal(parse({ model_type: "llama", hidden_size: 64, num_attention_heads: 4, head_dim: null }).dHead, 16);
  assert.equal(parse({ model_type: "llama", rope_scaling: null }).ropeScaling, undefined);
  const q = parse({ model_type: "qwen2", num_hidden_layers: 4, use_sliding_window: true, sliding_window: 8, max_window_layers: 3, layer_types: null });
  assert.deepEqual([0, 1, 2, 3].map((l) => q.slidingWindowLayers![l]), [false, false, false, true]);
  // Token ids: GPT-2's absent bos/eos are 50256; null is None (no such token).
  const g = parse({ model_type: "gpt2", bos_token_id: null, eos_token_id: null });
  assert.deepEqual([g.bosTokenId, g.eosTokenId], [undefined, undefined]);
  // rope_parameters' rope_theta wins over a top-level one (convert_rope_params_to_dict: setdefault).
  assert.equal(parse({ model_type: "llama", rope_theta: 10000, rope_parameters: { rope_type: "default", rope_theta: 500000 } }).rotaryBase, 500000);
  // Fields typed plain int / float / str / bool: null is ill-typed, CONFIG_FIELD_TYPE; bad values CONFIG_FIELD_VALUE.
  for (const [raw, field, code] of [
    [{ model_type: "llama", intermediate_size: null }, "intermediate_size", "CONFIG_FIELD_TYPE"],
    [{ model_type: "mistral", hidden_act: null }, "hidden_act", "CONFIG_FIELD_TYPE"],
    [{ model_type: "qwen2", use_sliding_window: null }, "use_sliding_window", "CONFIG_FIELD_TYPE"],
    [{ model_type: "gpt2", layer_norm_epsilon: null }, "layer_norm_epsilon", "CONFIG_FIELD_TYPE"],
    [{ model_type: "mistral", sliding_window: 0 }, "sliding_window", "CONFIG_FIELD_TYPE"],
    [{ model_type: "gpt2", n_embd: 100, n_head: 12 }, "n_head", "CONFIG_FIELD_VALUE"],
  ] as [Record<string, unknown>, string, string][]) {
    assert.throws(() => parse(raw), (e: unknown) => e instanceof ConfigError && e.field === field && e.code === code, JSON.stringify(raw));
  }
});

function hostParams(config: ModelConfig): Record<string, F32Tensor> {
  const params = randomParams(config, 5, { biasStd: 0.1, normStd: 0.1 });
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, { shape: v.shape, data: readF32Sync(v) }]));
}

function source(t: Record<string, F32Tensor>): HFTensorSource {
  return { names: () => Object.keys(t), has: (n) => n in t, get: async (n) => t[n]! };
}

const ROUND_TRIP: Record<string, unknown>[] = [
  { model_type: "gpt2", vocab_size: 50, n_positions: 16, n_embd: 16, n_layer: 2, n_head: 2 },
  { model_type: "gpt2", vocab_size: 50, n_positions: 16, n_embd: 16, n_layer: 1, n_head: 2, tie_word_embeddings: false },
  { model_type: "llama", vocab_size: 50, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, attention_bias: true, mlp_bias: true },
  { model_type: "qwen2", vocab_size: 50, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 1, tie_word_embeddings: true },
  { model_type: "mistral", vocab_size: 50, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 12 },
];

for (const raw of ROUND_TRIP) {
  test(`fromHF(toHF(p)) = p for ${JSON.stringify(raw)}`, async () => {
    const config = parse(raw);
    const family = familyFor(raw["model_type"], "config.json");
    const ours = hostParams(config);
    const hf = family.toHF(config, ours);
    const back = await family.fromHF(config, source(hf));
    assert.deepEqual(Object.keys(back).sort(), Object.keys(ours).sort());
    for (const k of Object.keys(ours)) {
      assert.deepEqual(back[k]!.shape, ours[k]!.shape, k);
      assert.deepEqual(back[k]!.data, ours[k]!.data, k);
    }
    // And toHF(fromHF(hf)) = hf.
    const again = family.toHF(config, back);
    assert.deepEqual(Object.keys(again).sort(), Object.keys(hf).sort());
  });
}

test("HF layouts: GPT-2 c_attn fuses Q|K|V columns; Llama Linear weights are [out, in]", async () => {
  const g = parse(ROUND_TRIP[0]!);
  const gp = hostParams(g);
  const hf = familyFor("gpt2", "c").toHF(g, gp);
  const cAttn = hf["transformer.h.0.attn.c_attn.weight"]!;
  assert.deepEqual(cAttn.shape, [16, 48]);
  assert.equal(cAttn.data[1 * 48 + 16 + 3], gp["blocks.0.attn.W_K"]!.data[1 * 16 + 3]); // row 1, K column 3
  assert.ok(!("lm_head.weight" in hf), "tied GPT-2 saves no lm_head");

  const l = parse(ROUND_TRIP[2]!);
  const lp = hostParams(l);
  const lhf = familyFor("llama", "c").toHF(l, lp);
  const k = lhf["model.layers.0.self_attn.k_proj.weight"]!;
  assert.deepEqual(k.shape, [8, 16]); // [kv_heads·d_head, hidden]
  assert.equal(k.data[5 * 16 + 2], lp["blocks.0.attn.W_K"]!.data[2 * 8 + 5]);
  assert.ok("model.layers.0.mlp.gate_proj.bias" in lhf);
  assert.ok("lm_head.weight" in lhf);

  // A checkpoint without the "transformer." prefix (GPT2Model) loads too; a missing tensor is a CheckpointError.
  const bare = Object.fromEntries(Object.entries(hf).map(([n, t]) => [n.replace(/^transformer\./, ""), t]));
  const back = await familyFor("gpt2", "c").fromHF(g, source(bare));
  assert.deepEqual(back["blocks.1.mlp.W_out"]!.data, gp["blocks.1.mlp.W_out"]!.data);
  delete bare["h.1.ln_2.bias"];
  await assert.rejects(familyFor("gpt2", "c").fromHF(g, source(bare)), /h\.1\.ln_2\.bias/);
});
