/**
 * Editing datasets built from the trained facts, in the formats the editing code reads:
 * ROME's CounterFact records and MEND/EasyEdit's zsRE records. A case's target_new is another
 * entity of the object's type; paraphrase prompts are the relation's held-out templates;
 * neighbourhood prompts ask other subjects that share target_true (so they should keep answering it);
 * attribute prompts ask subjects that truly have target_new.
 */
import { entitiesOf } from "./lookup.js";
import { pick, rngFor, shuffled, STREAM } from "./random.js";
import { ATTRIBUTE_GENERATION_TEMPLATES } from "./profiles.js";
import { fill, relation } from "./relations.js";
import type { CounterFactRecord, EntityType, Fact, FactWorld, RelationId, ZsreRecord } from "./types.js";

const MAX_PROMPTS = 10;

function otherObject(world: FactWorld, fact: Fact, seed: number, byType = entitiesByType(world)): string {
  const candidates = byType(relation(fact.relation).objectType).filter((o) => o !== fact.object);
  return pick(rngFor(seed, STREAM.counterfact + 1), candidates);
}

/** entitiesOf, memoised per type: the 1,200-person world asks it once per fact. */
function entitiesByType(world: FactWorld): (type: EntityType) => string[] {
  const cache = new Map<EntityType, string[]>();
  return (type) => {
    if (!cache.has(type)) cache.set(type, entitiesOf(world, type));
    return cache.get(type)!;
  };
}

/** One CounterFact case per fact that has at least one neighbour (another subject sharing its object). */
export function counterfactRecords(world: FactWorld): CounterFactRecord[] {
  const rng = rngFor(world.seed, STREAM.counterfact);
  const records: Omit<CounterFactRecord, "case_id">[] = [];
  // Facts grouped by relation and then by object, in world order (what factsOf(…).filter(…) returns).
  const byRelation = new Map<RelationId, Map<string, Fact[]>>();
  for (const f of world.facts) {
    if (!byRelation.has(f.relation)) byRelation.set(f.relation, new Map());
    const byObject = byRelation.get(f.relation)!;
    if (!byObject.has(f.object)) byObject.set(f.object, []);
    byObject.get(f.object)!.push(f);
  }
  const byType = entitiesByType(world);
  world.facts.forEach((fact, i) => {
    const rel = relation(fact.relation);
    const same = byRelation.get(fact.relation)!;
    const neighbours = same.get(fact.object)!.filter((f) => f.subject !== fact.subject);
    if (neighbours.length === 0) return;
    const targetNew = otherObject(world, fact, world.seed * 7919 + i, byType);
    const holders = same.get(targetNew) ?? [];
    const others = world.relations.filter((r) => r.subjectType === rel.subjectType && r.id !== rel.id);
    // Attribute worlds add prompts whose continuations reveal the subject's gender and origin.
    const revealing = world.people && rel.subjectType === "person" ? ATTRIBUTE_GENERATION_TEMPLATES.map((t) => fill(t, fact.subject)) : [];
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
      generation_prompts: [fill(rel.trainTemplates[1]!, fact.subject), ...others.slice(0, 2).map((r) => fill(r.trainTemplates[0]!, fact.subject)), ...revealing],
    });
  });
  return shuffled(rng, records).map((r, case_id) => ({ case_id, ...r }));
}

/** One zsRE record per fact: its question, the held-out rephrasing, and an unrelated locality question. */
export function zsreRecords(world: FactWorld): ZsreRecord[] {
  const rng = rngFor(world.seed, STREAM.zsre);
  const byType = entitiesByType(world);
  const records = world.facts.map((fact, i) => {
    const rel = relation(fact.relation);
    let loc = pick(rng, world.facts);
    while (loc.subject === fact.subject) loc = pick(rng, world.facts);
    const src = fill(rel.question, fact.subject);
    const alt = otherObject(world, fact, world.seed * 104729 + i, byType);
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
