/**
 * A strict JSON parser (RFC 8259) that says *where* a document is broken (line and column) and can
 * refuse duplicate object keys. `JSON.parse` does neither portably: Node 20 reports only a byte
 * position and silently keeps the last of two equal keys, which for a safetensors header means a
 * tensor could hide behind another of the same name. Browser-safe: no Node API.
 */
import { ConfigError, type ScalpelError } from "../errors.js";

/** A syntax error at a 1-based line and column of the text. */
export class JsonSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
    readonly offset: number,
  ) {
    super(`${reason} at line ${line}, column ${column}`);
    this.name = "JsonSyntaxError";
  }
}

/** The same key twice in one object; `path` is the object's location, e.g. `$.weight_map`. */
export class JsonDuplicateKeyError extends Error {
  constructor(
    readonly key: string,
    readonly path: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`duplicate key ${JSON.stringify(key)} in ${path} at line ${line}, column ${column}`);
    this.name = "JsonDuplicateKeyError";
  }
}

export interface JsonParseOptions {
  /** Throw JsonDuplicateKeyError on a repeated key (JSON.parse keeps the last one). Default true. */
  rejectDuplicateKeys?: boolean;
}

/** Parse `text` as one JSON value. Throws JsonSyntaxError or JsonDuplicateKeyError. */
export function parseJsonStrict(text: string, options: JsonParseOptions = {}): unknown {
  return new Parser(text, options.rejectDuplicateKeys ?? true).document();
}

/** 1-based line and column of a character offset (lines end at \n; \r\n counts as one break). */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

class Parser {
  private i = 0;
  /** Keys and indices from the root to the value being parsed (for error paths, built on demand). */
  private readonly keys: (string | number)[] = [];
  constructor(
    private readonly s: string,
    private readonly rejectDuplicates: boolean,
  ) {}

  document(): unknown {
    this.ws();
    const v = this.value();
    this.ws();
    if (this.i < this.s.length) this.fail("unexpected text after the JSON value");
    return v;
  }

  private path(): string {
    return "$" + this.keys.map((k) => (typeof k === "number" ? `[${k}]` : `.${k}`)).join("");
  }

  private fail(reason: string, at = this.i): never {
    const { line, column } = lineColumnAt(this.s, at);
    throw new JsonSyntaxError(reason, line, column, at);
  }

