/**
 * config.json → ModelConfig: the registry's unknown-architecture error, transformers' defaults
 * (configuration_gpt_neox.py, configuration_gptj.py, configuration_gemma2.py), and ConfigErrors
 * that name the file and the field.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, UnsupportedArchitectureError } from "../../src/errors.js";
import { familyFor } from "../../src/model/families/index.js";
import type { ModelConfig } from "../../src/model/types.js";
import { buildTensors, type HFModelType } from "./checkpoint-builder.js";

const FILE = "/ckpt/config.json";

function parse(raw: Record<string, unknown>): ModelConfig {
  return familyFor(raw.model_type, FILE).parseConfig(raw, FILE);
}

/** Assert `fn` throws `cls` whose .field is `field` and whose message names the file and field. */
function throwsNaming(fn: () => unknown, cls: new (...a: never[]) => Error, field: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.equal((e as ConfigError).field, field);
    assert.match(e.message, new RegExp(FILE.replace(/[/.]/g, "\\$&")));
    assert.ok(e.message.includes(field), `message should name ${field}: ${e.message}`);
    return true;
  });
}

test("unknown model_type: UnsupportedArchitectureError with a did-you-mean", () => {
  for (const [typo, meant] of [["gpt-neox", "gpt_neox"], ["gemma", "gemma2"], ["gpt_j", "gptj"], ["Llama", "llama"]]) {
    assert.throws(() => familyFor(typo, FILE), (e: unknown) => {
      assert.ok(e instanceof UnsupportedArchitectureError);
      assert.equal(e.field, "model_type");
      assert.ok(e.message.includes(`Did you mean '${meant}'?`), e.message);
      return true;
    });
  }
  assert.throws(() => familyFor("t5", FILE), (e: unknown) => e instanceof UnsupportedArchitectureError && !e.message.includes("Did you mean"));
  assert.throws(() => familyFor(undefined, FILE), UnsupportedArchitectureError);
});

test("every model type is registered", () => {
  for (const t of ["gpt2", "gpt_neox", "gptj", "llama", "mistral", "qwen2", "gemma2"]) assert.ok(familyFor(t, FILE).modelTypes.includes(t));
});

test("gpt_neox defaults follow GPTNeoXConfig", () => {
  const c = parse({ model_type: "gpt_neox" });
  assert.equal(c.vocabSize, 50432);
  assert.equal(c.dModel, 6144);
  assert.equal(c.nLayers, 44);
  assert.equal(c.nHeads, 64);
  assert.equal(c.dMlp, 24576);
  assert.equal(c.dHead, 96);
  assert.equal(c.rotaryDim, 24); // int(96 * 0.25)
  assert.equal(c.rotaryBase, 10000);
  assert.equal(c.rotaryInterleaved, false);
  assert.equal(c.parallelResidual, true);
  assert.equal(c.tiedEmbeddings, false);
  assert.equal(c.act, "gelu");
  assert.equal(c.normEps, 1e-5);
  assert.equal(c.norm, "layernorm");
  assert.equal(c.nCtx, 2048);
  assert.deepEqual([c.bosTokenId, c.eosTokenId, c.padTokenId], [0, 2, undefined]);
  assert.deepEqual(c.biases, { qkv: true, o: true, mlp: true, unembed: false });
  assert.equal(c.ropeScaling, undefined);
});

test("gpt_neox reads rotary_pct / rotary_emb_base, rope_parameters, attention_bias and truncates rotary dims", () => {
  const base = { model_type: "gpt_neox", hidden_size: 40, num_attention_heads: 4 }; // head 10
  assert.equal(parse({ ...base, rotary_pct: 0.25 }).rotaryDim, 2); // int(2.5)
  const c = parse({ ...base, hidden_size: 64, rotary_pct: 0.5, rotary_emb_base: 500, use_parallel_residual: false, attention_bias: false });
  assert.deepEqual([c.rotaryDim, c.rotaryBase, c.parallelResidual, c.biases?.qkv, c.biases?.o], [8, 500, false, false, false]);
  // An odd rotary width cannot be rotated in halves (HF fails on the cos/sin shapes).
  throwsNaming(() => parse({ ...base, rotary_pct: 0.5 }), ConfigError, "rotary_pct");
  const n = parse({ model_type: "gpt_neox", hidden_size: 64, num_attention_heads: 4, rope_parameters: { rope_type: "default", rope_theta: 5000, partial_rotary_factor: 0.5 } });
  assert.deepEqual([n.rotaryDim, n.rotaryBase, n.ropeScaling], [8, 5000, undefined]);
  const s = parse({ ...base, hidden_size: 64, rope_scaling: { type: "linear", factor: 2 } });
  assert.deepEqual(s.ropeScaling, { type: "linear", factor: 2 });
});

test("gptj defaults follow GPTJConfig", () => {
  const c = parse({ model_type: "gptj" });
  assert.deepEqual([c.vocabSize, c.dModel, c.nLayers, c.nHeads, c.dHead], [50400, 4096, 28, 16, 256]);
  assert.equal(c.dMlp, 4 * 4096); // n_inner None
  assert.equal(c.rotaryDim, 64);
  assert.equal(c.rotaryInterleaved, true);
  assert.equal(c.parallelResidual, true);
  assert.equal(c.sharedBlockNorm, true);
  assert.equal(c.act, "gelu_new");
  assert.equal(c.nCtx, 2048);
  assert.equal(c.tiedEmbeddings, false);
  assert.deepEqual([c.bosTokenId, c.eosTokenId], [50256, 50256]);
  assert.deepEqual(c.biases, { qkv: false, o: false, mlp: true, unembed: true });
  assert.equal(parse({ model_type: "gptj", n_embd: 64, n_head: 4, rotary_dim: null }).rotaryDim, 16);
  assert.equal(parse({ model_type: "gptj", n_embd: 64, n_head: 4, rotary_dim: 8, n_inner: 100 }).dMlp, 100);
});

