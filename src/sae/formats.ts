/**
 * Converting between scalpel's `Dictionary` and the files other tools publish: SAELens folders
 * (cfg.json + sae_weights.safetensors) and Gemma Scope's params.npz. Browser-safe: these functions
 * take and return parsed JSON and host tensors; reading and writing files is formats-node.ts.
 *
 * SAELens (https://github.com/jbloomAus/SAELens, now decoderesearch/SAELens), as of v6:
 *   - sae_lens/saes/sae.py `SAEConfig`: d_in, d_sae, dtype, device, apply_b_dec_to_input (default
 *     True), normalize_activations ("none" | "expected_average_only_in" | "constant_norm_rescale" |
 *     "layer_norm"), reshape_activations ("none" | "hook_z"); `process_sae_in` subtracts
 *     b_dec · apply_b_dec_to_input from the input, which is our b_in.
 *   - hook names: flat `hook_name` (pre-6 files, `hook_point` before that) or `metadata.hook_name`
 *     / `meta.hook_name` (v6 SAEMetadata).
 *   - architectures (sae_lens/saes/*.py): "standard" (ReLU), "jumprelu" (ReLU(pre)·1[pre > θ],
 *     tensor `threshold`), "topk" (TopKSAEConfig.k; pre-6 files say activation_fn "topk" with
 *     activation_fn_kwargs {k}), "transcoder" / "jumprelu_transcoder" (transcoder.py
 *     `TranscoderConfig`: d_out, hook_name_out; `process_sae_in` never subtracts b_dec, whose
 *     size is d_out).
 *   - loading/pretrained_sae_loaders.py `handle_pre_6_0_config`: renames activation_fn_str →
 *     activation_fn, maps bool normalize_activations (True → "expected_average_only_in").
 * `load_state_dict` is strict there, so a tensor we do not know is refused here too rather than
 * dropped: a W_skip or b_gate that is ignored would silently change what the dictionary computes.
 *
 * Gemma Scope (google/gemma-scope-* on Hugging Face; loader: pretrained_sae_loaders.py
 * `gemma_2_sae_huggingface_loader`): params.npz with W_enc [d_model, d_sae], W_dec [d_sae, d_model],
 * b_enc, b_dec, threshold; JumpReLU with apply_b_dec_to_input False.
 */
import { CheckpointError, ConfigError } from "../errors.js";
import { isJsonObject } from "../io/json-parse.js";
import type { HostTensor } from "../io/host-tensor.js";
import type { HostF32 } from "../model/patch.js";
import { checkDictionary, type Dictionary, type DictionaryActivation } from "./dictionary.js";

export const SAELENS_CFG = "cfg.json";
export const SAELENS_WEIGHTS = "sae_weights.safetensors";

/** Architectures by SAELens name: which kind and activation they are. */
const ARCHITECTURES: Record<string, { kind: Dictionary["kind"]; activation: "relu" | "topk" | "jumprelu" }> = {
  standard: { kind: "sae", activation: "relu" },
  jumprelu: { kind: "sae", activation: "jumprelu" },
  topk: { kind: "sae", activation: "topk" },
  transcoder: { kind: "transcoder", activation: "relu" },
  jumprelu_transcoder: { kind: "transcoder", activation: "jumprelu" },
};

/** Why the architectures scalpel cannot represent are refused (beyond "unknown"). */
const UNSUPPORTED_WHY: Record<string, string> = {
  gated: "a gated SAE has a separate gating path (b_gate, r_mag, b_mag) that a Dictionary does not model",
  skip_transcoder: "a skip transcoder adds W_skip·x to its output, which a Dictionary does not model",
  batchtopk: "BatchTopK selects the top k over a whole batch, not per token",
  matryoshka_batchtopk: "BatchTopK selects the top k over a whole batch, not per token",
};

/** The file names an error points at: the folder's cfg.json and its weights file. */
export interface SaeLensPaths {
  cfg: string;
  weights: string;
}

