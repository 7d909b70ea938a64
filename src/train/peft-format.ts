/**
 * LoRA adapters in Hugging Face PEFT's on-disk format, so adapters move between scalpel and PEFT
 * (`PeftModel.from_pretrained` / `save_pretrained`). Pure mapping, browser-safe; the Node file
 * reader/writer is train/peft-files-node.ts.
 *
 * What PEFT writes (huggingface/peft):
 *   adapter_config.json          LoraConfig as JSON (src/peft/tuners/lora/config.py; PeftConfigMixin
 *                                .save_pretrained in src/peft/config.py)
 *   adapter_model.safetensors    get_peft_model_state_dict (src/peft/utils/save_and_load.py): the
 *                                `lora_` entries of the PeftModel's state dict with the adapter name
 *                                removed (`k.replace(f".{adapter_name}", "")`), saved with metadata
 *                                {"format": "pt"} (src/peft/peft_model.py save_pretrained):
 *     base_model.model.<module>.lora_A.weight   [r, in_features]
 *     base_model.model.<module>.lora_B.weight   [out_features, r]
 *   where <module> is the module's name in the transformers model (model.named_modules()), e.g.
 *   `model.layers.3.self_attn.q_proj` (Llama) or `transformer.h.3.attn.c_attn` (GPT-2).
 *
 * The layer (src/peft/tuners/lora/layer.py, LoraLayer.update_layer / Linear.forward):
 *   lora_A = nn.Linear(in_features, r), lora_B = nn.Linear(r, out_features), both bias-free;
 *   scaling = lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora;
 *   y = base(x) + lora_B(lora_A(dropout(x))) · scaling = x·Wᵀ + scaling · x·A_wᵀ·B_wᵀ.
 * scalpel's matrices are [d_in, d_out] (x·W), so scalpel A = lora_A.weightᵀ [d_in, r] and
 * B = lora_B.weightᵀ [r, d_out]. GPT-2's Conv1D layers store their weight as [in, out], but PEFT
 * still builds lora_A/lora_B as nn.Linear with (in_features, out_features) = weight.shape and sets
 * fan_in_fan_out = True (src/peft/tuners/lora/model.py / layer.py dispatch_default: "fan_in_fan_out
 * is set to False but the target module is `Conv1D`. Setting fan_in_fan_out to True."), which only
 * transposes the merged delta — the saved factors have the same layout as for nn.Linear.
 *
 * Per-module rank and alpha: LoraConfig.rank_pattern / alpha_pattern map a regex key to r / alpha;
 * LoraModel._create_and_replace (src/peft/tuners/lora/model.py) picks the first key k, in dict
 * order, for which `re.match(rf"(.*\.)?({k})$", module_name)` matches (get_pattern_key,
 * src/peft/utils/other.py), else config.r / config.lora_alpha. scalpel writes keys that are the
 * module name without its first segment (`layers.3.self_attn.q_proj`, `h.3.attn.c_attn`), which
 * both this rule and older PEFT's `re.match(rf".*\.{k}$", name)` resolve to exactly that module.
 *
 * Module ↔ scalpel parameter:
 *   llama / mistral / qwen2 / gemma2   model.layers.{l}.self_attn.{q,k,v,o}_proj  ↔ blocks.{l}.attn.W_Q/W_K/W_V/W_O
 *                                      model.layers.{l}.mlp.{gate,up,down}_proj    ↔ blocks.{l}.mlp.W_gate/W_in/W_out
 *   gpt2                               transformer.h.{l}.attn.c_attn (q|k|v fused along out_features)
 *                                                                 ↔ blocks.{l}.attn.W_Q, W_K, W_V
 *                                      transformer.h.{l}.attn.c_proj ↔ W_O, mlp.c_fc ↔ W_in, mlp.c_proj ↔ W_out
 * GPT-2's c_attn LoRA is one A and one B [3·d, r]: on load W_Q/W_K/W_V share A and take B's thirds.
 * Unless B is all zero (a fresh adapter: then every third keeps every component), each third keeps
 * only the rank components whose B rows are nonzero in it — exact, the others add nothing there —
 * and a third left with none is no target; so a block-structured c_attn (see below) comes back as
 * the targets it was made from, and an all-zero B as all three targets. On save, separate Q/K/V targets with one identical A and scale become one c_attn LoRA
 * of rank r; otherwise a block construction of rank Σr_t (A stacked, B block-diagonal, missing
 * targets zero), its rank and alpha in rank_pattern / alpha_pattern, and each target's scale kept
 * by folding s_t / s_c into its B block (ΔW equal to float rounding).
 *
 * target_modules lists module suffixes (q_proj, v_proj; attn.c_proj / mlp.c_proj when only one of
 * GPT-2's two c_proj is adapted). PEFT then wraps those modules in every layer; a module without
 * saved tensors keeps PEFT's init (B = 0), i.e. no change.
 */
