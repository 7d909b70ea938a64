/**
 * EasyEdit-style hparams files (hparams/ROME/gpt2-xl.yaml …) read onto the typed hyperparameters
 * of hparams.ts. Keys are EasyEdit's snake_case names (or our camelCase field names); keys that
 * only name PyTorch modules or devices (rewrite_module_tmp, device, stats_dir …) are accepted and
 * ignored, since scalpel's parameter names are family-independent; any other unknown key is a
 * ConfigError with a did-you-mean suggestion. Values are merged onto the defaults for the model.
 */
import YAML from "yaml";
import { ConfigError } from "../errors.js";
import type { ModelConfig } from "../model/types.js";
import { didYouMean } from "../util/closest.js";
import { alphaEditDefaults, ftDefaults, memitDefaults, romeDefaults } from "./hparams.js";
import { EDITOR_DEFINITIONS } from "./definitions.js";
import { REFERENCE_MOM2_SAMPLE } from "./mom2.js";
import type { HparamField, HparamKind } from "./types.js";

type LocateEditorName = "ft" | "ft-l" | "ft-m" | "rome" | "r-rome" | "memit" | "alphaedit";
/** An editing method's name: the locate-and-edit ones below or one of EDITOR_DEFINITIONS. */
export type EditorName = string;

const LOCATE_EDITORS: readonly LocateEditorName[] = ["ft", "ft-l", "ft-m", "rome", "r-rome", "memit", "alphaedit"];
/** The editing methods by name (registry.ts makes each one). */
export const EDITOR_NAMES: readonly EditorName[] = [...LOCATE_EDITORS, ...EDITOR_DEFINITIONS.map((d) => d.name)];

export type { HparamKind };
type Kind = HparamKind;
type FieldSpec = HparamField;

const VALUE: Record<string, FieldSpec> = {
  v_num_grad_steps: { field: "vNumGradSteps", kind: "int" },
  v_lr: { field: "vLr", kind: "number" },
  v_loss_layer: { field: "vLossLayer", kind: "int" },
  v_weight_decay: { field: "vWeightDecay", kind: "number" },
  clamp_norm_factor: { field: "clampNormFactor", kind: "number" },
  kl_factor: { field: "klFactor", kind: "number" },
  kl_prompts: { field: "klPrompts", kind: "string[]" },
  context_template_length_params: { field: "contextTemplateLengthParams", kind: "pairs" },
  context_template_seeds: { field: "contextTemplateSeeds", kind: "string[]" },
  context_template_separator: { field: "contextTemplateSeparator", kind: "string" },
  context_templates: { field: "contextTemplates", kind: "templateGroups" },
  mom2_dataset: { field: "mom2Dataset", kind: "string" },
  mom2_n_samples: { field: "mom2NSamples", kind: "int" },
  mom2_max_length: { field: "mom2MaxLength", kind: "int" },
  // "reference": ROME/MEMIT's covariance sample (mom2.ts REFERENCE_MOM2_SAMPLE); explicit
  // mom2_n_samples / mom2_max_length keys still win.
  mom2_sample: { field: "mom2Sample", kind: "mom2Sample" },
  mom2_adjustment: { field: "mom2Adjustment", kind: "bool" },
};

const SPECS: Record<string, Record<string, FieldSpec>> = {
  rome: { ...VALUE, layers: { field: "layer", kind: "int[]" }, key_mode: { field: "keyMode", kind: "keyMode" } },
  "r-rome": {},
  memit: { ...VALUE, layers: { field: "layers", kind: "int[]" }, mom2_update_weight: { field: "mom2UpdateWeight", kind: "number" } },
  alphaedit: {},
  ft: {
    layers: { field: "layers", kind: "int[]" },
    num_steps: { field: "numSteps", kind: "int" },
    lr: { field: "lr", kind: "number" },
    weight_decay: { field: "weightDecay", kind: "number" },
    norm_constraint: { field: "normConstraint", kind: "numberOrFalse" },
    objective_optimization: { field: "objective", kind: "objective" },
    batch_size: { field: "batchSize", kind: "int" },
  },
  "ft-l": {},
  "ft-m": {},
};
SPECS["r-rome"] = SPECS.rome;
SPECS.alphaedit = { ...SPECS.memit, nullspace_threshold: { field: "nullspaceThreshold", kind: "number" }, L2: { field: "L2", kind: "number" } };
SPECS["ft-l"] = SPECS.ft;
SPECS["ft-m"] = SPECS.ft;
for (const d of EDITOR_DEFINITIONS) SPECS[d.name] = d.keys;