  private ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
    this.i = i;
  }

  private describe(): string {
    if (this.i >= this.s.length) return "end of input";
    return `character ${JSON.stringify(this.s[this.i])}`;
  }

  private value(): unknown {
    const c = this.s[this.i];
    switch (c) {
      case "{":
        return this.object();
      case "[":
        return this.array();
      case '"':
        return this.string();
      case "t":
        return this.literal("true", true);
      case "f":
        return this.literal("false", false);
      case "n":
        return this.literal("null", null);
      default:
        if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number();
        return this.fail(`expected a JSON value but found ${this.describe()}`);
    }
  }

  private literal<T>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.i)) this.fail(`expected ${word} but found ${this.describe()}`);
    this.i += word.length;
    return v;
  }

  private number(): number {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (!m || m[0] === "-") this.fail("malformed number");
    this.i += m[0].length;
    return Number(m[0]);
  }

  private string(): string {
    const s = this.s;
    const start = ++this.i; // opening quote
    let out = "";
    let chunk = start;
    for (;;) {
      if (this.i >= s.length) this.fail("unterminated string", start - 1);
      const c = s.charCodeAt(this.i);
      if (c === 34) break; // "
      if (c < 0x20) this.fail("control character inside a string (escape it)");
      if (c !== 92) {
        this.i++;
        continue;
      }
      out += s.slice(chunk, this.i);
      const e = s[this.i + 1];
      switch (e) {
        case '"': out += '"'; break;
        case "\\": out += "\\"; break;
        case "/": out += "/"; break;
        case "b": out += "\b"; break;
        case "f": out += "\f"; break;
        case "n": out += "\n"; break;
        case "r": out += "\r"; break;
        case "t": out += "\t"; break;
        case "u": {
          const hex = s.slice(this.i + 2, this.i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("bad \\u escape");
          out += String.fromCharCode(parseInt(hex, 16));
          this.i += 4;
          break;
        }
        default:
          this.fail("bad escape sequence");
      }
      this.i += 2;
      chunk = this.i;
    }
    out += s.slice(chunk, this.i);
    this.i++; // closing quote
    return out;
  }

  private array(): unknown[] {
    this.i++;
    const out: unknown[] = [];
    this.ws();
    if (this.s[this.i] === "]") {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      this.keys.push(out.length);
      out.push(this.value());
      this.keys.pop();
      this.ws();
      const c = this.s[this.i];
      if (c === ",") this.i++;
      else if (c === "]") {
        this.i++;
        return out;
      } else this.fail(`expected ',' or ']' in an array but found ${this.describe()}`);
    }
  }

  private object(): Record<string, unknown> {
    this.i++;
    const out: Record<string, unknown> = {};
    this.ws();
    if (this.s[this.i] === "}") {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail(`expected a quoted key but found ${this.describe()}`);
      const keyAt = this.i;
      const key = this.string();
      if (this.rejectDuplicates && Object.prototype.hasOwnProperty.call(out, key)) {
        const { line, column } = lineColumnAt(this.s, keyAt);
        throw new JsonDuplicateKeyError(key, this.path(), line, column);
      }
      this.ws();
      if (this.s[this.i] !== ":") this.fail(`expected ':' after a key but found ${this.describe()}`);
      this.i++;
      this.ws();
      this.keys.push(key);
      const v = this.value();
      this.keys.pop();
      // As JSON.parse does: a key "__proto__" becomes an own data property, never a prototype.
      if (key === "__proto__") Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.ws();
      const c = this.s[this.i];
      if (c === ",") this.i++;
      else if (c === "}") {
        this.i++;
        return out;
      } else this.fail(`expected ',' or '}' in an object but found ${this.describe()}`);
    }
  }
}

/** The ScalpelError subclass a caller wants JSON problems reported as (ConfigError, CheckpointError…). */
export type ErrorClass = new (
  code: string,
  message: string,
  opts?: { file?: string; field?: string; fix?: string; cause?: unknown },
) => ScalpelError;

export interface JsonDocumentOptions extends JsonParseOptions {
  /** Error class for syntax errors and duplicate keys. Default ConfigError. */
  errorClass?: ErrorClass;
  /** What the file is, for the fix text, e.g. "the shard index". */
  what?: string;
}

/**
 * Parse the text of a JSON file, turning syntax errors into a typed error that names the file,
 * line and column (code JSON_SYNTAX) and duplicate keys into code JSON_DUPLICATE_KEY.
 */
export function parseJsonDocument(text: string, file: string, options: JsonDocumentOptions = {}): unknown {
  const Err = options.errorClass ?? ConfigError;
  const what = options.what ?? "the file";
  try {
    return parseJsonStrict(text, options);
  } catch (e) {
    if (e instanceof JsonSyntaxError) {
      throw new Err("JSON_SYNTAX", `invalid JSON: ${e.reason} at line ${e.line}, column ${e.column}`, {
        file,
        fix: `correct the JSON syntax of ${what} at line ${e.line}, column ${e.column}`,
        cause: e,
      });
    }
    if (e instanceof JsonDuplicateKeyError) {
      throw new Err("JSON_DUPLICATE_KEY", `key ${JSON.stringify(e.key)} appears twice in ${e.path} (line ${e.line}, column ${e.column})`, {
        file,
        field: e.path === "$" ? e.key : `${e.path.slice(2)}.${e.key}`,
        fix: `keep only one entry for ${JSON.stringify(e.key)} in ${what}`,
        cause: e,
      });
    }
    throw e;
  }
}

/** True for a plain JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