function cfgError(field: string, message: string, file: string, fix: string): ConfigError {
  return new ConfigError("SAELENS_CFG", message, { file, field, fix });
}

/** Read SAELens' activation from either the v6 or the pre-6 config layout. */
function activationOf(cfg: Record<string, unknown>, arch: string, base: "relu" | "topk" | "jumprelu", file: string): DictionaryActivation {
  const fn = cfg.activation_fn ?? cfg.activation_fn_str ?? "relu";
  const kwargs = isJsonObject(cfg.activation_fn_kwargs) ? cfg.activation_fn_kwargs : {};
  const type = base === "relu" && fn === "topk" ? "topk" : base;
  if (type !== "topk" && fn !== "relu") {
    throw cfgError("activation_fn", `activation ${JSON.stringify(fn)} of a ${arch} SAE is not supported (only relu, topk and jumprelu are)`, file,
      "use an SAE trained with a ReLU, TopK or JumpReLU activation");
  }
  if (type !== "topk") return { type };
  const k = cfg.k ?? kwargs.k;
  if (typeof k !== "number" || !Number.isInteger(k) || k < 1) {
    throw cfgError("k", `a TopK SAE needs a positive integer k (cfg.k or activation_fn_kwargs.k), got ${JSON.stringify(k)}`, file, "set k in cfg.json");
  }
  return { type: "topk", k };
}

function positiveInt(cfg: Record<string, unknown>, key: string, file: string): number {
  const v = cfg[key];
  if (v === undefined) throw cfgError(key, `${key} is missing`, file, `add "${key}" (an integer) to cfg.json`);
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw cfgError(key, `${key} must be a positive integer, got ${JSON.stringify(v)}`, file, `fix "${key}" in cfg.json`);
  return v;
}

function hookName(cfg: Record<string, unknown>, flat: string[], file: string, fix: string): string {
  const meta = [cfg.metadata, cfg.meta].filter(isJsonObject);
  for (const v of [...flat.map((k) => cfg[k]), ...meta.map((m) => m[flat[0]!])]) if (typeof v === "string" && v.length > 0) return v;
  throw cfgError(flat[0]!, `${flat[0]} is missing (looked for ${flat.join(", ")} and metadata.${flat[0]})`, file, fix);
}

/** A float host tensor as float32; integer or bool tensors are refused. */
export function asF32(t: HostTensor, name: string, file: string): HostF32 {
  if (t.dtype === "float32") return { shape: [...t.shape], data: t.data };
  if (t.dtype === "float64") return { shape: [...t.shape], data: Float32Array.from(t.data) };
  throw new CheckpointError("DICTIONARY_TENSOR_DTYPE", `tensor ${name} is ${t.dtype}, not floating point`, { file, field: name, fix: "store dictionary weights as float32, float16 or bfloat16" });
}

/** Pick the named tensors, refusing missing required ones and any tensor nobody asked for. */
function take(tensors: Record<string, HostTensor>, required: string[], optional: string[], file: string, what: string): Record<string, HostF32> {
  const out: Record<string, HostF32> = {};
  for (const name of Object.keys(tensors)) {
    if (!required.includes(name) && !optional.includes(name)) {
      throw new CheckpointError("DICTIONARY_TENSOR_UNKNOWN", `unexpected tensor ${name} in a ${what} (expected ${[...required, ...optional].join(", ")})`, {
        file,
        field: name,
        fix: "this file holds a dictionary architecture scalpel does not implement; ignoring the tensor would change what it computes",
      });
    }
    out[name] = asF32(tensors[name]!, name, file);
  }
  for (const name of required) {
    if (!out[name]) throw new CheckpointError("DICTIONARY_TENSOR_MISSING", `tensor ${name} is missing from a ${what}`, { file, field: name, fix: "re-export the dictionary with all its weights" });
  }
  return out;
}

/** checkDictionary, with its shape errors turned into a CheckpointError naming the file. */
export function checkLoaded(d: Dictionary, file: string): Dictionary {
  try {
    checkDictionary(d, file);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new CheckpointError("DICTIONARY_SHAPE", e.message, { file, fix: "the weights do not match the declared sizes: re-export the dictionary", cause: e });
  }
  return d;
}

