/**
 * Tasks defined in a JSON or YAML file, without code: the lm-eval task-YAML idea with scalpel's
 * small template language (template.ts). Browser-clean: the caller parses the file and supplies
 * the documents (data/benchmarks/task-file.ts is the Node reader). Fields:
 *
 *   name: my-task                      (required)
 *   version: "1.0"
 *   kind: multiple_choice | loglikelihood | generate_until     (required)
 *   dataset: data.jsonl                (required; .json list, .jsonl, or .csv with a header; relative to the file)
 *   dataset_field: items               (a .json object's key holding the list)
 *   fewshot_dataset: dev.jsonl         (few-shot pool; default the dataset itself, never a document's own)
 *   num_fewshot: 0, fewshot_sampler: random | first_n, fewshot_seed: 1234
 *   description: "…{{field}}…"         (before the examples)
 *   doc_to_text: "{{question}}\nAnswer:"   (required)
 *   doc_to_choice: ["yes", "no"]  or  "{{choices}}"          (multiple_choice)
 *   doc_to_target: "{{label}}"        (multiple_choice: an index or a choice's text; else the target text)
 *   target_delimiter: " ", fewshot_delimiter: "\n\n"
 *   first_tokens: 1                    (loglikelihood: score the first N target tokens only)
 *   until: ["\n\n"], max_new_tokens: 256                     (generate_until)
 *   filters: [{name: strict, regex: "#### (\\-?[0-9.,]+)", group_select: 0}]
 *   exact_match: {ignore_case: true, regexes_to_ignore: [","]}
 *   group: "{{subject}}"               (per-group results and their average)
 *   add_special_tokens: false          (true: encode with the tokenizer's BOS, for models trained after it)
 */
import { ConfigError } from "../errors.js";
import { didYouMean } from "../util/closest.js";
import { specTask, type TaskKind } from "./spec-task.js";
import { render, renderValue } from "./template.js";
import type { Task } from "./types.js";

const KEYS = [
  "name", "version", "kind", "dataset", "dataset_field", "fewshot_dataset", "num_fewshot", "fewshot_sampler", "fewshot_seed",
  "description", "doc_to_text", "doc_to_choice", "doc_to_target", "target_delimiter", "fewshot_delimiter", "first_tokens",
  "until", "max_new_tokens", "filters", "exact_match", "group", "add_special_tokens",
] as const;

export interface TaskDefinition {
  name: string;
  version?: string;
  kind: TaskKind;
  dataset: string;
  dataset_field?: string;
  fewshot_dataset?: string;
  num_fewshot?: number;
  fewshot_sampler?: "random" | "first_n";
  fewshot_seed?: number;
  description?: string;
  doc_to_text: string;
  doc_to_choice?: string | string[];
  doc_to_target: string | number;
  target_delimiter?: string;
  fewshot_delimiter?: string;
  first_tokens?: number;
  until?: string[];
  max_new_tokens?: number;
  filters?: { name: string; regex: string; group_select?: number }[];
  exact_match?: { ignore_case?: boolean; regexes_to_ignore?: string[]; ignore_punctuation?: boolean };
  group?: string;
  add_special_tokens?: boolean;
}

/** Check a parsed task file; every problem names the file and field. */
export function checkTaskDefinition(value: unknown, file: string): TaskDefinition {
  const bad = (field: string, msg: string, fix?: string) => new ConfigError("TASK_FILE", msg, { file, field, fix });
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw bad("(top level)", "a task file must hold one object (a mapping)");
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) {
    if (!(KEYS as readonly string[]).includes(k)) throw bad(k, `unknown key '${k}'.${didYouMean(k, KEYS)}`, `valid keys: ${KEYS.join(", ")}`);
  }
  const str = (k: string, required = false) => {
    if (v[k] === undefined) {
      if (required) throw bad(k, `missing required key '${k}'`);
      return;
    }
    if (typeof v[k] !== "string") throw bad(k, `'${k}' must be a string, got ${JSON.stringify(v[k])}`);
  };
  const int = (k: string, min: number) => {
    if (v[k] !== undefined && !(Number.isInteger(v[k]) && (v[k] as number) >= min)) throw bad(k, `'${k}' must be an integer ≥ ${min}, got ${JSON.stringify(v[k])}`);
  };
  str("name", true);
  str("dataset", true);
  str("doc_to_text", true);
  for (const k of ["version", "dataset_field", "fewshot_dataset", "description", "target_delimiter", "fewshot_delimiter", "group"]) str(k);
  if (typeof v.version === "number") v.version = String(v.version);
  if (!["multiple_choice", "loglikelihood", "generate_until"].includes(v.kind as string)) {
    throw bad("kind", `'kind' must be multiple_choice, loglikelihood or generate_until, got ${JSON.stringify(v.kind)}`);
  }
  if (v.doc_to_target === undefined) throw bad("doc_to_target", "missing required key 'doc_to_target'");
  if (v.kind === "multiple_choice" && v.doc_to_choice === undefined) throw bad("doc_to_choice", "multiple_choice tasks need 'doc_to_choice'");
  if (v.doc_to_choice !== undefined && typeof v.doc_to_choice !== "string" && !(Array.isArray(v.doc_to_choice) && v.doc_to_choice.every((c) => typeof c === "string"))) {
    throw bad("doc_to_choice", "'doc_to_choice' must be a list of strings or a template such as '{{choices}}'");
  }
  int("num_fewshot", 0);
  int("fewshot_seed", 0);
  int("first_tokens", 1);
  int("max_new_tokens", 1);
  if (v.add_special_tokens !== undefined && typeof v.add_special_tokens !== "boolean") throw bad("add_special_tokens", "'add_special_tokens' must be true or false");
  if (v.fewshot_sampler !== undefined && !["random", "first_n"].includes(v.fewshot_sampler as string)) throw bad("fewshot_sampler", "'fewshot_sampler' must be random or first_n");
  if (v.until !== undefined && !(Array.isArray(v.until) && v.until.every((s) => typeof s === "string"))) throw bad("until", "'until' must be a list of strings");
  if (v.filters !== undefined) {
    if (!Array.isArray(v.filters)) throw bad("filters", "'filters' must be a list of {name, regex, group_select}");
    v.filters.forEach((f, i) => {
      const o = f as Record<string, unknown>;
      if (typeof o?.name !== "string" || typeof o.regex !== "string") throw bad(`filters[${i}]`, "each filter needs a string 'name' and 'regex'");
      try {
        new RegExp(o.regex.replace(/^\(\?[is]+\)/, ""));
      } catch (e) {
        throw bad(`filters[${i}].regex`, `invalid regular expression: ${(e as Error).message}`);
      }
    });
  }
  return v as unknown as TaskDefinition;
}

