/**
 * The edit kind's editing-pitfalls part (issue 21; eval/editing/seesaw.ts says what is measured):
 * the `seesaw:` config block, the extra scores the edits stage asks for (attribute-prompt pairs and
 * the cross-property probe), and the `pitfalls` stage, which reads the per-case records the edits
 * stage wrote — as the study's own scripts read theirs — and writes per-case measures, their
 * means, and a table with the study's t-tests into the run's report.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { formatNumber } from "../../analysis/descriptive.js";
import { ConfigError } from "../../errors.js";
import type { EditCase } from "../../data/editing/case.js";
import type { FactWorld } from "../../data/factworld/types.js";
import type { CaseRecord } from "../../edit/case-records.js";
import type { ChoiceProbe, ScoreCasesOptions } from "../../eval/editing/score.js";
import type { SeesawContext, SeesawPropertyId, SeesawTableRow } from "../../eval/editing/seesaw.js";
import { s, type Infer } from "../schema/schema.js";
import type { SectionTable } from "../report/section.js";

export const SEESAW_PROPERTY_IDS = ["P19", "P27", "P21", "P103", "P101"] as const satisfies readonly SeesawPropertyId[];

/** The fact-world relation that plays each seesaw property (data/factworld/seesaw-exports.ts). */
const RELATION_OF: Record<SeesawPropertyId, string> = { P19: "born_in", P27: "citizen_of", P21: "gender", P103: "native_language", P101: "occupation" };

export const seesawField = s
  .nullable(
    s.object({
      edited: s.enum(SEESAW_PROPERTY_IDS).describeAs("the property each case edits (the pair file's first id: P19 birthplace, P27 citizenship, P21 gender, P103 native language, P101 field of work)"),
      probed: s.nullable(s.enum(SEESAW_PROPERTY_IDS)).describeAs("the other property asked after the edit (the cross-property probe); null = none (the _eff file)"),
      world: s.nullable(s.string()).describeAs("the fact world's world.json (people's gender and origin, the probed property's answers); null = <model>/data/world.json"),
    }),
  )
  .describeAs("the editing-pitfalls measures (bias of completions, single-token bias by gender, cross-property probe) on seesaw-format cases; data null = <model>/data/seesaw/seesaw_cf_<edited>_<probed>.json. Needs a model trained on an attribute world (factworld-m)");

export type SeesawConfig = NonNullable<Infer<typeof seesawField>>;

/** The seesaw pair file of the model's data export for this config. */
export function seesawDataFile(modelDir: string, c: SeesawConfig): string {
  return path.join(modelDir, "data", "seesaw", `seesaw_cf_${c.edited}_${c.probed ?? "eff"}.json`);
}

export function seesawWorldFile(modelDir: string, c: SeesawConfig): string {
  return c.world ?? path.join(modelDir, "data", "world.json");
}

export async function loadSeesawWorld(file: string): Promise<Pick<FactWorld, "entities" | "facts" | "people" | "demonyms">> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new ConfigError("SEESAW_WORLD_MISSING", `config.seesaw.world: no fact world at ${file}`, { field: "config.seesaw.world", fix: "give the world.json of the model's data export (an attribute world: scalpel train-default --variant m writes one)" });
  }
  const world = JSON.parse(text) as FactWorld;
  if (!world.people?.length || !Array.isArray(world.facts)) {
    throw new ConfigError("SEESAW_WORLD_ATTRIBUTES", `${file} has no people with gender and origin: the pitfalls measures need an attribute world`, { field: "config.seesaw.world", fix: "use factworld-m's data/world.json" });
  }
  return world;
}

/** What the seesaw measures need from the world: attributes, the origin lexicon, the probed answers. */
export async function seesawContext(world: Pick<FactWorld, "entities" | "facts" | "people" | "demonyms">, c: SeesawConfig): Promise<SeesawContext & { candidates: string[] }> {
  const { originLexicon } = await import("../../eval/editing/attributes.js");
  const relation = c.probed ? RELATION_OF[c.probed] : undefined;
  const truth = new Map(world.facts.filter((f) => f.relation === relation).map((f) => [f.subject, f.object]));
  return {
    edited: c.edited,
    ...(c.probed ? { probed: c.probed } : {}),
    people: new Map(world.people!.map((p) => [p.name, { gender: p.gender, origin: p.origin }])),
    lexicon: originLexicon(world),
    probedTruth: (subject) => truth.get(subject),
    candidates: [...new Set(truth.values())].sort(),
  };
}

/**
 * The scores the edits stage adds for the study: both targets after each attribute prompt, and
 * (pair files) every candidate answer of the probed property after the case's first generation
 * prompt, which the pair files make the probed property's prompt ("The gender of X is").
 */
export function seesawScoring(candidates: readonly string[], probed: boolean): Pick<ScoreCasesOptions, "attributePrompts" | "choices"> {
  return {
    attributePrompts: true,
    ...(probed ? { choices: (c: EditCase): ChoiceProbe[] => (c.generationPrompts[0] ? [{ prompt: c.generationPrompts[0], candidates: [...candidates] }] : []) } : {}),
  };
}

/** Read back the records the edits stage wrote (edit/case-records.ts), in any order. */
export async function readCaseRecords(dir: string): Promise<CaseRecord[]> {
  const files = (await readdir(dir)).filter((f) => /_edits-case_.*\.json$/.test(f));
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(path.join(dir, f), "utf8")) as CaseRecord));
}

const num = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "" : formatNumber(x));
const pval = (p: number | undefined) => (p === undefined || !Number.isFinite(p) ? "" : p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

export function seesawSectionTable(method: string, c: SeesawConfig, rows: readonly SeesawTableRow[]): SectionTable {
  return {
    title: `${method}: editing pitfalls, edit ${c.edited}${c.probed ? `, probe ${c.probed}` : ""}`,
    header: ["measure", "n", "pre", "post", "post − pre", "p (paired)", "p (study's test)"],
    rows: rows.map((r) => [r.measure, String(r.n), num(r.pre), num(r.post), num(r.diff), pval(r.pPaired), r.pStudy === undefined ? "" : `${pval(r.pStudy)} (${r.pStudyTest})`]),
    note:
      "p_diff.<gender>: mean over the attribute prompts of that gender's people of P(target_new) − P(target_true) (flextape eval_single_token.py). " +
      "completion.<x>: fraction of sampled completions asserting the subject's true gender/origin, another one, or another one the edit did not ask for; mentions_new: completions naming target_new. " +
      "probe.*: the probed property answered correctly (argmax over its candidates) and P(true answer) over the candidates (flextape pair_single.py). " +
      "p (paired): paired t-test post vs pre over cases.",
  };
}