/** A Dictionary from a parsed SAELens cfg.json and its sae_weights.safetensors tensors. */
export function dictionaryFromSaeLens(cfgJson: unknown, tensors: Record<string, HostTensor>, paths: SaeLensPaths): Dictionary {
  const file = paths.cfg;
  if (!isJsonObject(cfgJson)) throw cfgError("$", "cfg.json is not a JSON object", file, "point at a SAELens SAE folder");
  const cfg = cfgJson;
  const arch = cfg.architecture ?? "standard";
  if (typeof arch !== "string" || !ARCHITECTURES[arch]) {
    const why = typeof arch === "string" ? UNSUPPORTED_WHY[arch] : undefined;
    throw cfgError("architecture", `SAELens architecture ${JSON.stringify(arch)} is not supported${why ? `: ${why}` : ""}`, file,
      `scalpel loads ${Object.keys(ARCHITECTURES).join(", ")}`);
  }
  const { kind, activation: base } = ARCHITECTURES[arch]!;

  let norm = cfg.normalize_activations ?? "none";
  if (norm === false) norm = "none";
  if (norm === true) norm = "expected_average_only_in"; // handle_pre_6_0_config
  if (norm !== "none") {
    throw cfgError("normalize_activations", `normalize_activations ${JSON.stringify(norm)} is not supported: the dictionary expects inputs rescaled in a way its weights do not record`, file,
      norm === "expected_average_only_in"
        ? "fold the scaling factor into the weights in SAELens (sae.fold_activation_norm_scaling_factor(factor)), save it again, and set normalize_activations to \"none\""
        : "use an SAE trained with normalize_activations \"none\"");
  }
  if (cfg.finetuning_scaling_factor === true) {
    throw cfgError("finetuning_scaling_factor", "finetuning_scaling_factor is not supported (it rescales features by a learned vector)", file, "fold the scaling factor into W_dec in SAELens and save it again");
  }

  const hookIn = hookName(cfg, ["hook_name", "hook_point"], file, "add \"hook_name\" (e.g. \"blocks.6.hook_resid_post\") to cfg.json");
  const head = cfg.hook_head_index ?? cfg.hook_point_head_index ?? [cfg.metadata, cfg.meta].filter(isJsonObject).map((m) => m.hook_head_index).find((v) => v != null);
  if (head != null) throw cfgError("hook_head_index", `per-head SAEs (hook_head_index ${JSON.stringify(head)}) are not supported`, file, "use an SAE trained on the whole hook point");
  const reshape = cfg.reshape_activations ?? (hookIn.endsWith("hook_z") ? "hook_z" : "none");
  if (reshape !== "none") {
    throw cfgError("reshape_activations", `reshape_activations ${JSON.stringify(reshape)} (an SAE over flattened attention heads) is not supported`, file, "use an SAE trained on a [batch, pos, d_model] hook point");
  }

  const dIn = positiveInt(cfg, "d_in", file);
  const dSae = positiveInt(cfg, "d_sae", file);
  const dOut = kind === "transcoder" ? positiveInt(cfg, "d_out", file) : dIn;
  const hookOut = kind === "transcoder" ? hookName(cfg, ["hook_name_out"], file, "add \"hook_name_out\" (e.g. \"blocks.6.hook_mlp_out\") to cfg.json") : hookIn;
  const activation = activationOf(cfg, arch, base, file);

  // SAELens stored `scaling_factor` of ones for a while and drops it on load (read_sae_components_from_disk).
  const raw = { ...tensors };
  if (raw.scaling_factor && [...asF32(raw.scaling_factor, "scaling_factor", paths.weights).data].every((v) => v === 1)) delete raw.scaling_factor;
  const jump = activation.type === "jumprelu";
  const w = take(raw, ["W_enc", "W_dec", "b_enc", "b_dec", ...(jump && !raw.log_threshold ? ["threshold"] : [])], jump && !raw.threshold ? ["log_threshold"] : [], paths.weights, `SAELens ${arch} SAE`);
  // Training checkpoints of JumpReLU SAEs keep log θ (TrainingJumpReLUSAE); inference files keep θ.
  const threshold = w.threshold ?? (w.log_threshold && { shape: w.log_threshold.shape, data: w.log_threshold.data.map(Math.exp) });

  const applyBDec = cfg.apply_b_dec_to_input ?? true;
  if (typeof applyBDec !== "boolean") throw cfgError("apply_b_dec_to_input", `apply_b_dec_to_input must be true or false, got ${JSON.stringify(applyBDec)}`, file, "fix it in cfg.json");
  const info = "scalpel_info" in cfg ? cfg.scalpel_info : { source: "saelens", architecture: arch };
  const d: Dictionary = {
    kind,
    hookIn,
    hookOut,
    dIn,
    dSae,
    dOut,
    activation,
    W_enc: w.W_enc!,
    W_dec: w.W_dec!,
    b_enc: w.b_enc!,
    b_dec: w.b_dec!,
    ...(threshold ? { threshold } : {}),
    // A transcoder's b_dec lives in the output space; SAELens' Transcoder never subtracts it.
    ...(applyBDec && kind === "sae" ? { b_in: w.b_dec! } : {}),
    ...(isJsonObject(info) ? { info } : {}),
  };
  return checkLoaded(d, paths.weights);
}