/** Build the task. `docs` / `fewshotDocs`: the parsed dataset files. */
export function taskFromDefinition(def: TaskDefinition, docs: readonly unknown[], fewshotDocs: readonly unknown[] | undefined, file: string): Task {
  const where = (field: string) => `${file}: ${field}`;
  const choices = (doc: unknown): string[] => {
    const c = typeof def.doc_to_choice === "string" ? renderValue(def.doc_to_choice, doc, where("doc_to_choice")) : def.doc_to_choice;
    if (!Array.isArray(c)) throw new ConfigError("TASK_FILE", `doc_to_choice gave ${JSON.stringify(c)}, not a list`, { file, field: "doc_to_choice" });
    return c.map(String);
  };
  const target = (doc: unknown): number | string => {
    const t = typeof def.doc_to_target === "number" ? def.doc_to_target : renderValue(def.doc_to_target, doc, where("doc_to_target"));
    if (def.kind !== "multiple_choice") return String(t);
    const cs = choices(doc);
    if (typeof t === "number") return t;
    const s = String(t);
    const i = cs.indexOf(s);
    if (i >= 0) return i;
    if (/^\d+$/.test(s.trim())) return Number(s);
    throw new ConfigError("TASK_FILE", `doc_to_target gave ${JSON.stringify(s)}, neither an index nor one of the choices ${JSON.stringify(cs)}`, { file, field: "doc_to_target" });
  };
  return specTask<unknown>({
    name: def.name,
    version: def.version ?? "1.0",
    kind: def.kind,
    docs,
    ...(fewshotDocs ? { fewshotDocs, fewshotSplit: def.fewshot_dataset } : {}),
    numFewshot: def.num_fewshot ?? 0,
    sampler: def.fewshot_sampler ?? "random",
    seed: def.fewshot_seed ?? 1234,
    ...(def.description !== undefined ? { description: (d: unknown) => render(def.description!, d, where("description")) } : {}),
    docToText: (d) => render(def.doc_to_text, d, where("doc_to_text")),
    ...(def.kind === "multiple_choice" ? { docToChoice: choices } : {}),
    docToTarget: target,
    ...(def.target_delimiter !== undefined ? { targetDelimiter: def.target_delimiter } : {}),
    ...(def.fewshot_delimiter !== undefined ? { fewshotDelimiter: def.fewshot_delimiter } : {}),
    ...(def.first_tokens ? { firstTokens: def.first_tokens } : {}),
    ...(def.until ? { until: def.until } : {}),
    ...(def.max_new_tokens ? { maxNewTokens: def.max_new_tokens } : {}),
    ...(def.filters ? { filters: def.filters.map((f) => ({ name: f.name, pattern: f.regex, groupSelect: f.group_select })) } : {}),
    ...(def.exact_match
      ? { exactMatch: { ignoreCase: def.exact_match.ignore_case, regexesToIgnore: def.exact_match.regexes_to_ignore, ignorePunctuation: def.exact_match.ignore_punctuation } }
      : {}),
    ...(def.group ? { group: (d: unknown) => render(def.group!, d, where("group")) } : {}),
    ...(def.add_special_tokens ? { addSpecialTokens: true } : {}),
    promptFormat: `${file}: description ${JSON.stringify(def.description ?? "")}, doc_to_text ${JSON.stringify(def.doc_to_text)}, target_delimiter ${JSON.stringify(def.target_delimiter ?? " ")}`,
  });
}
