/**
 * Experiment config files (YAML or JSON) → a validated, fully resolved experiment. Everything a
 * run needs is checked here, before any compute starts: the kind, every field of its config,
 * and the study/sweep block including that each searched parameter names a real config field
 * with values that field accepts.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import YAML from "yaml";
import { ConfigError } from "../errors.js";
import { getKind } from "./kinds/registry.js";
import type { ExperimentKind } from "./kinds/types.js";
import { fieldAt, s, validate, type Issue, type Schema } from "./schema/schema.js";
import { SEED_PARAM } from "./study/apply-params.js";
import { studyBlockToSpec, studySchema, sweepSchema, sweepToStudy, type StudySpec } from "./study/spec.js";

export interface Experiment {
  /** The file it came from ("<inline>" for configs built in code). */
  file: string;
  kind: ExperimentKind;
  name: string;
  seed: number;
  /** The kind's config with every default filled in. */
  config: Record<string, unknown>;
  /** Present when the file has a `study:` or `sweep:` block. */
  study?: StudySpec;
  mode: "run" | "study" | "sweep";
}

/** Read and validate a config file. Throws ConfigError listing every problem with a "did you mean". */
export async function loadExperiment(file: string): Promise<Experiment> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new ConfigError("CONFIG_UNREADABLE", `cannot read config: ${(e as Error).message}`, { file, fix: "check the path" });
  }
  return parseExperiment(parseConfigText(text, file), file);
}

/** YAML (also accepts JSON, a YAML subset) or strict JSON for .json files; syntax errors name the line. */
export function parseConfigText(text: string, file: string): unknown {
  if (file.endsWith(".json")) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ConfigError("CONFIG_SYNTAX", `invalid JSON: ${(e as Error).message}`, { file, fix: "fix the JSON syntax" });
    }
  }
  const doc = YAML.parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    const msg = doc.errors.map((e) => e.message.split("\n")[0]).join("; ");
    throw new ConfigError("CONFIG_SYNTAX", `invalid YAML: ${msg}`, { file, fix: "fix the YAML syntax at the line shown" });
  }
  return doc.toJS();
}

function fail(file: string, issues: Issue[]): never {
  const lines = issues.map((i) => `  - ${i.message}`);
  throw new ConfigError("CONFIG_INVALID", `${issues.length} problem${issues.length > 1 ? "s" : ""} in ${file}:\n${lines.join("\n")}\n`, {
    file,
    field: issues[0]!.path,
    fix: `correct the field${issues.length > 1 ? "s" : ""} above ('scalpel check ${file}' re-validates without running)`,
  });
}

/** Validate an already-parsed config object. */
export function parseExperiment(raw: unknown, file = "<inline>"): Experiment {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    fail(file, [{ path: "", message: "the config must be a mapping with at least 'kind:'" }]);
  }
  const kindName = (raw as Record<string, unknown>).kind;
  if (typeof kindName !== "string") fail(file, [{ path: "kind", message: "missing required key 'kind' (the experiment kind, e.g. optimize-function)" }]);
  const kind = getKind(kindName, file);
  const top = s.object({
    kind: s.string(),
    name: s.nullable(s.string()),
    description: s.nullable(s.string()),
    seed: s.int({ min: 0, max: 2 ** 32 - 1 }).default(0),
    config: kind.schema,
    study: s.nullable(studySchema),
    sweep: s.nullable(sweepSchema),
  });
  const result = validate(top, raw);
  if (!result.ok) fail(file, result.issues);
  const v = result.value;
  if (v.study && v.sweep) fail(file, [{ path: "sweep", message: "a config has either a 'study:' or a 'sweep:' block, not both" }]);
  const name = v.name ?? path.basename(file).replace(/\.(ya?ml|json)$/i, "");
  const defaults = { name, metric: kind.objective.metric, direction: kind.objective.direction };
  const study = v.study ? studyBlockToSpec(v.study, defaults) : v.sweep ? sweepToStudy(v.sweep, defaults) : undefined;
  if (study) {
    const issues = checkSpace(kind.schema, study, v.study ? "study.space" : v.sweep?.type === "grid" ? "sweep.values" : "sweep.space");
    if (issues.length > 0) fail(file, issues);
  }
  return {
    file,
    kind,
    name,
    seed: v.seed,
    config: v.config as Record<string, unknown>,
    study,
    mode: v.study ? "study" : v.sweep ? "sweep" : "run",
  };
}

/** A study parameter named `seed` is the trial's run seed (replicates), not a config field. */
const seedField = s.int({ min: 0, max: 2 ** 32 - 1 });

/** Every searched parameter must be a field of the kind's config (or `seed`), and its values must fit that field. */
function checkSpace(schema: Schema<unknown>, study: StudySpec, where: string): Issue[] {
  const issues: Issue[] = [];
  for (const [param, dist] of Object.entries(study.space)) {
    const at = `${where}.${param}`;
    const { field, missing, suggestion } = param === SEED_PARAM ? { field: seedField, missing: "", suggestion: undefined } : fieldAt(schema, param);
    if (!field) {
      issues.push({ path: at, message: `unknown config field '${param}' at ${at} ('${missing}' does not exist)${suggestion ? ` — did you mean '${suggestion}'?` : ""}` });
      continue;
    }
    const values = dist.kind === "categorical" ? dist.choices : [dist.low, dist.high];
    values.forEach((value, i) => field.parse(value, dist.kind === "categorical" ? `${at}.choices.${i}` : `${at}.${i === 0 ? "low" : "high"}`, issues));
    if (dist.kind !== "categorical" && dist.low > dist.high) issues.push({ path: at, message: `${at}: low (${dist.low}) is above high (${dist.high})` });
    if (dist.kind !== "categorical" && dist.log && dist.low <= 0) issues.push({ path: at, message: `${at}: a log-scale range needs low > 0, got ${dist.low}` });
    if (study.sampler.type === "grid" && dist.kind !== "categorical" && (dist.log || (dist.kind === "float" && !dist.step))) {
      issues.push({ path: at, message: `${at}: grid search cannot enumerate a continuous or log-scale range — give it a step, or list values with type: categorical` });
    }
  }
  return issues;
}