/** The SAELens name of a dictionary's architecture; TopK transcoders have none. */
function architectureOf(d: Dictionary, file: string): string {
  const a = d.activation.type;
  if (d.kind === "sae") return a === "relu" ? "standard" : a;
  if (a === "topk") throw new ConfigError("SAELENS_UNSUPPORTED", "SAELens has no TopK transcoder architecture", { file, field: "activation", fix: "save it in scalpel's own format instead" });
  return a === "relu" ? "transcoder" : "jumprelu_transcoder";
}

function sameF32(a: HostF32, b: HostF32): boolean {
  if (a.shape.join() !== b.shape.join() || a.data.length !== b.data.length) return false;
  const x = new Uint32Array(a.data.buffer, a.data.byteOffset, a.data.length);
  const y = new Uint32Array(b.data.buffer, b.data.byteOffset, b.data.length);
  return x.every((v, i) => v === y[i]);
}

/**
 * cfg.json and tensors that SAELens and dictionaryFromSaeLens both read back as `d`. The config
 * uses the flat (pre-6) key layout, which every SAELens version reads (v6 converts it with
 * handle_pre_6_0_config); scalpel's `info` travels in the extra key `scalpel_info`, which
 * SAELens ignores (filter_valid_dataclass_fields).
 */
export function saeLensFromDictionary(d: Dictionary, file = SAELENS_CFG): { cfg: Record<string, unknown>; tensors: Record<string, HostTensor> } {
  checkLoaded(d, file);
  const architecture = architectureOf(d, file);
  if (d.b_in && !(d.kind === "sae" && sameF32(d.b_in, d.b_dec))) {
    throw new ConfigError("SAELENS_UNSUPPORTED", "SAELens can only subtract b_dec from the input (apply_b_dec_to_input); this dictionary's b_in differs from b_dec", {
      file,
      field: "b_in",
      fix: "fold b_in into b_enc (b_enc −= b_in·W_enc) and drop it before saving",
    });
  }
  if (d.threshold && d.activation.type !== "jumprelu") {
    throw new ConfigError("SAELENS_UNSUPPORTED", `a ${d.activation.type} dictionary with JumpReLU thresholds cannot be saved for SAELens`, { file, field: "threshold", fix: "drop the thresholds or make it a jumprelu dictionary" });
  }
  const layer = /^blocks\.(\d+)\./.exec(d.hookIn)?.[1];
  const cfg: Record<string, unknown> = {
    architecture,
    d_in: d.dIn,
    d_sae: d.dSae,
    dtype: "float32",
    device: "cpu",
    hook_name: d.hookIn,
    ...(layer !== undefined ? { hook_layer: Number(layer) } : {}),
    hook_head_index: null,
    activation_fn: d.activation.type === "topk" ? "topk" : "relu",
    activation_fn_kwargs: d.activation.type === "topk" ? { k: d.activation.k } : {},
    ...(d.activation.type === "topk" ? { k: d.activation.k } : {}),
    apply_b_dec_to_input: d.b_in !== undefined,
    normalize_activations: "none",
    reshape_activations: "none",
    finetuning_scaling_factor: false,
    ...(d.kind === "transcoder" ? { d_out: d.dOut, hook_name_out: d.hookOut, hook_head_index_out: null } : {}),
    scalpel_info: d.info ?? null,
  };
  const t = (x: HostF32): HostTensor => ({ dtype: "float32", shape: [...x.shape], data: x.data });
  const tensors: Record<string, HostTensor> = { W_enc: t(d.W_enc), W_dec: t(d.W_dec), b_enc: t(d.b_enc), b_dec: t(d.b_dec) };
  if (d.threshold) tensors.threshold = t(d.threshold);
  return { cfg, tensors };
}

