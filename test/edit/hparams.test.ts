/**
 * Editor hyperparameters: per-family defaults (EasyEdit's values at their reference depths),
 * EasyEdit YAML files mapped onto the typed configs, unknown keys and editor names rejected with a
 * did-you-mean, and the registry's editors.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, UsageError } from "../../src/errors.js";
import { alphaEditDefaults, memitDefaults, romeDefaults } from "../../src/edit/hparams.js";
import { readHparams } from "../../src/edit/hparams-yaml.js";
import { EDITOR_NAMES, getEditor } from "../../src/edit/registry.js";
import type { ModelConfig } from "../../src/model/types.js";
import { tinyModel } from "./tiny.js";

const tiny = tinyModel().config;
const like = (modelType: ModelConfig["modelType"], nLayers: number, dModel: number): ModelConfig => ({ ...tiny, modelType, nLayers, dModel });

// EasyEdit hparams/ROME/gpt2-xl.yaml, verbatim.
const ROME_GPT2_XL = `alg_name: "ROME"
model_name: "./hugging_cache/gpt2-xl"
stats_dir: "./data/stats"
device: 0
layers: [17]
fact_token: "subject_last"
v_num_grad_steps: 20
v_lr: 5e-1
v_loss_layer: 47
v_weight_decay: 0.5
clamp_norm_factor: 4
kl_factor: 0.0625
mom2_adjustment: true
context_template_length_params: [[5, 10], [10, 10]]
rewrite_module_tmp: "transformer.h.{}.mlp.c_proj"
layer_module_tmp: "transformer.h.{}"
mlp_module_tmp: "transformer.h.{}.mlp"
attn_module_tmp: "transformer.h.{}.attn"
ln_f_module: "transformer.ln_f"
lm_head_module: "transformer.wte"
mom2_dataset: "wikipedia"
mom2_n_samples: 100000
mom2_dtype: "float32"
`;

test("EasyEdit's ROME gpt2-xl.yaml maps onto RomeHparams", () => {
  const hp = readHparams("rome", ROME_GPT2_XL, like("gpt2", 48, 1600), "gpt2-xl.yaml");
  assert.equal(hp.layer, 17);
  assert.equal(hp.vNumGradSteps, 20);
  assert.equal(hp.vLr, 0.5);
  assert.equal(hp.vLossLayer, 47);
  assert.equal(hp.vWeightDecay, 0.5);
  assert.equal(hp.klFactor, 0.0625);
  assert.equal(hp.mom2Adjustment, true);
  assert.deepEqual(hp.contextTemplateLengthParams, [[5, 10], [10, 10]]);
  assert.equal(hp.mom2Dataset, "auto");
  assert.equal(hp.mom2NSamples, 100000);
  assert.equal(hp.keyMode, "rome");
  assert.equal(readHparams("r-rome", {}, tiny).keyMode, "r-rome");
});

test("unknown keys, bad values and missing layers are ConfigErrors naming the field", () => {
  assert.throws(() => readHparams("rome", "v_num_grad_step: 3\n", tiny, "h.yaml"), (e: unknown) => e instanceof ConfigError && /did you mean 'v_num_grad_steps'/i.test(e.message) && /h\.yaml/.test(e.message));
  assert.throws(() => readHparams("memit", { mom2_update_wieght: 1 }, tiny), /did you mean 'mom2_update_weight'/i);
  assert.throws(() => readHparams("rome", { layers: [17] }, tiny), (e: unknown) => e instanceof ConfigError && e.field === "layers");
  assert.throws(() => readHparams("rome", { layers: [0, 1] }, tiny), /one layer/);
  assert.throws(() => readHparams("ft", { norm_constraint: "big" }, tiny), /norm_constraint must be/);
  assert.throws(() => readHparams("rome", { fact_token: "last" }, tiny), /fact_token/);
  assert.throws(() => readHparams("memit", { layers: [2, 1] }, tiny), /increasing/);
  const ft = readHparams("ft", { norm_constraint: false, objective_optimization: "target_new", layers: [1] }, tiny);
  assert.equal(ft.normConstraint, false);
  assert.equal(ft.objective, "target_new");
  const a = readHparams("alphaedit", { nullspace_threshold: "2e-2", L2: 10 }, tiny);
  assert.equal(a.nullspaceThreshold, 0.02);
});

test("defaults follow EasyEdit at reference depth and scale to other depths", () => {
  assert.equal(romeDefaults(like("llama", 32, 4096)).layer, 5);
  assert.deepEqual(memitDefaults(like("llama", 32, 4096)).layers, [4, 5, 6, 7, 8]);
  assert.equal(memitDefaults(like("llama", 32, 4096)).mom2UpdateWeight, 15000);
  assert.equal(romeDefaults(like("gpt2", 48, 1600)).layer, 17);
  assert.deepEqual(memitDefaults(like("gpt2", 48, 1600)).layers, [13, 14, 15, 16, 17]);
  assert.equal(memitDefaults(like("gpt2", 48, 1600)).mom2UpdateWeight, 20000);
  assert.equal(romeDefaults(like("gpt2", 12, 768)).layer, 4);
  assert.equal(alphaEditDefaults(like("gpt2", 48, 1600)).nullspaceThreshold, 2e-2);
  assert.equal(alphaEditDefaults(like("gpt2", 48, 1600)).L2, 10);
});

test("getEditor knows every method and suggests the closest name for a typo", () => {
  for (const n of EDITOR_NAMES) assert.equal(getEditor(n).name, n);
  assert.equal(getEditor("r-rome").defaults(tiny).keyMode, "r-rome");
  assert.equal(getEditor("ft-l").defaults(tiny).objective, "prompt_last");
  assert.throws(() => getEditor("romee"), (e: unknown) => e instanceof UsageError && /did you mean 'rome'/i.test(e.message));
});

test("mom2_sample: reference is ROME/MEMIT's covariance sample; explicit keys still win", () => {
  const gpt2xl = { ...like("gpt2", 48, 1600), nCtx: 1024 };
  const ref = readHparams("rome", { mom2_sample: "reference" }, gpt2xl);
  assert.equal(ref.mom2NSamples, 100000);
  assert.equal(ref.mom2MaxLength, 1024);
  assert.equal(readHparams("memit", { mom2_sample: "reference" }, tiny).mom2MaxLength, tiny.nCtx, "capped at the context size");
  assert.equal(readHparams("rome", { mom2_n_samples: 50, mom2_sample: "reference" }, gpt2xl).mom2NSamples, 50, "whatever the key order");
  assert.throws(() => readHparams("rome", { mom2_sample: "big" }, tiny), /mom2_sample must be "reference"/);
});

test("context templates: ROME generates from <|endoftext|>, MEMIT from seed words; fixed groups accepted", () => {
  assert.deepEqual(romeDefaults(like("gpt2", 48, 1600)).contextTemplateSeeds, []);
  assert.deepEqual(memitDefaults(like("gpt2", 48, 1600)).contextTemplateSeeds, ["The", "Therefore", "Because", "I", "You"]);
  const fixed = readHparams("memit", { context_templates: [["{}"], ["The . {}"]] }, tiny);
  assert.deepEqual(fixed.contextTemplates, [["{}"], ["The . {}"]]);
  assert.throws(() => readHparams("rome", { context_templates: [["no slot"]] }, tiny), /context_templates must be/);
});
