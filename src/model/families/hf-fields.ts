/**
 * Typed reading of Hugging Face config.json fields for every family: each reader takes the field's
 * transformers default, and every failure is a ConfigError naming the file and the field.
 *
 * Absent and null are different things. config.json is the kwargs of the family's
 * configuration_*.py, so an absent field takes the __init__ default while an explicit `null` is
 * Python's None, which the config keeps as given (it is NOT replaced by the default):
 * - where transformers declares the field `X | None` and gives None a meaning, null means that:
 *   `sliding_window` (no window), soft-caps (no cap), token ids (no such token), `rope_scaling`
 *   (no scaling), `head_dim` / `num_key_value_heads` / `n_inner` / `rotary_dim` / `layer_types`
 *   (derived from other fields) — the readers below with "opt" in their name, tokenId, eosId,
 *   optObject and slidingLayers;
 * - elsewhere null is ill-typed (intOr, numOr, boolOr, strOr): transformers' @strict configs reject
 *   None for a field typed `int` / `float` / `bool` / `str` (e.g. LlamaConfig rms_norm_eps: float),
 *   and older non-strict ones crash on it later (LayerNorm(eps=None)).
 *
 * Error codes: CONFIG_FIELD_TYPE when a field is ill-typed, CONFIG_FIELD_VALUE when well-typed
 * values are inconsistent or unsupported (configError). Every field read has a transformers
 * default, so a missing field is never an error here.
 */
import { ConfigError } from "../../errors.js";
import type { F32Tensor } from "./types.js";

type Raw = Record<string, unknown>;

function describe(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "an array" : `${typeof v} ${JSON.stringify(v)}`;
}

function illTyped(file: string, field: string, want: string, got: unknown): ConfigError {
  return new ConfigError("CONFIG_FIELD_TYPE", `config field '${field}' must be ${want}, got ${describe(got)}`, {
    file,
    field,
    fix: `set '${field}' to ${want} in config.json`,
  });
}

function checkInt(v: unknown, field: string, file: string, want = "a positive integer"): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) throw illTyped(file, field, want, v);
  return v;
}

function checkNum(v: unknown, field: string, file: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw illTyped(file, field, "a number", v);
  return v;
}

/** A positive integer with a Hugging Face default (used when absent). `null` is ill-typed. */
export function intOr(raw: Raw, field: string, dflt: number, file: string): number {
  return raw[field] === undefined ? dflt : checkInt(raw[field], field, file);
}

/**
 * A positive integer HF declares `int | None`: `dflt` when absent (undefined where HF's default is
 * None), undefined when null — the caller supplies what None means (`?? derived value`).
 */
export function optInt(raw: Raw, field: string, dflt: number | undefined, file: string): number | undefined {
  const v = raw[field];
  if (v === undefined) return dflt;
  if (v === null) return undefined;
  return checkInt(v, field, file, "a positive integer or null");
}

/** A finite number with a default. `null` is ill-typed. */
export function numOr(raw: Raw, field: string, dflt: number, file: string): number {
  return raw[field] === undefined ? dflt : checkNum(raw[field], field, file);
}

