/**
 * Seesaw-style CounterFact files for an attribute world (FACTWORLD_M_SIZE), in the layout of the
 * "Flex Tape Can't Fix That" files in ../shared/data/seesaw: `seesaw_cf_<edited>_<probed>.json`
 * (edit one property of a person, then generate with prompts about another property and with
 * "{subject} is", whose continuations reveal gender and origin) and `…_eff.json` (the edit prompt
 * itself, for efficacy). Record fields and their order are those of the seesaw files:
 * case_id, requested_rewrite {prompt, relation_id, target_new {str, id}, target_true {str, id},
 * subject}, generation_prompts (5 × the probed property's prompt, 5 × "{subject} is"),
 * attribute_prompts, attribute_aux_info, attribute_aux_ent.
 *
 * Differences, by necessity: ids are the fact world's ("E<index into world.entities>", there are no
 * Wikidata Q-ids); P101 "field of work" is the world's occupation (the closest property); gender
 * objects are "woman"/"man" (the words the model is trained to predict), not "female"/"male".
 * attribute_prompts ask the edited property of other people who truly hold target_new: up to half
 * of them women, then up to half men, as the seesaw files list up to 100 women then 100 men
 * (flextape dsets/create_dataset.py), so the study's single-token bias can be split by the
 * holders' gender (eval/editing/seesaw.ts); attribute_aux_ent names them and attribute_aux_info
 * gives their ids.
 */
import { deriveSeed, Rng } from "../../util/rng.js";
import { entitiesOf } from "./lookup.js";
import { pick, shuffled, STREAM } from "./random.js";
import { fill, relation } from "./relations.js";
import type { CounterFactRecord, FactWorld, RelationId } from "./types.js";

/** The seesaw properties and the relations that play them, in case-id order. */
export const SEESAW_PROPERTIES = { P19: "born_in", P27: "citizen_of", P21: "gender", P103: "native_language", P101: "occupation" } as const satisfies Record<string, RelationId>;
export type SeesawProperty = keyof typeof SEESAW_PROPERTIES;
const PROPERTY_IDS = Object.keys(SEESAW_PROPERTIES) as SeesawProperty[];

/** Generation prompts per probed property, as in the seesaw files: 5 + 5. */
const PROBE_REPEATS = 5;

export interface SeesawTarget {
  str: string;
  id: string;
}

export interface SeesawRewrite {
  prompt: string;
  relation_id: SeesawProperty;
  target_new: SeesawTarget;
  target_true: SeesawTarget;
  subject: string;
}

export interface SeesawRecord {
  case_id: number;
  requested_rewrite: SeesawRewrite;
  generation_prompts: string[];
  attribute_prompts: string[];
  attribute_aux_info: string[];
  attribute_aux_ent: string[];
}

export interface SeesawEffRecord {
  case_id: number;
  requested_rewrite: SeesawRewrite;
  attribute_prompts: string[];
}

function attributeWorld(world: FactWorld): asserts world is FactWorld & Required<Pick<FactWorld, "people" | "demonyms">> {
  if (!world.people || !world.demonyms) throw new RangeError("seesaw exports need a world built with attributes (FACTWORLD_M_SIZE)");
}

/** Per person, the object of each relation. */
function personFacts(world: FactWorld): Map<string, Map<RelationId, string>> {
  const out = new Map<string, Map<RelationId, string>>();
  for (const f of world.facts) {
    if (!out.has(f.subject)) out.set(f.subject, new Map());
    out.get(f.subject)!.set(f.relation, f.object);
  }
  return out;
}

/**
 * One edit per person of `edited`: target_new is another object of the relation; a new birthplace
 * lies in another country and a new citizenship is another country, so the edit contradicts the
 * person's origin (what the origin scorer then looks for in the completions).
 */