/** Every hparams key some editor accepts (EasyEdit's snake_case names) with its value kind, so a config schema can offer them all. */
export function hparamKeyKinds(): Record<string, HparamKind> {
  const out: Record<string, HparamKind> = {};
  for (const spec of Object.values(SPECS)) for (const [key, f] of Object.entries(spec)) out[key] = f.kind;
  return out;
}

/** EasyEdit keys that name modules, devices or paths: meaningful to PyTorch code only. */
const IGNORED = new Set([
  "alg_name", "model_name", "stats_dir", "device", "rewrite_module_tmp", "layer_module_tmp", "mlp_module_tmp", "attn_module_tmp",
  "ln_f_module", "lm_head_module", "mom2_dtype", "model_parallel", "max_length", "P_loc", "fp16", "layer_selection", "fact_token",
]);

export function defaultsFor(name: EditorName, config: ModelConfig): Record<string, unknown> {
  const defined = EDITOR_DEFINITIONS.find((d) => d.name === name);
  if (defined) return { ...defined.defaults(config) };
  switch (name) {
    case "rome":
      return { ...romeDefaults(config) };
    case "r-rome":
      return { ...romeDefaults(config), keyMode: "r-rome" };
    case "memit":
      return { ...memitDefaults(config) };
    case "alphaedit":
      return { ...alphaEditDefaults(config) };
    default:
      return { ...ftDefaults(config, name as "ft" | "ft-l" | "ft-m") };
  }
}

/**
 * Hyperparameters for editor `name` on a model with `config`: the defaults, overridden by `source`
 * (YAML text, or an already parsed object). `file` names the source in errors.
 */
export function readHparams(name: EditorName, source: string | Record<string, unknown>, config: ModelConfig, file?: string): Record<string, unknown> {
  let raw: unknown;
  if (typeof source === "string") {
    try {
      raw = YAML.parse(source) ?? {};
    } catch (e) {
      throw new ConfigError("HPARAMS_YAML", `hparams are not valid YAML: ${(e as Error).message}`, { file, cause: e, fix: "fix the YAML syntax" });
    }
  } else raw = source;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ConfigError("HPARAMS_YAML", "hparams must be a mapping of keys to values", { file });
  const spec = SPECS[name];
  const byField = new Map(Object.values(spec).map((s) => [s.field, s]));
  const out = defaultsFor(name, config);
  const entries = Object.entries(raw as Record<string, unknown>);
  // The sample preset first, so that explicit keys override it whatever their order.
  entries.sort(([a], [b]) => Number(b === "mom2_sample" || b === "mom2Sample") - Number(a === "mom2_sample" || a === "mom2Sample"));
  for (const [key, value] of entries) {
    if (IGNORED.has(key)) {
      checkIgnored(key, value, file);
      continue;
    }
    const s = spec[key] ?? byField.get(key);
    if (!s) {
      const known = [...Object.keys(spec), ...byField.keys()];
      throw new ConfigError("HPARAMS_UNKNOWN_KEY", `unknown hparams key '${key}' for ${name}.${didYouMean(key, known)}`, { file, field: key, fix: `use one of: ${Object.keys(spec).join(", ")}` });
    }
    const v = convert(key, value, s.kind, file);
    if (s.field === "mom2Sample") {
      out.mom2NSamples = REFERENCE_MOM2_SAMPLE.nSamples;
      out.mom2MaxLength = Math.min(REFERENCE_MOM2_SAMPLE.maxLength, config.nCtx);
    } else if (s.field === "layer") {
      const ls = v as number[];
      if (ls.length !== 1) throw new ConfigError("HPARAMS_VALUE", `${name} edits one layer; layers has ${ls.length}`, { file, field: key, fix: "give layers: [l]" });
      out.layer = ls[0];
    } else out[s.field] = v;
  }
  checkLayers(name, out, config, file);
  return out;
}

