/**
 * Config readers for the GPT-NeoX, GPT-J and Gemma-2 families: typed reads of config.json fields
 * whose every failure is a ConfigError naming the file and the field. Unlike config-fields.ts
 * these keep "absent" (→ transformers' default) apart from an explicit null, which Gemma-2 needs:
 * `attn_logit_softcapping` absent means 50, null means no soft-cap.
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

function checkInt(v: unknown, field: string, file: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) throw illTyped(file, field, "a positive integer", v);
  return v;
}

/** A positive integer with a Hugging Face default (used when absent). `null` is ill-typed. */
export function intOr(raw: Raw, field: string, dflt: number, file: string): number {
  return raw[field] === undefined ? dflt : checkInt(raw[field], field, file);
}

/** A positive integer, or undefined when absent or null (fields HF declares `int | None`). */
export function optInt(raw: Raw, field: string, file: string): number | undefined {
  return raw[field] === undefined || raw[field] === null ? undefined : checkInt(raw[field], field, file);
}

/** A finite number with a default. */
export function numOr(raw: Raw, field: string, dflt: number, file: string): number {
  const v = raw[field];
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isFinite(v)) throw illTyped(file, field, "a number", v);
  return v;
}

/** A positive number, or undefined when absent/null and the default is null. */
export function optPositive(raw: Raw, field: string, dflt: number | undefined, file: string): number | undefined {
  const v = raw[field];
  if (v === undefined) return dflt;
  if (v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw illTyped(file, field, "a positive number or null", v);
  return v;
}

export function boolOr(raw: Raw, field: string, dflt: boolean, file: string): boolean {
  const v = raw[field];
  if (v === undefined) return dflt;
  if (typeof v !== "boolean") throw illTyped(file, field, "true or false", v);
  return v;
}

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

export function eosId(raw: Raw, dflt: number | undefined, file: string): number | number[] | undefined {
  const v = raw["eos_token_id"];
  if (Array.isArray(v)) {
    if (!v.every((x) => typeof x === "number" && Number.isInteger(x) && x >= 0)) {
      throw illTyped(file, "eos_token_id", "a token id or a list of token ids", v);
    }
    return v as number[];
  }
  return tokenId(raw, "eos_token_id", dflt, file);
}

/** An object-valued field (rope_scaling, rope_parameters), or undefined when absent/null. */
export function optObject(raw: Raw, field: string, file: string): Raw | undefined {
  const v = raw[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw illTyped(file, field, "an object or null", v);
  return v as Raw;
}

export function configError(file: string, field: string, message: string, fix: string): ConfigError {
  return new ConfigError("CONFIG_FIELD_VALUE", message, { file, field, fix });
}

/**
 * Rotary settings in both spellings transformers has used: top-level `rope_theta` / `rope_scaling`
 * (and family aliases such as NeoX's rotary_emb_base), and the newer `rope_parameters` dict that
 * holds rope_theta, rope_type, partial_rotary_factor and the scaling fields together
 * (configuration_gpt_neox.py convert_rope_params_to_dict). Returns the scaling dict only when the
 * rope type is not "default".
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
    if (raw[f] !== undefined) [theta, thetaField] = [numOr(raw, f, theta, file), f];
  }
  let partial = defaults.partial;
  let partialField = "partial_rotary_factor";
  for (const f of [...(aliases.partial ?? []), "partial_rotary_factor"]) {
    if (raw[f] !== undefined) [partial, partialField] = [numOr(raw, f, partial, file), f];
  }
  if (params?.rope_theta !== undefined) {
    [theta, thetaField] = [numOr(params, "rope_theta", theta, file), "rope_parameters.rope_theta"];
  }
  if (params?.partial_rotary_factor !== undefined) {
    [partial, partialField] = [numOr(params, "partial_rotary_factor", partial, file), "rope_parameters.partial_rotary_factor"];
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
