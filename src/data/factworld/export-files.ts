/**
 * Write the fact world's datasets to a directory (Node), in the layouts the rest of scalpel reads
 * (src/cli/default-model.ts names them): CounterFact, zsRE, fact queries, GSM8K-format arithmetic,
 * the CAA behaviour layout, styled prompts for probes, tool prompts. Every file is written atomically.
 * An attribute world (FACTWORLD_M_SIZE) also writes its people's attributes (people.json, and
 * people/demonyms in world.json) and the seesaw-style pair files (seesaw/); the small world's files
 * are what they always were.
 */
import path from "node:path";
import { writeFileAtomic } from "../../io/atomic.js";
import { arithmeticProblems } from "./arithmetic.js";
import { behaviourAB, openEndedQuestions, styledPrompts } from "./behaviour.js";
import { factQueries } from "./corpus.js";
import { counterfactRecords, zsreRecords } from "./exports.js";
import { wiseHallucinationRecords, wiseTemporalRecords } from "./wise-exports.js";
import { seesawFiles } from "./seesaw-exports.js";
import { toolPrompts } from "./tools.js";
import type { FactWorld } from "./types.js";

export const BEHAVIOR_NAME = "agreeable";

const json = (v: unknown) => JSON.stringify(v, null, 1) + "\n";
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

export async function exportFactWorldData(world: FactWorld, dir: string): Promise<string[]> {
  const files: Record<string, string> = {
    "world.json": json({ seed: world.seed, entities: world.entities, facts: world.facts, relations: world.relations, ...(world.people ? { people: world.people, demonyms: world.demonyms } : {}) }),
    "counterfact.json": json(counterfactRecords(world)),
    "zsre.json": json(zsreRecords(world)),
    "wise-hallucination.json": json(wiseHallucinationRecords(world)),
    "wise-temporal.json": json(wiseTemporalRecords(world)),
    "qa.json": json(factQueries(world)),
    "arithmetic/train.jsonl": jsonl(arithmeticProblems(world, "train").map(({ question, answer }) => ({ question, answer }))),
    "arithmetic/test.jsonl": jsonl(arithmeticProblems(world, "test").map(({ question, answer }) => ({ question, answer }))),
    [`caa/generate/${BEHAVIOR_NAME}/generate_dataset.json`]: json(behaviourAB(world, "generate")),
    [`caa/test/${BEHAVIOR_NAME}/test_dataset_ab.json`]: json(behaviourAB(world, "test")),
    [`caa/test/${BEHAVIOR_NAME}/test_dataset_open_ended.json`]: json(openEndedQuestions(world)),
    "behaviour.json": json([...styledPrompts(world, "train"), ...styledPrompts(world, "test")]),
    "tools.json": json(toolPrompts(world, "test", 200)),
  };
  if (world.people) {
    files["people.json"] = json(world.people);
    // Compact, as the seesaw files are: 20 pair files of 1,200 records each.
    for (const [name, records] of Object.entries(seesawFiles(world))) files[`seesaw/${name}`] = JSON.stringify(records) + "\n";
  }
  for (const [name, text] of Object.entries(files)) await writeFileAtomic(path.join(dir, name), text);
  return Object.keys(files);
}