function checkIgnored(key: string, value: unknown, file?: string): void {
  if (key === "fact_token" && value !== "subject_last") {
    throw new ConfigError("HPARAMS_VALUE", `fact_token '${String(value)}' is not supported`, { file, field: key, fix: 'use "subject_last"' });
  }
  if (key === "layer_selection" && value !== "all") {
    throw new ConfigError("HPARAMS_VALUE", `layer_selection '${String(value)}' is not supported`, { file, field: key, fix: 'use "all"' });
  }
}

function checkLayers(name: EditorName, out: Record<string, unknown>, config: ModelConfig, file?: string): void {
  const layers = "layer" in out ? [out.layer as number] : Array.isArray(out.layers) ? (out.layers as number[]) : [];
  for (const l of layers) {
    if (!(Number.isInteger(l) && l >= 0 && l < config.nLayers)) {
      throw new ConfigError("HPARAMS_VALUE", `layer ${l} does not exist (the model has ${config.nLayers} layers)`, { file, field: "layers", fix: `choose layers in 0…${config.nLayers - 1}` });
    }
  }
  if (name === "memit" || name === "alphaedit") {
    const sorted = [...layers].sort((a, b) => a - b);
    if (layers.some((l, i) => l !== sorted[i])) throw new ConfigError("HPARAMS_VALUE", "layers must be in increasing order", { file, field: "layers" });
  }
}

function convert(key: string, v: unknown, kind: Kind, file?: string): unknown {
  const bad = (want: string) => new ConfigError("HPARAMS_VALUE", `${key} must be ${want}, got ${JSON.stringify(v)}`, { file, field: key });
  // YAML reads 5e-4 as a number but "5e-1" (quoted) or 2e-2 in some dialects as a string.
  const num = (x: unknown) => (typeof x === "string" && x.trim() !== "" && !Number.isNaN(Number(x)) ? Number(x) : x);
  switch (kind) {
    case "number": {
      const n = num(v);
      if (typeof n !== "number" || !Number.isFinite(n)) throw bad("a number");
      return n;
    }
    case "int": {
      const n = num(v);
      if (!Number.isInteger(n)) throw bad("an integer");
      return n;
    }
    case "bool":
      if (typeof v === "boolean") return v;
      if (v === "True" || v === "true") return true;
      if (v === "False" || v === "false") return false;
      throw bad("true or false");
    case "string":
      if (typeof v !== "string") throw bad("a string");
      return key === "mom2_dataset" && v === "wikipedia" ? "auto" : v;
    case "int[]":
      if (!Array.isArray(v) || v.length === 0 || !v.every((x) => Number.isInteger(x))) throw bad("a non-empty list of integers");
      return v;
    case "string[]":
      if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw bad("a list of strings");
      return v;
    case "pairs":
      if (!Array.isArray(v) || !v.every((p) => Array.isArray(p) && p.length === 2 && p.every((x) => Number.isInteger(x) && x >= 0))) throw bad("a list of [length, count] pairs");
      return v;
    case "numberOrFalse": {
      if (v === false || v === "false" || v === "False") return false;
      const n = num(v);
      if (typeof n !== "number" || !(n > 0)) throw bad("a positive number or false");
      return n;
    }
    case "objective":
      if (v !== "prompt_last" && v !== "target_new") throw bad('"prompt_last" or "target_new"');
      return v;
    case "keyMode":
      if (v !== "rome" && v !== "r-rome") throw bad('"rome" or "r-rome"');
      return v;
    case "mom2Sample":
      if (v !== "reference") throw bad('"reference" (ROME/MEMIT\'s 100,000 texts of up to 1,024 tokens)');
      return v;
    case "templateGroups":
      if (!Array.isArray(v) || v.length === 0 || !v.every((g) => Array.isArray(g) && g.length > 0 && g.every((t) => typeof t === "string" && t.split("{}").length === 2))) {
        throw bad('a list of template groups, each a non-empty list of strings with one "{}" (e.g. [["{}"], ["The . {}"]])');
      }
      return v;
  }
}
