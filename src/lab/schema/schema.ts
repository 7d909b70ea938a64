/**
 * A small typed schema system for experiment configs. Each schema parses an unknown value (from
 * YAML or JSON), fills in defaults and collects *every* problem with its dotted path, so a user
 * sees all typos in one go instead of one per launch. Unknown keys and misspelled enum values name
 * the closest valid choice; that is the whole reason this exists instead of ad-hoc `if`s.
 */
import { closest } from "../../util/closest.js";

export interface Issue {
  /** Dotted path to the field at fault, e.g. "config.optimizer.learnig_rate". */
  path: string;
  message: string;
}

/** Marker for "no value parsed" (distinct from a legitimately parsed `undefined`). */
export const INVALID: unique symbol = Symbol("invalid");
export type Parsed<T> = T | typeof INVALID;

export abstract class Schema<T> {
  /** Human description, shown by `scalpel check --explain` and in errors. */
  doc?: string;
  /** Value used when the key is absent; `undefined` means the key is required. */
  defaultValue?: () => T;

  abstract parse(value: unknown, path: string, issues: Issue[]): Parsed<T>;
  /** Short type description for error messages, e.g. "a number ≥ 0". */
  abstract describe(): string;

  /** Make the field optional with a default (deep-copied per use so parsed configs never share objects). */
  default(value: T): this {
    const frozen = JSON.stringify(value);
    this.defaultValue = () => (frozen === undefined ? value : JSON.parse(frozen));
    return this;
  }

  describeAs(doc: string): this {
    this.doc = doc;
    return this;
  }
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

/** The closest key by edit distance, else the one key that extends (or truncates) the input: `n_startup` → `n_startup_trials`. */
export function suggestKey(input: string, keys: readonly string[]): string | undefined {
  const near = closest(input, keys);
  if (near) return near;
  const lower = input.toLowerCase();
  const prefixed = keys.filter((k) => k.toLowerCase().startsWith(lower) || lower.startsWith(k.toLowerCase()));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

const at = (path: string) => (path === "" ? "(top level)" : path);
const show = (v: unknown) => (typeof v === "string" ? `'${v}'` : JSON.stringify(v));

class NumberSchema extends Schema<number> {
  constructor(private readonly opts: { min?: number; max?: number; int?: boolean; exclusiveMin?: boolean }) {
    super();
  }
  parse(value: unknown, path: string, issues: Issue[]): Parsed<number> {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      issues.push({ path, message: `${at(path)}: expected ${this.describe()}, got ${show(value)}` });
      return INVALID;
    }
    const { min, max, int, exclusiveMin } = this.opts;
    const bad =
      (int && !Number.isInteger(value)) ||
      (min !== undefined && (exclusiveMin ? value <= min : value < min)) ||
      (max !== undefined && value > max);
    if (bad) {
      issues.push({ path, message: `${at(path)}: ${value} is not ${this.describe()}` });
      return INVALID;
    }
    return value;
  }
  describe(): string {
    const { min, max, int, exclusiveMin } = this.opts;
    const parts = [int ? "an integer" : "a number"];
    if (min !== undefined) parts.push(`${exclusiveMin ? ">" : "≥"} ${min}`);
    if (max !== undefined) parts.push(`${min !== undefined ? "and " : ""}≤ ${max}`);
    return parts.join(" ");
  }
}

class StringSchema extends Schema<string> {
  parse(value: unknown, path: string, issues: Issue[]): Parsed<string> {
    if (typeof value !== "string" || value.length === 0) {
      issues.push({ path, message: `${at(path)}: expected a non-empty string, got ${show(value)}` });
      return INVALID;
    }
    return value;
  }
  describe(): string {
    return "a string";
  }
}

class BooleanSchema extends Schema<boolean> {
  parse(value: unknown, path: string, issues: Issue[]): Parsed<boolean> {
    if (typeof value !== "boolean") {
      issues.push({ path, message: `${at(path)}: expected true or false, got ${show(value)}` });
      return INVALID;
    }
    return value;
  }
  describe(): string {
    return "true or false";
  }
}

class EnumSchema<C extends string> extends Schema<C> {
  constructor(readonly choices: readonly C[]) {
    super();
  }
  parse(value: unknown, path: string, issues: Issue[]): Parsed<C> {
    if (typeof value === "string" && (this.choices as readonly string[]).includes(value)) return value as C;
    const guess = typeof value === "string" ? closest(value, this.choices) : undefined;
    issues.push({
      path,
      message: `${at(path)}: ${show(value)} is not one of ${this.choices.join(", ")}${guess ? ` — did you mean '${guess}'?` : ""}`,
    });
    return INVALID;
  }
  describe(): string {
    return `one of ${this.choices.join(", ")}`;
  }
}

/** A scalar that is a number, string or boolean (search-space choices, grid values). */
class ScalarSchema extends Schema<number | string | boolean> {
  parse(value: unknown, path: string, issues: Issue[]): Parsed<number | string | boolean> {
    if (typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))) return value;
    issues.push({ path, message: `${at(path)}: expected a number, string or boolean, got ${show(value)}` });
    return INVALID;
  }
  describe(): string {
    return "a number, string or boolean";
  }
}