test("gemma2 defaults follow Gemma2Config, including which layers slide", () => {
  const c = parse({ model_type: "gemma2" });
  assert.deepEqual([c.vocabSize, c.dModel, c.dMlp, c.nLayers, c.nHeads, c.nKVHeads, c.dHead], [256000, 2304, 9216, 26, 8, 4, 256]);
  assert.equal(c.norm, "gemma_rmsnorm");
  assert.equal(c.normEps, 1e-6);
  assert.equal(c.act, "gelu_pytorch_tanh");
  assert.equal(c.gatedMlp, true);
  assert.equal(c.postNorms, true);
  assert.equal(c.tiedEmbeddings, true);
  assert.equal(c.queryPreAttnScalar, 256);
  assert.equal(c.attnLogitSoftcap, 50);
  assert.equal(c.finalLogitSoftcap, 30);
  assert.equal(c.slidingWindow, 4096);
  assert.equal(c.embedScale, Math.sqrt(2304));
  assert.equal(c.nCtx, 8192);
  assert.deepEqual([c.bosTokenId, c.eosTokenId, c.padTokenId], [2, 1, 0]);
  // configuration_gemma2.py: "sliding_attention" if (i + 1) % 2 else "full_attention".
  assert.deepEqual(Array.from({ length: 6 }, (_, l) => c.slidingWindowLayers![l]), [true, false, true, false, true, false]);
  const e = parse({ model_type: "gemma2", num_hidden_layers: 3, layer_types: ["full_attention", "sliding_attention", "full_attention"] });
  assert.deepEqual([0, 1, 2].map((l) => e.slidingWindowLayers![l]), [false, true, false]);
  const off = parse({ model_type: "gemma2", sliding_window: null, attn_logit_softcapping: null, final_logit_softcapping: null });
  assert.deepEqual([off.slidingWindow, off.slidingWindowLayers, off.attnLogitSoftcap, off.finalLogitSoftcap], [undefined, undefined, undefined, undefined]);
});

test("ill-typed and inconsistent fields: ConfigError naming file and field", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ model_type: "gpt_neox", hidden_size: "512" }, "hidden_size"],
    [{ model_type: "gpt_neox", num_attention_heads: 2.5 }, "num_attention_heads"],
    [{ model_type: "gpt_neox", hidden_size: 100, num_attention_heads: 3 }, "num_attention_heads"],
    [{ model_type: "gpt_neox", use_parallel_residual: "yes" }, "use_parallel_residual"],
    [{ model_type: "gpt_neox", rotary_pct: 0 }, "rotary_pct"],
    [{ model_type: "gpt_neox", tie_word_embeddings: 1 }, "tie_word_embeddings"],
    [{ model_type: "gpt_neox", hidden_act: "swiglu_magic" }, "hidden_act"],
    [{ model_type: "gpt_neox", rope_scaling: { type: "yarn", factor: 2 } }, "rope_scaling"],
    [{ model_type: "gpt_neox", rope_scaling: { type: "linear" } }, "rope_scaling.factor"],
    [{ model_type: "gpt_neox", eos_token_id: "2" }, "eos_token_id"],
    [{ model_type: "gptj", n_embd: null }, "n_embd"],
    [{ model_type: "gptj", n_embd: 64, n_head: 4, rotary_dim: 5 }, "rotary_dim"],
    [{ model_type: "gptj", n_embd: 64, n_head: 4, rotary_dim: 32 }, "rotary_dim"],
    [{ model_type: "gptj", layer_norm_epsilon: "1e-5" }, "layer_norm_epsilon"],
    [{ model_type: "gemma2", num_key_value_heads: 3 }, "num_key_value_heads"],
    [{ model_type: "gemma2", layer_types: ["sliding_attention"] }, "layer_types"],
    [{ model_type: "gemma2", sliding_window: "4096" }, "sliding_window"],
    [{ model_type: "gemma2", attn_logit_softcapping: "50" }, "attn_logit_softcapping"],
    [{ model_type: "gemma2", query_pre_attn_scalar: -1 }, "query_pre_attn_scalar"],
    [{ model_type: "gemma2", hidden_activation: null }, "hidden_activation"],
    [{ model_type: "gemma2", rope_parameters: "big" }, "rope_parameters"],
  ];
  for (const [raw, field] of cases) throwsNaming(() => parse(raw), ConfigError, field);
});

test("every family rejects an ill-typed head count and tie flag by field name", () => {
  const heads: Record<HFModelType, string> = {
    gpt2: "n_head", gpt_neox: "num_attention_heads", gptj: "n_head", llama: "num_attention_heads",
    mistral: "num_attention_heads", qwen2: "num_attention_heads", gemma2: "num_attention_heads",
  };
  for (const [type, field] of Object.entries(heads) as [HFModelType, string][]) {
    const { config } = buildTensors({ modelType: type, dModel: 32, nHeads: 4, nLayers: 1 });
    assert.doesNotThrow(() => parse(config), type);
    throwsNaming(() => parse({ ...config, [field]: "four" }), ConfigError, field);
    throwsNaming(() => parse({ ...config, tie_word_embeddings: "no" }), ConfigError, "tie_word_embeddings");
  }
});
