/**
 * A small template language for task definitions in JSON/YAML files (lm-eval writes Jinja2;
 * scalpel keeps the part tasks use): `{{field}}`, nested `{{a.b}}`, indexed `{{choices[0]}}`, and
 * filters `{{question|trim}}`, `|upper`, `|lower`, `|join(", ")`, `|last_word`, `|drop_last_word`
 * (LAMBADA's split of a passage into context and final word). Unknown fields are an error that
 * names the field, never an empty string.
 */
import { ConfigError } from "../errors.js";

const FILTERS: Record<string, (v: unknown, arg?: string) => unknown> = {
  trim: (v) => String(v).trim(),
  upper: (v) => String(v).toUpperCase(),
  lower: (v) => String(v).toLowerCase(),
  join: (v, arg) => (Array.isArray(v) ? v.map(String).join(arg ?? "") : String(v)),
  last_word: (v) => String(v).split(" ").at(-1) ?? "",
  drop_last_word: (v) => String(v).split(" ").slice(0, -1).join(" "),
  string: (v) => String(v),
};

/** The value at a path like `a.b[0]` in `doc`, or a ConfigError naming the missing field. */
export function lookup(doc: unknown, path: string, where = "template"): unknown {
  const parts = path.match(/[^.[\]]+/g) ?? [];
  let v: unknown = doc;
  for (const p of parts) {
    if (v === null || typeof v !== "object" || !(p in (v as Record<string, unknown>))) {
      throw new ConfigError("TASK_FIELD", `${where}: the document has no field '${path}'`, {
        field: path,
        fix: `use one of the document's fields: ${doc && typeof doc === "object" ? Object.keys(doc).join(", ") : "(not an object)"}`,
      });
    }
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

/** Evaluate one `{{ … }}` expression against `doc`. */
export function evalExpression(doc: unknown, expr: string, where = "template"): unknown {
  const [head, ...filters] = splitPipes(expr);
  let v = lookup(doc, head!.trim(), where);
  for (const f of filters) {
    const m = /^\s*(\w+)\s*(?:\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\))?\s*$/.exec(f);
    const fn = m && FILTERS[m[1]!];
    if (!m || !fn) {
      throw new ConfigError("TASK_TEMPLATE", `${where}: unknown filter '${f.trim()}'`, { fix: `use one of: ${Object.keys(FILTERS).join(", ")}` });
    }
    const arg = m[2] ?? m[3];
    v = fn(v, arg === undefined ? undefined : JSON.parse(`"${arg.replace(/"/g, '\\"')}"`));
  }
  return v;
}

/** Render `template`, replacing each `{{ expr }}` with its value. */
export function render(template: string, doc: unknown, where = "template"): string {
  return template.replace(/\{\{(.*?)\}\}/gs, (_, expr: string) => {
    const v = evalExpression(doc, expr, where);
    return typeof v === "string" ? v : JSON.stringify(v);
  });
}

/** A template that is exactly one `{{ expr }}` yields the raw value (a list of choices, an index). */
export function renderValue(template: string, doc: unknown, where = "template"): unknown {
  const m = /^\s*\{\{(.*?)\}\}\s*$/s.exec(template);
  return m ? evalExpression(doc, m[1]!, where) : render(template, doc, where);
}

function splitPipes(expr: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote: string | null = null;
  for (const ch of expr) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === "|") {
      out.push(cur);
      cur = "";
      continue;
    }
    cur += ch;
  }
  out.push(cur);
  return out;
}