/** A positive number HF declares `float | None`: `dflt` when absent, undefined when null. */
export function optPositive(raw: Raw, field: string, dflt: number | undefined, file: string): number | undefined {
  const v = raw[field];
  if (v === undefined) return dflt;
  if (v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw illTyped(file, field, "a positive number or null", v);
  return v;
}

/** A boolean with a default. `null` is ill-typed. */
export function boolOr(raw: Raw, field: string, dflt: boolean, file: string): boolean {
  const v = raw[field];
  if (v === undefined) return dflt;
  if (typeof v !== "boolean") throw illTyped(file, field, "true or false", v);
  return v;
}

/** A string with a default. `null` is ill-typed. */
export function strOr(raw: Raw, field: string, dflt: string, file: string): string {
  const v = raw[field];
  if (v === undefined) return dflt;
  if (typeof v !== "string") throw illTyped(file, field, "a string", v);
  return v;
}

/** Token ids: bos/pad are `int | None`; eos may also be a list. `dflt` applies only when absent. */
export function tokenId(raw: Raw, field: string, dflt: number | undefined, file: string): number | undefined {
  const v = raw[field];
  if (v === undefined) return dflt;
  if (v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw illTyped(file, field, "a token id (integer >= 0) or null", v);
  return v;
}

export function eosId(raw: Raw, dflt: number | number[] | undefined, file: string): number | number[] | undefined {
  const v = raw["eos_token_id"];
  if (Array.isArray(v)) {
    if (!v.every((x) => typeof x === "number" && Number.isInteger(x) && x >= 0)) {
      throw illTyped(file, "eos_token_id", "a token id or a list of token ids", v);
    }
    return v as number[];
  }
  if (v === undefined) return dflt;
  return tokenId(raw, "eos_token_id", undefined, file);
}

/** An object-valued field (rope_scaling, rope_parameters), or undefined when absent/null. */
export function optObject(raw: Raw, field: string, file: string): Raw | undefined {
  const v = raw[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw illTyped(file, field, "an object or null", v);
  return v as Raw;
}

/** A well-typed but inconsistent or unsupported value (CONFIG_FIELD_VALUE). */
export function configError(file: string, field: string, message: string, fix: string): ConfigError {
  return new ConfigError("CONFIG_FIELD_VALUE", message, { file, field, fix });
}

/**
 * Which layers use sliding-window attention: `layer_types` ("sliding_attention" / "full_attention"
 * per layer) when given; when absent or null (`list[str] | None = None`) the family's default
 * pattern, as its configuration_*.py fills layer_types in.
 */
export function slidingLayers(raw: Raw, nLayers: number, file: string, byDefault: (layer: number) => boolean): boolean[] {
  const v = raw["layer_types"];
  if (v === undefined || v === null) return Array.from({ length: nLayers }, (_, l) => byDefault(l));
  const ok = Array.isArray(v) && v.length === nLayers && v.every((t) => t === "sliding_attention" || t === "full_attention");
  if (!ok) {
    throw configError(file, "layer_types",
      `layer_types must list "sliding_attention" or "full_attention" for each of the ${nLayers} layers`,
      "fix layer_types or remove it to use the model's default pattern");
  }
  return (v as string[]).map((t) => t === "sliding_attention");
}

/**
 * Rotary settings in both spellings transformers has used: top-level `rope_theta` / `rope_scaling`
 * (and family aliases such as NeoX's rotary_emb_base), and the newer `rope_parameters` dict that
 * holds rope_theta, rope_type, partial_rotary_factor and the scaling fields together. As in
 * modeling_rope_utils.py convert_rope_params_to_dict (`rope_parameters.setdefault("rope_theta",
 * rope_theta)`), a value inside rope_parameters wins over the top-level one. Returns the scaling
 * dict only when the rope type is not "default"; null rope_scaling / rope_parameters mean none.
 */
export function readRope(
  raw: Raw,
  file: string,
  aliases: { theta?: string[]; partial?: string[] } = {},
  defaults: { theta: number; partial: number } = { theta: 10000, partial: 1 },
): { theta: number; partial: number; thetaField: string; partialField: string; scaling?: Raw } {
  const params = optObject(raw, "rope_parameters", file);
  const scalingField = optObject(raw, "rope_scaling", file);
  let theta = defaults.theta;
  let thetaField = "rope_theta";
  for (const f of [...(aliases.theta ?? []), "rope_theta"]) {
    if (raw[f] !== undefined) [theta, thetaField] = [checkNum(raw[f], f, file), f];
  }
  let partial = defaults.partial;
  let partialField = "partial_rotary_factor";
  for (const f of [...(aliases.partial ?? []), "partial_rotary_factor"]) {
    if (raw[f] !== undefined) [partial, partialField] = [checkNum(raw[f], f, file), f];
  }
  if (params?.rope_theta !== undefined) {
    thetaField = "rope_parameters.rope_theta";
    theta = checkNum(params.rope_theta, thetaField, file);
  }
  if (params?.partial_rotary_factor !== undefined) {
    partialField = "rope_parameters.partial_rotary_factor";
    partial = checkNum(params.partial_rotary_factor, partialField, file);
  }
  if (!(theta > 0)) throw configError(file, thetaField, `${thetaField} must be positive, got ${theta}`, `set a positive ${thetaField}`);
  if (!(partial > 0 && partial <= 1)) {
    throw configError(file, partialField, `${partialField} must be in (0, 1], got ${partial}`, "use a value in (0, 1]");
  }
  const source = scalingField ?? params;
  let scaling: Raw | undefined;
  if (source) {
    const type = source.rope_type ?? source.type ?? "default";
    if (type !== "default") {
      scaling = { ...source };
      delete scaling.rope_theta;
      delete scaling.partial_rotary_factor;
    }
  }
  return { theta, partial, thetaField, partialField, scaling };
}

// ---------- tensors (the shared ones are in host.ts) ----------

/** A normalised parameter that toHF requires; a plain Error because it is a programming mistake. */
export function param(params: Record<string, F32Tensor>, name: string): F32Tensor {
  const t = params[name];
  if (!t) throw new Error(`parameter '${name}' is missing`);
  return t;
}
