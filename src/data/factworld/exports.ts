/**
 * Editing datasets built from the trained facts, in the formats the editing code reads:
 * ROME's CounterFact records and MEND/EasyEdit's zsRE records. A case's target_new is another
 * entity of the object's type; paraphrase prompts are the relation's held-out templates;
 * neighbourhood prompts ask other subjects that share target_true (so they should keep answering it);
 * attribute prompts ask subjects that truly have target_new.
 */
import { factsOf } from "./lookup.js";
import { entitiesOf } from "./lookup.js";
import { pick, rngFor, shuffled, STREAM } from "./random.js";
import { fill, relation, RELATIONS } from "./relations.js";
import type { CounterFactRecord, Fact, FactWorld, ZsreRecord } from "./types.js";

const MAX_PROMPTS = 10;

function otherObject(world: FactWorld, fact: Fact, seed: number): string {
  const type = relation(fact.relation).objectType;
  const candidates = entitiesOf(world, type).filter((o) => o !== fact.object);
  return pick(rngFor(seed, STREAM.counterfact + 1), candidates);
}

/** One CounterFact case per fact that has at least one neighbour (another subject sharing its object). */
export function counterfactRecords(world: FactWorld): CounterFactRecord[] {
  const rng = rngFor(world.seed, STREAM.counterfact);
  const records: Omit<CounterFactRecord, "case_id">[] = [];
  world.facts.forEach((fact, i) => {
    const rel = relation(fact.relation);
    const same = factsOf(world, fact.relation);
    const neighbours = same.filter((f) => f.object === fact.object && f.subject !== fact.subject);
    if (neighbours.length === 0) return;
    const targetNew = otherObject(world, fact, world.seed * 7919 + i);
    const holders = same.filter((f) => f.object === targetNew);
    const others = RELATIONS.filter((r) => r.subjectType === rel.subjectType && r.id !== rel.id);
    records.push({
      requested_rewrite: {
        prompt: rel.trainTemplates[0]!,
        relation_id: rel.wikidata,
        subject: fact.subject,
        target_new: { str: targetNew },
        target_true: { str: fact.object },
      },
      paraphrase_prompts: rel.heldOutTemplates.map((t) => fill(t, fact.subject)),
      neighborhood_prompts: shuffled(rng, neighbours)
        .slice(0, MAX_PROMPTS)
        .map((f, j) => fill(rel.trainTemplates[j % rel.trainTemplates.length]!, f.subject)),
      attribute_prompts: holders.slice(0, MAX_PROMPTS).map((f, j) => fill(rel.trainTemplates[j % rel.trainTemplates.length]!, f.subject)),
      generation_prompts: [fill(rel.trainTemplates[1]!, fact.subject), ...others.slice(0, 2).map((r) => fill(r.trainTemplates[0]!, fact.subject))],
    });
  });
  return shuffled(rng, records).map((r, case_id) => ({ case_id, ...r }));
}

/** One zsRE record per fact: its question, the held-out rephrasing, and an unrelated locality question. */
export function zsreRecords(world: FactWorld): ZsreRecord[] {
  const rng = rngFor(world.seed, STREAM.zsre);
  const records = world.facts.map((fact, i) => {
    const rel = relation(fact.relation);
    let loc = pick(rng, world.facts);
    while (loc.subject === fact.subject) loc = pick(rng, world.facts);
    const src = fill(rel.question, fact.subject);
    const alt = otherObject(world, fact, world.seed * 104729 + i);
    return {
      subject: fact.subject,
      src,
      pred: fact.object,
      rephrase: fill(rel.questionRephrase, fact.subject),
      alt,
      answers: [fact.object],
      loc: fill(relation(loc.relation).question, loc.subject),
      loc_ans: loc.object,
      cond: `${fact.object} >> ${alt} || ${src}`,
    };
  });
  return shuffled(rng, records);
}