export function seesawRewrites(world: FactWorld, edited: SeesawProperty): { case_id: number; rewrite: SeesawRewrite }[] {
  attributeWorld(world);
  const rel = relation(SEESAW_PROPERTIES[edited]);
  const facts = personFacts(world);
  const ids = new Map(world.entities.map((e, i) => [e.name, `E${i}`]));
  const located = new Map(world.facts.filter((f) => f.relation === "located_in").map((f) => [f.subject, f.object]));
  const pool = entitiesOf(world, rel.objectType);
  const rng = new Rng(deriveSeed(world.seed, STREAM.seesaw, edited));
  const k = PROPERTY_IDS.indexOf(edited);
  return world.people.map((person, i) => {
    const truth = facts.get(person.name)!.get(rel.id)!;
    const candidates = rel.id === "born_in" ? pool.filter((c) => located.get(c) !== person.origin) : pool.filter((o) => o !== truth);
    const targetNew = pick(rng, candidates);
    return {
      case_id: k * 10000 + i,
      rewrite: {
        prompt: rel.trainTemplates[0]!,
        relation_id: edited,
        target_new: { str: targetNew, id: ids.get(targetNew)! },
        target_true: { str: truth, id: ids.get(truth)! },
        subject: person.name,
      },
    };
  });
}

/** The records of `seesaw_cf_<edited>_<probed>.json`. */
export function seesawRecords(world: FactWorld, edited: SeesawProperty, probed: SeesawProperty, maxAttributePrompts = 10): SeesawRecord[] {
  if (edited === probed) throw new RangeError(`seesaw pair needs two properties, got ${edited} twice`);
  attributeWorld(world);
  const rel = relation(SEESAW_PROPERTIES[edited]);
  const probe = relation(SEESAW_PROPERTIES[probed]);
  const facts = personFacts(world);
  const ids = new Map(world.entities.map((e, i) => [e.name, `E${i}`]));
  const holders = new Map<string, string[]>();
  for (const f of world.facts) {
    if (f.relation !== rel.id) continue;
    if (!holders.has(f.object)) holders.set(f.object, []);
    holders.get(f.object)!.push(f.subject);
  }
  const rng = new Rng(deriveSeed(world.seed, STREAM.seesaw, edited, probed));
  const gender = new Map(world.people.map((p) => [p.name, p.gender]));
  const half = Math.ceil(maxAttributePrompts / 2);
  return seesawRewrites(world, edited).map(({ case_id, rewrite }) => {
    const others = shuffled(rng, (holders.get(rewrite.target_new.str) ?? []).filter((p) => p !== rewrite.subject));
    const aux = [...others.filter((p) => gender.get(p) === "woman").slice(0, half), ...others.filter((p) => gender.get(p) === "man").slice(0, half)].slice(0, maxAttributePrompts);
    return {
      case_id,
      requested_rewrite: rewrite,
      generation_prompts: [...Array(PROBE_REPEATS).fill(fill(probe.trainTemplates[0]!, rewrite.subject)), ...Array(PROBE_REPEATS).fill(`${rewrite.subject} is`)],
      attribute_prompts: aux.map((p) => fill(rel.trainTemplates[0]!, p)),
      attribute_aux_info: aux.map((p) => ids.get(p)!),
      attribute_aux_ent: aux,
    };
  });
}

/** The records of `seesaw_cf_<edited>_eff.json`: the edit prompt about the subject itself. */
export function seesawEffRecords(world: FactWorld, edited: SeesawProperty): SeesawEffRecord[] {
  return seesawRewrites(world, edited).map(({ case_id, rewrite }) => ({ case_id, requested_rewrite: rewrite, attribute_prompts: [fill(rewrite.prompt, rewrite.subject)] }));
}

/** Every seesaw file of an attribute world: all ordered pairs of properties, with their _eff twins, and one _eff per property. */
export function seesawFiles(world: FactWorld, maxAttributePrompts = 10): Record<string, SeesawRecord[] | SeesawEffRecord[]> {
  const files: Record<string, SeesawRecord[] | SeesawEffRecord[]> = {};
  for (const e of PROPERTY_IDS) {
    const eff = seesawEffRecords(world, e);
    files[`seesaw_cf_${e}_eff.json`] = eff;
    for (const p of PROPERTY_IDS) {
      if (p === e) continue;
      files[`seesaw_cf_${e}_${p}.json`] = seesawRecords(world, e, p, maxAttributePrompts);
      files[`seesaw_cf_${e}_${p}_eff.json`] = eff;
    }
  }
  return files;
}

/** Seesaw property of a CounterFact relation id, where the fact world has one (P106 occupation plays P101). */
export function seesawPropertyOf(record: Pick<CounterFactRecord, "requested_rewrite">): SeesawProperty | undefined {
  const id = record.requested_rewrite.relation_id;
  return id === "P106" ? "P101" : id in SEESAW_PROPERTIES ? (id as SeesawProperty) : undefined;
}