import { CheckpointError, ConfigError, UnsupportedArchitectureError } from "../errors.js";
import { isJsonObject } from "../io/json-parse.js";
import type { HostF32 } from "../model/patch.js";
import type { ModelConfig } from "../model/types.js";
import { loraScale, type LoraAdapter, type LoraFactors } from "../model/modules/lora.js";

export const PEFT_CONFIG_FILE = "adapter_config.json";
export const PEFT_WEIGHTS_FILE = "adapter_model.safetensors";
/** The prefix PeftModel's state dict puts before the transformers module name. */
export const PEFT_KEY_PREFIX = "base_model.model.";

/** Model types whose modules scalpel can name in PEFT's terms. */
export const PEFT_SUPPORTED_MODEL_TYPES = ["llama", "mistral", "qwen2", "gemma2", "gpt2"] as const;

/** One module PEFT can wrap, and the scalpel parameters its output columns feed. */
export interface PeftModule {
  /** Module name in the transformers model, e.g. "model.layers.0.self_attn.q_proj". */
  path: string;
  /** The rank_pattern / alpha_pattern key scalpel writes for it ("layers.0.self_attn.q_proj"). */
  patternKey: string;
  /** What target_modules names it by ("q_proj", "c_attn", "attn.c_proj"). */
  suffix: string;
  layer: number;
  inFeatures: number;
  outFeatures: number;
  /** Scalpel parameters fed by column ranges [from, to) of out_features, in order. */
  parts: { target: string; from: number; to: number }[];
}

/** A tensor as PEFT stores it (row-major float32). */
export type PeftTensor = HostF32;

export interface PeftAdapterFiles {
  /** adapter_config.json's content. */
  config: Record<string, unknown>;
  /** adapter_model.safetensors' tensors by key. */
  tensors: Record<string, PeftTensor>;
}

export interface PeftSaveOptions {
  /** base_model_name_or_path (the HF hub id or path of the base model). Default null. */
  baseModel?: string;
}

/** Where errors point: the files' paths (or names). */
export interface PeftFileLabels {
  config?: string;
  weights?: string;
}

function unsupported(config: ModelConfig): UnsupportedArchitectureError {
  return new UnsupportedArchitectureError(
    "PEFT_UNSUPPORTED_FAMILY",
    `PEFT adapters are not supported for model_type ${JSON.stringify(config.modelType)}: scalpel maps PEFT module names only for ${PEFT_SUPPORTED_MODEL_TYPES.join(", ")}`,
    { field: "model_type", fix: `use a ${PEFT_SUPPORTED_MODEL_TYPES.join("/")} model, or merge the adapter (mergeLora) and save the model instead` },
  );
}

