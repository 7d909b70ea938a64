/**
 * Typed reading of config.json fields with transformers' defaults: a missing field takes the
 * default of the family's configuration_*.py; a present field of the wrong type, or a missing one
 * without a default, is a ConfigError naming the file and the field.
 */
import { ConfigError } from "../../errors.js";

export class ConfigFields {
  constructor(
    readonly raw: Record<string, unknown>,
    readonly file: string,
  ) {}

  private bad(field: string, want: string): never {
    throw new ConfigError("BAD_CONFIG_FIELD", `${field} must be ${want}, got ${JSON.stringify(this.raw[field])}`, {
      file: this.file,
      field,
      fix: `set ${field} to ${want}`,
    });
  }

  private missing(field: string, want: string): never {
    throw new ConfigError("MISSING_CONFIG_FIELD", `${field} is missing`, { file: this.file, field, fix: `add ${field} (${want})` });
  }

  has(field: string): boolean {
    return this.raw[field] !== undefined && this.raw[field] !== null;
  }

  /** A positive integer. */
  int(field: string, def?: number): number {
    const v = this.has(field) ? this.raw[field] : def;
    if (v === undefined) return this.missing(field, "a positive integer");
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) return this.bad(field, "a positive integer");
    return v;
  }

  optInt(field: string): number | undefined {
    return this.has(field) ? this.int(field) : undefined;
  }

  num(field: string, def?: number): number {
    const v = this.has(field) ? this.raw[field] : def;
    if (v === undefined) return this.missing(field, "a number");
    if (typeof v !== "number" || !Number.isFinite(v)) return this.bad(field, "a finite number");
    return v;
  }

  optNum(field: string): number | undefined {
    return this.has(field) ? this.num(field) : undefined;
  }

  bool(field: string, def?: boolean): boolean {
    const v = this.has(field) ? this.raw[field] : def;
    if (v === undefined) return this.missing(field, "true or false");
    if (typeof v !== "boolean") return this.bad(field, "true or false");
    return v;
  }

  str(field: string, def?: string): string {
    const v = this.has(field) ? this.raw[field] : def;
    if (v === undefined) return this.missing(field, "a string");
    if (typeof v !== "string") return this.bad(field, "a string");
    return v;
  }

  /** An object (e.g. rope_scaling) or undefined when absent/null. */
  optObject(field: string): Record<string, unknown> | undefined {
    if (!this.has(field)) return undefined;
    const v = this.raw[field];
    if (typeof v !== "object" || Array.isArray(v)) return this.bad(field, "an object");
    return v as Record<string, unknown>;
  }

  /** eos_token_id may be one id or a list. */
  optTokenIds(field: string): number | number[] | undefined {
    if (!this.has(field)) return undefined;
    const v = this.raw[field];
    if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
    if (Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isInteger(x) && x >= 0)) return v as number[];
    return this.bad(field, "a token id or a list of token ids");
  }

  optTokenId(field: string): number | undefined {
    if (!this.has(field)) return undefined;
    const v = this.raw[field];
    if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
    return this.bad(field, "a token id (a non-negative integer)");
  }

  /** Fail with a ConfigError about `field` (for consistency checks across fields). */
  fail(field: string, message: string, fix: string): never {
    throw new ConfigError("BAD_CONFIG_FIELD", message, { file: this.file, field, fix });
  }
}
