/**
 * Typed errors for editing datasets: a malformed file or record names the file, the record index
 * and the field, so a user can open the file at the right place.
 */
import { ScalpelError } from "../../errors.js";

/** An editing dataset file cannot be read or a record lacks a required field. */
export class DatasetError extends ScalpelError {}

/** Helpers that check a record's fields and throw DatasetError naming file, record and field. */
export class RecordReader {
  constructor(
    readonly file: string,
    readonly index: number,
    readonly record: unknown,
    readonly format: string,
  ) {
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      throw this.error(`record ${index} is not an object`);
    }
  }

  error(message: string, field?: string): DatasetError {
    return new DatasetError("BAD_EDIT_RECORD", `${this.format}: ${message}`, {
      file: this.file,
      field: field === undefined ? `[${this.index}]` : `[${this.index}].${field}`,
      fix: `check record ${this.index} against the ${this.format} format (or pass the right --format)`,
    });
  }

  /** The value at a dotted path ("requested_rewrite.target_new.str"). */
  get(path: string): unknown {
    let v: unknown = this.record;
    for (const key of path.split(".")) {
      if (typeof v !== "object" || v === null) return undefined;
      v = (v as Record<string, unknown>)[key];
    }
    return v;
  }

  string(path: string): string {
    const v = this.get(path);
    if (typeof v !== "string") throw this.error(v === undefined ? `missing field '${path}'` : `field '${path}' should be a string, got ${typeof v}`, path);
    return v;
  }

  optionalString(path: string): string | undefined {
    const v = this.get(path);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw this.error(`field '${path}' should be a string, got ${typeof v}`, path);
    return v;
  }

  /** A list of strings; absent means empty (datasets differ in which prompt lists they carry). */
  strings(path: string): string[] {
    const v = this.get(path);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw this.error(`field '${path}' should be a list of strings`, path);
    return v as string[];
  }

  id(path: string): string {
    const v = this.get(path);
    if (typeof v === "number" || typeof v === "string") return String(v);
    return String(this.index);
  }
}