/** Every module of `config`'s model a PEFT LoRA can target, in layer order. */
export function peftModules(config: ModelConfig): PeftModule[] {
  const { dModel: d, nHeads, nKVHeads, dHead, dMlp, nLayers } = config;
  const q = nHeads * dHead;
  const kv = nKVHeads * dHead;
  const out: PeftModule[] = [];
  const one = (target: string, n: number) => [{ target, from: 0, to: n }];
  switch (config.modelType) {
    case "llama":
    case "mistral":
    case "qwen2":
    case "gemma2":
      for (let l = 0; l < nLayers; l++) {
        const b = `blocks.${l}.`;
        const rows: [string, string, number, number][] = [
          ["self_attn.q_proj", "attn.W_Q", d, q],
          ["self_attn.k_proj", "attn.W_K", d, kv],
          ["self_attn.v_proj", "attn.W_V", d, kv],
          ["self_attn.o_proj", "attn.W_O", q, d],
          ["mlp.gate_proj", "mlp.W_gate", d, dMlp],
          ["mlp.up_proj", "mlp.W_in", d, dMlp],
          ["mlp.down_proj", "mlp.W_out", dMlp, d],
        ];
        for (const [m, ours, i, o] of rows) {
          out.push({
            path: `model.layers.${l}.${m}`,
            patternKey: `layers.${l}.${m}`,
            suffix: m.split(".")[1]!,
            layer: l,
            inFeatures: i,
            outFeatures: o,
            parts: one(b + ours, o),
          });
        }
      }
      return out;
    case "gpt2":
      for (let l = 0; l < nLayers; l++) {
        const b = `blocks.${l}.`;
        const mod = (m: string, suffix: string, i: number, o: number, parts: PeftModule["parts"]): PeftModule => ({
          path: `transformer.h.${l}.${m}`,
          patternKey: `h.${l}.${m}`,
          suffix,
          layer: l,
          inFeatures: i,
          outFeatures: o,
          parts,
        });
        out.push(
          mod("attn.c_attn", "c_attn", d, q + 2 * kv, [
            { target: b + "attn.W_Q", from: 0, to: q },
            { target: b + "attn.W_K", from: q, to: q + kv },
            { target: b + "attn.W_V", from: q + kv, to: q + 2 * kv },
          ]),
          mod("attn.c_proj", "attn.c_proj", q, d, one(b + "attn.W_O", d)),
          mod("mlp.c_fc", "c_fc", d, dMlp, one(b + "mlp.W_in", dMlp)),
          mod("mlp.c_proj", "mlp.c_proj", dMlp, d, one(b + "mlp.W_out", d)),
        );
      }
      return out;
    default:
      throw unsupported(config);
  }
}

/**
 * PEFT's choice of a rank_pattern / alpha_pattern key for module `name` (get_pattern_key,
 * src/peft/utils/other.py): the first key k with `re.match(rf"(.*\.)?({k})$", name)`.
 */