export interface GemmaScopeOptions {
  /** The hook point the dictionary reads (Gemma Scope's params.npz does not say). */
  hookIn: string;
  /** For a transcoder: the hook point it writes. */
  hookOut?: string;
  kind: Dictionary["kind"];
}

/** A JumpReLU Dictionary from the arrays of a Gemma Scope params.npz. */
export function dictionaryFromGemmaScope(arrays: Record<string, HostTensor>, file: string, opts: GemmaScopeOptions): Dictionary {
  if (opts.kind === "transcoder" && !opts.hookOut) {
    throw new ConfigError("GEMMA_SCOPE_HOOK", "a transcoder needs hookOut (where its output goes)", { file, field: "hookOut", fix: "pass hookOut, e.g. \"blocks.6.hook_mlp_out\"" });
  }
  if (opts.kind === "sae" && opts.hookOut !== undefined && opts.hookOut !== opts.hookIn) {
    throw new ConfigError("GEMMA_SCOPE_HOOK", `an SAE reconstructs its own hook point, but hookOut ${opts.hookOut} ≠ hookIn ${opts.hookIn}`, { file, field: "hookOut", fix: "drop hookOut, or load it as kind \"transcoder\"" });
  }
  // Some exports spell the matrices w_enc / w_dec (the SAELens loader maps "w_" → "W_").
  const renamed: Record<string, HostTensor> = {};
  for (const [k, v] of Object.entries(arrays)) renamed[k.startsWith("w_") ? `W_${k.slice(2)}` : k] = v;
  const w = take(renamed, ["W_enc", "W_dec", "b_enc", "b_dec", "threshold"], [], file, "Gemma Scope params.npz");
  const dims = (name: string, rank: number): number[] => {
    const s = w[name]!.shape;
    if (s.length !== rank) throw new CheckpointError("DICTIONARY_SHAPE", `${name} has shape [${s}], expected ${rank} dimensions`, { file, field: name, fix: "this is not a Gemma Scope params.npz" });
    return s;
  };
  const [dIn, dSae] = dims("W_enc", 2) as [number, number];
  const dOut = dims("W_dec", 2)[1]!;
  const d: Dictionary = {
    kind: opts.kind,
    hookIn: opts.hookIn,
    hookOut: opts.kind === "sae" ? opts.hookIn : opts.hookOut!,
    dIn,
    dSae,
    dOut,
    activation: { type: "jumprelu" },
    W_enc: w.W_enc!,
    W_dec: w.W_dec!,
    b_enc: w.b_enc!,
    b_dec: w.b_dec!,
    threshold: w.threshold!,
    // No path in info: it would make the same weights hash differently on another machine.
    info: { source: "gemma-scope" },
  };
  return checkLoaded(d, file);
}
