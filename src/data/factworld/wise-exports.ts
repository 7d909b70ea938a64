/**
 * Fact-world analogues of WISE's lifelong-editing datasets (src/data/editing/wise.ts reads both),
 * in exactly WISE's record formats and using only the world's vocabulary, so the built-in
 * word-level model can be edited and scored on them (real WikiBio / temporal text would be all
 * <unk> to its tokenizer).
 *
 * Hallucination-style (WISE's WikiBio records: a passage about a person, then the sentence that
 * should follow it): per person, a short passage stating three of their four facts (birthplace,
 * employer, profession, citizenship) is the prompt, and target_new is the next sentence stating
 * the fourth relation with a counterfactual object (another entity of the object's type).
 *
 * Temporal-style (WISE's temporal records: prompt = subject, target_new = a description that
 * continues it, ood_rephrase = the same knowledge phrased differently): per person, target_new
 * gives three new (counterfactual) facts — "is originally from C , works for K and works as a P ." —
 * and ood_rephrase says them with other words ("In fact , the hometown of S is C , …"); per
 * company, a new headquarters.
 *
 * Locality in both (WISE: a web-text prefix and its continuation): a true fact about another
 * subject, its train-template prompt and "object ." as the ground truth.
 *
 * Deterministic from the world: every choice comes from rngFor(world.seed, stream) (random.ts).
 */
import { entitiesOf, factsOf } from "./lookup.js";
import { pick, rngFor, shuffled } from "./random.js";
import { fill, relation } from "./relations.js";
import type { Fact, FactWorld, RelationId } from "./types.js";
import type { WiseRecord, WiseTemporalRecord } from "../editing/wise.js";
import type { Rng } from "../../util/rng.js";

/**
 * Seed streams of these generators. Kept here (not in random.ts's STREAM, which this file does not
 * own) and far from STREAM's small numbers so that no other generator's stream is shared.
 */
export const WISE_STREAM = { hallucination: 1001, temporal: 1002 } as const;

const PERSON_RELATIONS: RelationId[] = ["born_in", "works_for", "occupation", "citizen_of"];

/** "{subject} <template> object ." with the relation's first train template. */
function statement(fact: Fact): string {
  return `${fill(relation(fact.relation).trainTemplates[0]!, fact.subject)} ${fact.object} .`;
}

/** One of the subject's facts per relation. */
function factOf(world: FactWorld, subject: string, rel: RelationId): Fact {
  const f = world.facts.find((x) => x.subject === subject && x.relation === rel);
  if (!f) throw new RangeError(`the fact world has no ${rel} fact for ${subject}`);
  return f;
}

/** Another entity of the relation's object type than the true object. */
function counterfactual(world: FactWorld, rng: Rng, fact: Fact): string {
  const candidates = entitiesOf(world, relation(fact.relation).objectType).filter((o) => o !== fact.object);
  return pick(rng, candidates);
}

/** A true fact that neither mentions `subject` as subject nor has it as object. */
function localityOf(world: FactWorld, rng: Rng, subject: string): { locality_prompt: string; locality_ground_truth: string } {
  let f = pick(rng, world.facts);
  while (f.subject === subject || f.object === subject) f = pick(rng, world.facts);
  return { locality_prompt: fill(relation(f.relation).trainTemplates[0]!, f.subject), locality_ground_truth: `${f.object} .` };
}

/** One hallucination-style record per person (100 for the default world). */
export function wiseHallucinationRecords(world: FactWorld): WiseRecord[] {
  const rng = rngFor(world.seed, WISE_STREAM.hallucination);
  const people = entitiesOf(world, "person");
  const records = people.map((person): WiseRecord => {
    const target = pick(rng, PERSON_RELATIONS);
    const passage = PERSON_RELATIONS.filter((r) => r !== target).map((r) => statement(factOf(world, person, r)));
    const edited = factOf(world, person, target);
    const targetNew = `${fill(relation(target).trainTemplates[0]!, person)} ${counterfactual(world, rng, edited)} .`;
    return { prompt: passage.join(" "), target_new: targetNew, subject: person, ...localityOf(world, rng, person) };
  });
  return shuffled(rng, records);
}

/** One temporal-style record per person and per company (116 for the default world). */
export function wiseTemporalRecords(world: FactWorld): WiseTemporalRecord[] {
  const rng = rngFor(world.seed, WISE_STREAM.temporal);
  const records: WiseTemporalRecord[] = [];
  for (const person of entitiesOf(world, "person")) {
    const city = counterfactual(world, rng, factOf(world, person, "born_in"));
    const company = counterfactual(world, rng, factOf(world, person, "works_for"));
    const job = counterfactual(world, rng, factOf(world, person, "occupation"));
    records.push({
      prompt: person,
      target_new: `is originally from ${city} , works for ${company} and works as a ${job} .`,
      subject: person,
      ood_rephrase: `In fact , the hometown of ${person} is ${city} , the employer of ${person} is ${company} and the profession of ${person} is ${job} .`,
      ...localityOf(world, rng, person),
    });
  }
  for (const hq of factsOf(world, "headquartered_in")) {
    const city = counterfactual(world, rng, hq);
    records.push({
      prompt: hq.subject,
      target_new: `is headquartered in ${city} .`,
      subject: hq.subject,
      ood_rephrase: `In fact , the headquarters of ${hq.subject} are in ${city} .`,
      ...localityOf(world, rng, hq.subject),
    });
  }
  return shuffled(rng, records);
}