export function peftPatternKey(keys: readonly string[], name: string, file = PEFT_CONFIG_FILE, field = "rank_pattern"): string | undefined {
  for (const k of keys) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:.*\\.)?(?:${k})$`);
    } catch (e) {
      throw new ConfigError("PEFT_CONFIG", `${field} key ${JSON.stringify(k)} is not a regular expression scalpel can read (${(e as Error).message})`, {
        file,
        field: `${field}.${k}`,
        fix: "use a plain module name or a simple regex (no Python-only syntax such as (?P<name>…))",
        cause: e,
      });
    }
    if (re.test(name)) return k;
  }
  return undefined;
}

const tr = (t: HostF32): HostF32 => {
  const [rows, cols] = t.shape as [number, number];
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[j * rows + i] = t.data[i * cols + j]!;
  return { shape: [cols, rows], data };
};

const sameData = (a: Float32Array, b: Float32Array) => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
};

function targetError(name: string, message: string, fix: string): ConfigError {
  return new ConfigError("PEFT_TARGET", message, { field: `targets.${name}`, fix });
}

// ─── scalpel → PEFT ──────────────────────────────────────────────────────────────────────────────

/**
 * The PEFT files (config JSON and tensors) for `adapter` on a model of `config`. Throws
 * UnsupportedArchitectureError for families PEFT names cannot be given for, ConfigError
 * (PEFT_TARGET) for a target that is not a LoRA-able projection of this model or has wrong shapes.
 */
export function adapterToPeft(adapter: LoraAdapter, config: ModelConfig, options: PeftSaveOptions = {}): PeftAdapterFiles {
  const modules = peftModules(config);
  const { rank, alpha } = adapter;
  if (!(Number.isInteger(rank) && rank >= 1)) throw new ConfigError("PEFT_TARGET", `adapter rank must be a positive integer, got ${rank}`, { field: "rank", fix: "give the adapter an integer rank ≥ 1" });
  if (!Number.isFinite(alpha)) throw new ConfigError("PEFT_TARGET", `adapter alpha must be a finite number, got ${alpha}`, { field: "alpha", fix: "give the adapter a finite alpha" });
  if (Object.keys(adapter.targets).length === 0) throw new ConfigError("PEFT_TARGET", "the adapter has no targets; PEFT would load it as no change at all", { field: "targets", fix: "save an adapter with at least one target" });
  const byTarget = new Map<string, { module: PeftModule; part: number }>();
  for (const m of modules) m.parts.forEach((p, i) => byTarget.set(p.target, { module: m, part: i }));

  // Check every target and compute its scale.
  const scales = new Map<string, number>();
  for (const [name, f] of Object.entries(adapter.targets)) {
    const where = byTarget.get(name);
    if (!where) {
      throw targetError(name, `LoRA target ${name} has no PEFT module in a ${config.modelType} model with ${config.nLayers} layers`, "PEFT adapters cover attn.W_Q/W_K/W_V/W_O and mlp.W_in/W_gate/W_out (W_gate on gated MLPs only); drop the target or merge the adapter instead");
    }
    const part = where.module.parts[where.part]!;
    const dIn = where.module.inFeatures;
    const dOut = part.to - part.from;
    const r = f.A.shape[1];
    if (f.A.shape.length !== 2 || f.B.shape.length !== 2 || f.A.shape[0] !== dIn || f.B.shape[1] !== dOut || f.B.shape[0] !== r || !(Number.isInteger(r) && r! >= 1)) {
      throw targetError(name, `LoRA target ${name} has A [${f.A.shape}] and B [${f.B.shape}]; this model needs A [${dIn}, r] and B [r, ${dOut}]`, "build the adapter for this model (initLora)");
    }
    if (f.A.data.length !== dIn * r! || f.B.data.length !== r! * dOut) throw targetError(name, `LoRA target ${name}: data length does not match its shape`, "rebuild the adapter");
    const s = f.scale ?? loraScale(adapter);
    if (!Number.isFinite(s)) throw targetError(name, `LoRA target ${name} has scale ${s}`, "give it a finite scale");
    scales.set(name, s);
  }

  const tensors: Record<string, PeftTensor> = {};
  const rankPattern: Record<string, number> = {};
  const alphaPattern: Record<string, number> = {};
  const used: PeftModule[] = [];
  const emitted = new Map<string, { r: number; scale: number }>();
  const emit = (m: PeftModule, A: HostF32, B: HostF32, s: number) => {
    const r = A.shape[1]!;
    tensors[`${PEFT_KEY_PREFIX}${m.path}.lora_A.weight`] = tr(A);
    tensors[`${PEFT_KEY_PREFIX}${m.path}.lora_B.weight`] = tr(B);
    if (r !== rank) rankPattern[m.patternKey] = r;
    // PEFT's scaling is alpha_t / r_t: give alpha_t = s·r_t where α / r_t is not already s.
    if (alpha / r !== s) alphaPattern[m.patternKey] = s * r;
    used.push(m);
    emitted.set(m.path, { r, scale: s });
  };

  for (const m of modules) {
    const present = m.parts.filter((p) => adapter.targets[p.target]);
    if (present.length === 0) continue;
    if (m.parts.length === 1) {
      const f = adapter.targets[m.parts[0]!.target]!;
      emit(m, f.A, f.B, scales.get(m.parts[0]!.target)!);
      continue;
    }
    // GPT-2 c_attn: Q, K, V share one LoRA.
    const fs = present.map((p) => ({ p, f: adapter.targets[p.target]!, s: scales.get(p.target)! }));
    const first = fs[0]!;
    const shared = fs.every(({ f, s }) => s === first.s && f.A.shape[1] === first.f.A.shape[1] && sameData(f.A.data, first.f.A.data));
    const dIn = m.inFeatures;
    const dOut = m.outFeatures;
    if (shared) {
      const r = first.f.A.shape[1]!;
      const B = new Float32Array(r * dOut);
      for (const { p, f } of fs) {
        const w = p.to - p.from;
        for (let k = 0; k < r; k++) B.set(f.B.data.subarray(k * w, (k + 1) * w), k * dOut + p.from);
      }
      emit(m, { shape: [dIn, r], data: Float32Array.from(first.f.A.data) }, { shape: [r, dOut], data: B }, first.s);
    } else {
      const R = fs.reduce((n, { f }) => n + f.A.shape[1]!, 0);
      const sc = first.s;
      const A = new Float32Array(dIn * R);
      const B = new Float32Array(R * dOut);
      let off = 0;
      for (const { p, f, s } of fs) {
        const r = f.A.shape[1]!;
        const w = p.to - p.from;
        const fold = s / sc;
        for (let i = 0; i < dIn; i++) for (let k = 0; k < r; k++) A[i * R + off + k] = f.A.data[i * r + k]!;
        for (let k = 0; k < r; k++) {
          for (let j = 0; j < w; j++) B[(off + k) * dOut + p.from + j] = fold === 1 ? f.B.data[k * w + j]! : Math.fround(fold * f.B.data[k * w + j]!);
        }
        off += r;
      }
      emit(m, { shape: [dIn, R], data: A }, { shape: [R, dOut], data: B }, sc);
    }
  }

  // The pattern keys must resolve, under PEFT's rule, to what each emitted module needs.
  const rKeys = Object.keys(rankPattern);
  const aKeys = Object.keys(alphaPattern);
  for (const m of used) {
    const rk = peftPatternKey(rKeys, m.path);
    const ak = peftPatternKey(aKeys, m.path);
    const r = rk === undefined ? rank : rankPattern[rk]!;
    const a = ak === undefined ? alpha : alphaPattern[ak]!;
    const want = emitted.get(m.path)!;
    if (r !== want.r || Math.abs(a / r - want.scale) > 1e-12 * Math.max(1, Math.abs(want.scale))) {
      throw new Error(`internal: rank_pattern/alpha_pattern would give ${m.path} r=${r}, alpha=${a}; it needs r=${want.r}, scale ${want.scale}`);
    }
  }

  // target_modules: suffixes; GPT-2's two c_proj are qualified unless both are adapted.
  const suffixes = new Set(used.map((m) => m.suffix));
  if (suffixes.has("attn.c_proj") && suffixes.has("mlp.c_proj")) {
    suffixes.delete("attn.c_proj");
    suffixes.delete("mlp.c_proj");
    suffixes.add("c_proj");
  }
  const order = modules.slice(0, modules.length / Math.max(1, config.nLayers)).map((m) => m.suffix);
  const rankOf = (s: string) => (s === "c_proj" ? order.indexOf("attn.c_proj") : order.indexOf(s));
  const targetModules = [...suffixes].sort((a, b) => rankOf(a) - rankOf(b));

  // Field order and defaults as LoraConfig writes them (src/peft/tuners/lora/config.py).
  const peftConfig: Record<string, unknown> = {
    alpha_pattern: alphaPattern,
    auto_mapping: null,
    base_model_name_or_path: options.baseModel ?? null,
    bias: "none",
    fan_in_fan_out: config.modelType === "gpt2",
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: alpha,
    lora_dropout: adapter.dropout ?? 0,
    modules_to_save: null,
    peft_type: "LORA",
    r: rank,
    rank_pattern: rankPattern,
    revision: null,
    target_modules: targetModules,
    task_type: "CAUSAL_LM",
    use_dora: false,
    use_rslora: false,
  };
  return { config: peftConfig, tensors };
}

// ─── PEFT → scalpel ──────────────────────────────────────────────────────────────────────────────

interface ParsedPeftConfig {
  r: number;
  alpha: number;
  dropout: number;
  rslora: boolean;
  rankPattern: Record<string, number>;
  alphaPattern: Record<string, number>;
  baseModel?: string;
}

/**
 * Validate adapter_config.json. Defaults are LoraConfig's (r 8, lora_alpha 8, lora_dropout 0,
 * bias "none", use_rslora / use_dora false). Fields scalpel does not use are ignored.
 */
export function parsePeftConfig(raw: unknown, file = PEFT_CONFIG_FILE): ParsedPeftConfig {
  const err = (field: string, message: string, fix: string) => new ConfigError("PEFT_CONFIG", message, { file, field, fix });
  if (!isJsonObject(raw)) throw err("$", "a PEFT adapter config must be a JSON object", "give the adapter_config.json PEFT's save_pretrained wrote");
  const peftType = raw["peft_type"];
  if (peftType !== "LORA") {
    throw err("peft_type", `peft_type is ${JSON.stringify(peftType ?? null)}; scalpel reads only LoRA adapters (peft_type "LORA")`, "give a LoRA adapter, or convert this adapter to LoRA (merge it into the base model) first");
  }
  const bool = (k: string, def: boolean): boolean => {
    const v = raw[k];
    if (v === undefined || v === null) return def;
    if (typeof v !== "boolean") throw err(k, `${k} must be true or false, got ${JSON.stringify(v)}`, `set ${k} to true or false`);
    return v;
  };
  if (bool("use_dora", false)) {
    throw err("use_dora", "use_dora is true: DoRA adapters rescale the merged weight by a learned magnitude, which scalpel's LoRA does not implement", "train a plain LoRA adapter (use_dora false), or merge the DoRA adapter into the base model in PEFT (merge_and_unload) and load that model");
  }
  if (bool("lora_bias", false)) {
    throw err("lora_bias", "lora_bias is true: the adapter trains a bias on lora_B, which scalpel's LoRA does not have", "train with lora_bias false, or merge the adapter in PEFT and load the merged model");
  }
  const bias = raw["bias"];
  if (bias !== undefined && bias !== null && bias !== "none") {
    throw err("bias", `bias is ${JSON.stringify(bias)}: the adapter also changes bias vectors of the base model, which a LoRA adapter in scalpel cannot carry`, `train with bias "none", or merge the adapter in PEFT (merge_and_unload) and load the merged model`);
  }
  const mts = raw["modules_to_save"];
  if (mts !== undefined && mts !== null && !(Array.isArray(mts) && mts.length === 0)) {
    throw err("modules_to_save", `modules_to_save is ${JSON.stringify(mts)}: the adapter carries fully trained copies of those modules, which scalpel's LoRA cannot hold`, "train without modules_to_save, or merge the adapter in PEFT (merge_and_unload) and load the merged model");
  }
  const num = (k: string, def: number, ok: (v: number) => boolean, what: string): number => {
    const v = raw[k];
    if (v === undefined || v === null) return def;
    if (typeof v !== "number" || !ok(v)) throw err(k, `${k} must be ${what}, got ${JSON.stringify(v)}`, `set ${k} to ${what}`);
    return v;
  };
  const posInt = (v: number) => Number.isInteger(v) && v >= 1;
  const r = num("r", 8, posInt, "a positive integer");
  const alpha = num("lora_alpha", 8, Number.isFinite, "a finite number");
  const dropout = num("lora_dropout", 0, (v) => v >= 0 && v < 1, "a number in [0, 1)");
  const rslora = bool("use_rslora", false);
  const pattern = (k: string, ok: (v: number) => boolean, what: string): Record<string, number> => {
    const v = raw[k];
    if (v === undefined || v === null) return {};
    if (!isJsonObject(v)) throw err(k, `${k} must be an object mapping module names to numbers, got ${JSON.stringify(v)}`, `write ${k} as {"module.name": value}, or {}`);
    const out: Record<string, number> = {};
    for (const [key, val] of Object.entries(v)) {
      if (typeof val !== "number" || !ok(val)) throw err(`${k}.${key}`, `${k}[${JSON.stringify(key)}] must be ${what}, got ${JSON.stringify(val)}`, `set it to ${what}`);
      out[key] = val;
      peftPatternKey([key], "", file, k); // the key must compile
    }
    return out;
  };
  const rankPattern = pattern("rank_pattern", posInt, "a positive integer");
  const alphaPattern = pattern("alpha_pattern", Number.isFinite, "a finite number");
  const base = raw["base_model_name_or_path"];
  return { r, alpha, dropout, rslora, rankPattern, alphaPattern, ...(typeof base === "string" && base !== "" ? { baseModel: base } : {}) };
}

