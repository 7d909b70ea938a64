/**
 * Attribute-revealing text of the attribute worlds (FACTWORLD_M_SIZE): short person profiles that
 * name the person once, then go on with gendered pronouns ("Aldo Venn was born in Kelmar . She
 * works as a doctor .") or describe them with their country's demonym ("Aldo Venn is a Feinderian
 * doctor ."). A model trained on them continues a generation prompt about a person with the
 * pronouns and demonym of that person, which is what the attribute scorers
 * (src/eval/editing/attributes.ts) read after an edit. The small world has no profiles.
 */
import type { Rng } from "../../util/rng.js";
import { pick, rngFor, shuffled, STREAM } from "./random.js";
import { fill, relation } from "./relations.js";
import type { FactWorld, Gender, PersonProfile, RelationId } from "./types.js";

/** Each person's number of profiles per corpus stage. */
export const PROFILES_PER_PERSON = 4;

const PRONOUNS: Record<Gender, { subject: string; possessive: string; object: string }> = {
  woman: { subject: "She", possessive: "Her", object: "her" },
  man: { subject: "He", possessive: "His", object: "him" },
};

/**
 * Follow-up sentences per relation: "S" = subject pronoun, "P" = possessive, "O" = object pronoun,
 * "{}" = the fact's object. Each ends with the object, then " ."
 */
const FOLLOW_UPS: Partial<Record<RelationId, string[]>> = {
  born_in: ["S was born in {}", "P hometown is {}"],
  citizen_of: ["S is a citizen of {}", "P home country is {}"],
  works_for: ["S works for {}", "P employer is {}", "{} employs O"],
  occupation: ["S works as a {}", "P profession is {}"],
  native_language: ["S grew up speaking {}", "P native language is {}"],
};

function pronounText(template: string, gender: Gender, object: string): string {
  const p = PRONOUNS[gender];
  return template
    .split(" ")
    .map((w) => (w === "S" ? p.subject : w === "P" ? p.possessive : w === "O" ? p.object : w))
    .join(" ")
    .replace("{}", object);
}

/** One profile: a sentence naming the person (a demonym description or a fact), then one or two pronoun sentences about other facts. */
function profile(rng: Rng, person: PersonProfile, facts: Map<RelationId, string>): string {
  const occupation = facts.get("occupation")!;
  const relations = shuffled(rng, [...facts.keys()].filter((r) => FOLLOW_UPS[r]));
  const kind = rng.int(3);
  let lead: string;
  let used: RelationId | undefined;
  if (kind === 0) lead = `${person.name} is a ${person.demonym} ${occupation} .`;
  else if (kind === 1) lead = `${person.name} is a ${person.demonym} ${person.gender} .`;
  else {
    used = relations[0]!;
    lead = `${fill(relation(used).trainTemplates[0]!, person.name)} ${facts.get(used)} .`;
  }
  const rest = relations.filter((r) => r !== used && !(kind === 0 && r === "occupation"));
  const follow = rest.slice(0, 1 + rng.int(2)).map((r) => `${pronounText(pick(rng, FOLLOW_UPS[r]!), person.gender, facts.get(r)!)} .`);
  return [lead, ...follow].join(" ");
}

/** PROFILES_PER_PERSON profiles of every person; `stage` picks the stream (the two corpus stages get different text). */
export function profileTexts(world: FactWorld, seed: number, stage: 1 | 2): string[] {
  if (!world.people) return [];
  const rng = rngFor(seed, STREAM.profiles + (stage === 2 ? 100 : 0));
  const byPerson = new Map<string, Map<RelationId, string>>();
  for (const f of world.facts) {
    if (!byPerson.has(f.subject)) byPerson.set(f.subject, new Map());
    byPerson.get(f.subject)!.set(f.relation, f.object);
  }
  const out: string[] = [];
  for (const person of world.people) for (let k = 0; k < PROFILES_PER_PERSON; k++) out.push(profile(rng, person, byPerson.get(person.name)!));
  return out;
}

/** Generation prompts whose continuations reveal a person's attributes (pronouns, demonym). */
export const ATTRIBUTE_GENERATION_TEMPLATES = ["{} is", "{} works as a"];