class ArraySchema<T> extends Schema<T[]> {
  constructor(readonly item: Schema<T>, private readonly opts: { minItems?: number; maxItems?: number }) {
    super();
  }
  parse(value: unknown, path: string, issues: Issue[]): Parsed<T[]> {
    if (!Array.isArray(value)) {
      issues.push({ path, message: `${at(path)}: expected a list of ${this.item.describe()}, got ${show(value)}` });
      return INVALID;
    }
    const { minItems, maxItems } = this.opts;
    if ((minItems !== undefined && value.length < minItems) || (maxItems !== undefined && value.length > maxItems)) {
      const n = minItems === maxItems ? `exactly ${minItems}` : `${minItems ?? 0}..${maxItems ?? "∞"}`;
      issues.push({ path, message: `${at(path)}: expected ${n} items, got ${value.length}` });
      return INVALID;
    }
    const out: T[] = [];
    let ok = true;
    value.forEach((v, i) => {
      const p = this.item.parse(v, `${path}.${i}`, issues);
      if (p === INVALID) ok = false;
      else out.push(p);
    });
    return ok ? out : INVALID;
  }
  describe(): string {
    return `a list of ${this.item.describe()}`;
  }
}

type Shape = Record<string, Schema<unknown>>;
export type ObjectOf<S extends Shape> = { [K in keyof S]: Infer<S[K]> };

export class ObjectSchema<S extends Shape> extends Schema<ObjectOf<S>> {
  constructor(readonly shape: S) {
    super();
    // An object whose every field has a default may itself be omitted.
    if (Object.values(shape).every((f) => f.defaultValue !== undefined)) this.defaultValue = () => this.fill();
  }
  private fill(): ObjectOf<S> {
    const out: Record<string, unknown> = {};
    for (const [k, f] of Object.entries(this.shape)) out[k] = f.defaultValue!();
    return out as ObjectOf<S>;
  }
  parse(value: unknown, path: string, issues: Issue[]): Parsed<ObjectOf<S>> {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      issues.push({ path, message: `${at(path)}: expected a mapping with keys ${Object.keys(this.shape).join(", ")}, got ${show(value)}` });
      return INVALID;
    }
    const input = value as Record<string, unknown>;
    const keys = Object.keys(this.shape);
    let ok = true;
    for (const key of Object.keys(input)) {
      if (key in this.shape) continue;
      const guess = suggestKey(key, keys.filter((k) => !(k in input)));
      const full = path ? `${path}.${key}` : key;
      issues.push({ path: full, message: `unknown key '${key}' at ${full}${guess ? ` — did you mean '${guess}'?` : ` (valid keys: ${keys.join(", ")})`}` });
      ok = false;
    }
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(this.shape)) {
      const full = path ? `${path}.${key}` : key;
      if (input[key] === undefined) {
        if (field.defaultValue) out[key] = field.defaultValue();
        else {
          issues.push({ path: full, message: `missing required key '${key}' at ${full} (${field.doc ?? field.describe()})` });
          ok = false;
        }
        continue;
      }
      const parsed = field.parse(input[key], full, issues);
      if (parsed === INVALID) ok = false;
      else out[key] = parsed;
    }
    return ok ? (out as ObjectOf<S>) : INVALID;
  }
  describe(): string {
    return `a mapping with keys ${Object.keys(this.shape).join(", ")}`;
  }
}