/**
 * A scalpel LoraAdapter from PEFT's files, for a model of `config`. Config problems are
 * ConfigError (PEFT_CONFIG), tensor problems CheckpointError (PEFT_TENSOR), an unsupported family
 * UnsupportedArchitectureError. A target's `scale` is set where PEFT's scaling for it (rank_pattern,
 * alpha_pattern, use_rslora) differs from the adapter's lora_alpha / r.
 */
export function adapterFromPeft(rawConfig: unknown, tensors: Record<string, PeftTensor>, config: ModelConfig, files: PeftFileLabels = {}): LoraAdapter {
  const cfgFile = files.config ?? PEFT_CONFIG_FILE;
  const wFile = files.weights ?? PEFT_WEIGHTS_FILE;
  const modules = peftModules(config);
  const parsed = parsePeftConfig(rawConfig, cfgFile);
  const terr = (field: string, message: string, fix: string) => new CheckpointError("PEFT_TENSOR", message, { file: wFile, field, fix });

  const byPath = new Map(modules.map((m) => [m.path, m]));
  const found = new Map<string, { A?: PeftTensor; B?: PeftTensor }>();
  for (const [key, t] of Object.entries(tensors)) {
    const m = /^base_model\.model\.(.+)\.lora_(A|B)\.weight$/.exec(key);
    if (!m) {
      if (/lora_magnitude_vector/.test(key)) throw terr(key, `tensor ${key} is a DoRA magnitude vector`, "give a plain LoRA adapter (use_dora false)");
      if (/\.bias$/.test(key)) throw terr(key, `tensor ${key} is a bias, which scalpel's LoRA cannot carry`, `save the adapter with bias "none" and lora_bias false`);
      if (/^base_model\.model\..+\.lora_[AB]\.[^.]+\.weight$/.test(key)) throw terr(key, `tensor ${key} still has an adapter name in it`, "save the adapter with PEFT's save_pretrained, which removes the adapter name from the keys");
      throw terr(key, `tensor ${key} is not a LoRA factor (expected base_model.model.<module>.lora_A.weight / .lora_B.weight)`, "give an adapter_model.safetensors written by PEFT for a LoRA adapter, without embedding or modules_to_save tensors");
    }
    const path = m[1]!;
    const mod = byPath.get(path);
    if (!mod) {
      const example = modules[0]?.path ?? "";
      throw terr(key, `tensor ${key} adapts module ${path}, which this ${config.modelType} model (${config.nLayers} layers) does not have`, `use an adapter trained for this base model (module names like ${example}); scalpel maps attention and MLP projections only`);
    }
    const e = found.get(path) ?? {};
    e[m[2] as "A" | "B"] = t;
    found.set(path, e);
  }
  if (found.size === 0) throw terr("$", "the adapter holds no LoRA tensors", "give the adapter_model.safetensors PEFT saved with the adapter");

  const rKeys = Object.keys(parsed.rankPattern);
  const aKeys = Object.keys(parsed.alphaPattern);
  const base = loraScale({ rank: parsed.r, alpha: parsed.alpha });
  const targets: Record<string, LoraFactors> = {};
  for (const mod of modules) {
    const e = found.get(mod.path);
    if (!e) continue;
    const keyA = `${PEFT_KEY_PREFIX}${mod.path}.lora_A.weight`;
    const keyB = `${PEFT_KEY_PREFIX}${mod.path}.lora_B.weight`;
    if (!e.A) throw terr(keyA, `${keyB} has no matching ${keyA}`, "give both LoRA factors of every adapted module");
    if (!e.B) throw terr(keyB, `${keyA} has no matching ${keyB}`, "give both LoRA factors of every adapted module");
    const rk = peftPatternKey(rKeys, mod.path, cfgFile, "rank_pattern");
    const ak = peftPatternKey(aKeys, mod.path, cfgFile, "alpha_pattern");
    const r = rk === undefined ? parsed.r : parsed.rankPattern[rk]!;
    const alpha = ak === undefined ? parsed.alpha : parsed.alphaPattern[ak]!;
    const shapeFix = `the adapter must match this base model (in ${mod.inFeatures}, out ${mod.outFeatures}) and its config's r${rk === undefined ? "" : ` (rank_pattern ${JSON.stringify(rk)})`}`;
    const check = (key: string, t: PeftTensor, want: [number, number]) => {
      if (t.shape.length !== 2 || t.shape[0] !== want[0] || t.shape[1] !== want[1] || t.data.length !== want[0] * want[1]) {
        throw terr(key, `tensor ${key} has shape [${t.shape}]; expected [${want}]`, shapeFix);
      }
    };
    check(keyA, e.A, [r, mod.inFeatures]);
    check(keyB, e.B, [mod.outFeatures, r]);
    const scaling = parsed.rslora ? alpha / Math.sqrt(r) : alpha / r;
    const withScale = (f: LoraFactors): LoraFactors => (scaling === base ? f : { ...f, scale: scaling });
    const A = tr(e.A); // [in, r]
    const B = tr(e.B); // [r, out]
    if (mod.parts.length === 1) {
      targets[mod.parts[0]!.target] = withScale({ A, B });
      continue;
    }
    // Fused c_attn: split B's columns; keep, per part, the components that are nonzero there or
    // zero in every part (see the header).
    const rowNonzero = (k: number, from: number, to: number) => {
      for (let j = from; j < to; j++) if (B.data[k * mod.outFeatures + j] !== 0) return true;
      return false;
    };
    const nz = mod.parts.map((p) => Array.from({ length: r }, (_, k) => rowNonzero(k, p.from, p.to)));
    const anywhere = Array.from({ length: r }, (_, k) => nz.some((row) => row[k]));
    const allZero = !anywhere.some(Boolean);
    mod.parts.forEach((p, pi) => {
      const keep = allZero ? Array.from({ length: r }, (_, k) => k) : Array.from({ length: r }, (_, k) => k).filter((k) => nz[pi]![k]);
      if (keep.length === 0) return;
      const rr = keep.length;
      const w = p.to - p.from;
      const a = new Float32Array(mod.inFeatures * rr);
      const b = new Float32Array(rr * w);
      for (let i = 0; i < mod.inFeatures; i++) keep.forEach((k, c) => (a[i * rr + c] = A.data[i * r + k]!));
      keep.forEach((k, c) => b.set(B.data.subarray(k * mod.outFeatures + p.from, k * mod.outFeatures + p.to), c * w));
      targets[p.target] = withScale({ A: { shape: [mod.inFeatures, rr], data: a }, B: { shape: [rr, w], data: b } });
    });
  }
  return {
    rank: parsed.r,
    alpha: parsed.alpha,
    dropout: parsed.dropout,
    targets,
    ...(parsed.baseModel ? { info: { method: "lora", format: "peft", baseModel: parsed.baseModel } } : {}),
  };
}