/** A mapping from arbitrary names to values of one schema (search spaces, grids). */
class RecordSchema<T> extends Schema<Record<string, T>> {
  constructor(readonly value: Schema<T>) {
    super();
  }
  parse(value: unknown, path: string, issues: Issue[]): Parsed<Record<string, T>> {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      issues.push({ path, message: `${at(path)}: expected a mapping of names to ${this.value.describe()}, got ${show(value)}` });
      return INVALID;
    }
    const out: Record<string, T> = {};
    let ok = true;
    for (const [k, v] of Object.entries(value)) {
      const p = this.value.parse(v, path ? `${path}.${k}` : k, issues);
      if (p === INVALID) ok = false;
      else out[k] = p;
    }
    return ok ? out : INVALID;
  }
  describe(): string {
    return `a mapping of names to ${this.value.describe()}`;
  }
}

/** `null` or absent means "not set" (default null); anything else must match the inner schema. */
class NullableSchema<T> extends Schema<T | null> {
  constructor(readonly inner: Schema<T>) {
    super();
    this.defaultValue = () => null;
  }
  parse(value: unknown, path: string, issues: Issue[]): Parsed<T | null> {
    return value === null ? null : this.inner.parse(value, path, issues);
  }
  describe(): string {
    return `${this.inner.describe()} or null`;
  }
}

/**
 * A tagged union keyed by `type`: `{type: tpe, n_startup_trials: 5}`. A bare string is shorthand
 * for `{type: <string>}`, so `sampler: tpe` works.
 */
export type TaggedOf<V> = { [K in keyof V]: { type: K } & Infer<V[K]> }[keyof V];

class TaggedSchema<V extends Record<string, ObjectSchema<Shape>>> extends Schema<TaggedOf<V>> {
  constructor(readonly variants: V) {
    super();
  }
  parse(value: unknown, path: string, issues: Issue[]): Parsed<TaggedOf<V>> {
    const input = typeof value === "string" ? { type: value } : value;
    if (input === null || typeof input !== "object" || Array.isArray(input)) {
      issues.push({ path, message: `${at(path)}: expected ${this.describe()}, got ${show(value)}` });
      return INVALID;
    }
    const { type, ...rest } = input as Record<string, unknown>;
    const tag = new EnumSchema(Object.keys(this.variants)).parse(type, path ? `${path}.type` : "type", issues);
    if (tag === INVALID) return INVALID;
    const body = this.variants[tag]!.parse(rest, path, issues);
    return body === INVALID ? INVALID : ({ type: tag, ...body } as TaggedOf<V>);
  }
  describe(): string {
    return `one of ${Object.keys(this.variants).join(", ")} (or a mapping with 'type' and its options)`;
  }
}

export const s = {
  number: (opts: { min?: number; max?: number; exclusiveMin?: boolean } = {}) => new NumberSchema(opts),
  int: (opts: { min?: number; max?: number } = {}) => new NumberSchema({ ...opts, int: true }),
  string: () => new StringSchema(),
  boolean: () => new BooleanSchema(),
  enum: <C extends string>(choices: readonly C[]) => new EnumSchema<C>(choices),
  scalar: () => new ScalarSchema(),
  array: <T>(item: Schema<T>, opts: { minItems?: number; maxItems?: number } = {}) => new ArraySchema<T>(item, opts),
  object: <S extends Shape>(shape: S) => new ObjectSchema<S>(shape),
  record: <T>(value: Schema<T>) => new RecordSchema<T>(value),
  nullable: <T>(inner: Schema<T>) => new NullableSchema<T>(inner),
  tagged: <V extends Record<string, ObjectSchema<Shape>>>(variants: V) => new TaggedSchema<V>(variants),
};

/** The schema of the field at a dotted path inside an object schema, or undefined with the closest valid key. */
export function fieldAt(schema: Schema<unknown>, dotted: string): { field?: Schema<unknown>; missing?: string; suggestion?: string } {
  let current: Schema<unknown> = schema;
  for (const part of dotted.split(".")) {
    if (current instanceof NullableSchema) current = current.inner;
    if (current instanceof ObjectSchema && part in current.shape) current = current.shape[part]!;
    else if (current instanceof ArraySchema && /^\d+$/.test(part)) current = current.item;
    else {
      const keys = current instanceof ObjectSchema ? Object.keys(current.shape) : [];
      return { missing: part, suggestion: suggestKey(part, keys) };
    }
  }
  return { field: current };
}

/** Run a schema over a value; returns the parsed value or the full list of issues. */
export function validate<T>(schema: Schema<T>, value: unknown, path = ""): { ok: true; value: T } | { ok: false; issues: Issue[] } {
  const issues: Issue[] = [];
  const parsed = schema.parse(value, path, issues);
  return parsed === INVALID || issues.length > 0 ? { ok: false, issues } : { ok: true, value: parsed };
}
