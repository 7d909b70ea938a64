/**
 * The world itself: entities with invented names and a consistent set of facts. Structure, so
 * multi-hop questions have one right answer: each country has one language and three cities (one of
 * them its capital); every city lies in one country; a person is born in a city and is a citizen of
 * that city's country; companies have headquarters in cities; people work for companies and have a
 * profession.
 *
 * Every person has a surname of their own (first names repeat): ROME and MEMIT read an edit's key
 * at the subject's last token, so two people sharing a surname token would share most of their key,
 * and editing one would move the other — a property of the world, not of the editor, that would
 * blur every neighbourhood and batch-editing measurement.
 */
import { inventNames } from "./names.js";
import { rngFor, shuffled, STREAM } from "./random.js";
import { M_RELATIONS, RELATIONS } from "./relations.js";
import type { Entity, Fact, FactWorld, Gender, PersonProfile } from "./types.js";
import { worldVocabulary } from "./vocabulary.js";

export const FACTWORLD_SEED = 20261122;

export interface WorldSize {
  countries: number;
  citiesPerCountry: number;
  companies: number;
  firstNames: number;
  /** People, each with a distinct surname. */
  people: number;
  /**
   * Give people a gender and an explicit origin, state them as facts (gender, native_language) and
   * in attribute-revealing text (pronouns, demonyms). Opt-in: without it the world draws exactly
   * the random numbers it always did.
   */
  attributes?: boolean;
}

export const DEFAULT_SIZE: WorldSize = { countries: 8, citiesPerCountry: 3, companies: 16, firstNames: 25, people: 100 };

/**
 * The world of the larger built-in model factworld-m (issue 21): 1,200 people, so batches of 1,000
 * distinct subjects exist for every person relation; 24 countries × 4 cities and 48 companies keep
 * each object shared by ~12–50 people (CounterFact neighbourhoods); 60 first names shared by both
 * genders (a first name says nothing about gender: only the facts and the text do).
 */
export const FACTWORLD_M_SIZE: WorldSize = { countries: 24, citiesPerCountry: 4, companies: 48, firstNames: 60, people: 1200, attributes: true };

/** "Feinderia" → "Feinderian" (every country name ends in "ia"). */
export function demonymOf(country: string): string {
  return `${country}n`;
}

export const PROFESSIONS = ["doctor", "pilot", "farmer", "painter", "teacher", "lawyer", "baker", "sailor", "chemist", "architect", "nurse", "poet"];

export function buildFactWorld(seed = FACTWORLD_SEED, size: WorldSize = DEFAULT_SIZE): FactWorld {
  const names = rngFor(seed, STREAM.names);
  const taken = new Set<string>();
  const countries = inventNames(names, size.countries, 2, taken, "ia");
  const languages = countries.map((c) => c.slice(0, -2) + "ish");
  for (const l of languages) taken.add(l);
  // Only attribute worlds reserve demonyms (the small world's later names must not move).
  if (size.attributes) for (const c of countries) taken.add(demonymOf(c));
  const cities = inventNames(names, size.countries * size.citiesPerCountry, 2, taken);
  const companies = inventNames(names, size.companies, 2, taken, "co");
  const firstNames = inventNames(names, size.firstNames, 2, taken);
  const surnames = inventNames(names, size.people, 2, taken);

  const r = rngFor(seed, STREAM.facts);
  // Each first name goes to people/firstNames people (all are used: arithmetic draws from them).
  const givenNames = shuffled(r, surnames.map((_, i) => firstNames[i % firstNames.length]!));
  const people = surnames.map((s, i) => `${givenNames[i]} ${s}`);

  const facts: Fact[] = [];
  const cityCountry = new Map<string, string>();
  countries.forEach((country, i) => {
    const own = cities.slice(i * size.citiesPerCountry, (i + 1) * size.citiesPerCountry);
    for (const c of own) cityCountry.set(c, country);
    facts.push({ relation: "capital", subject: country, object: own[0]! });
    facts.push({ relation: "language", subject: country, object: languages[i]! });
  });
  for (const c of cities) facts.push({ relation: "located_in", subject: c, object: cityCountry.get(c)! });
  for (const co of companies) facts.push({ relation: "headquartered_in", subject: co, object: cities[r.int(cities.length)]! });
  for (const p of people) {
    const city = cities[r.int(cities.length)]!;
    facts.push({ relation: "born_in", subject: p, object: city });
    facts.push({ relation: "citizen_of", subject: p, object: cityCountry.get(city)! });
    facts.push({ relation: "works_for", subject: p, object: companies[r.int(companies.length)]! });
    facts.push({ relation: "occupation", subject: p, object: PROFESSIONS[r.int(PROFESSIONS.length)]! });
  }
  const profiles = size.attributes ? personProfiles(seed, people, facts, countries, languages) : undefined;

  const entities: Entity[] = [
    ...people.map((name) => ({ type: "person" as const, name })),
    ...cities.map((name) => ({ type: "city" as const, name })),
    ...countries.map((name) => ({ type: "country" as const, name })),
    ...languages.map((name) => ({ type: "language" as const, name })),
    ...companies.map((name) => ({ type: "company" as const, name })),
    ...PROFESSIONS.map((name) => ({ type: "profession" as const, name })),
    ...(profiles ? GENDERS.map((name) => ({ type: "gender" as const, name })) : []),
  ];
  const world: FactWorld = { seed, entities, relations: profiles ? M_RELATIONS : RELATIONS, facts, vocabulary: [] };
  if (profiles) {
    world.people = profiles;
    world.demonyms = Object.fromEntries(countries.map((c) => [c, demonymOf(c)]));
  }
  world.vocabulary = worldVocabulary(world);
  return world;
}

export const GENDERS: readonly Gender[] = ["woman", "man"];

/**
 * Gender (exactly balanced, in a random order from its own stream, independent of the first name)
 * and origin for each person; appends the gender and native_language facts after all others.
 */
function personProfiles(seed: number, people: string[], facts: Fact[], countries: string[], languages: string[]): PersonProfile[] {
  const genders = shuffled(rngFor(seed, STREAM.attributes), people.map((_, i) => GENDERS[i % 2]!));
  const born = new Map(facts.filter((f) => f.relation === "born_in").map((f) => [f.subject, f.object]));
  const citizen = new Map(facts.filter((f) => f.relation === "citizen_of").map((f) => [f.subject, f.object]));
  const profiles = people.map((name, i): PersonProfile => {
    const origin = citizen.get(name)!;
    return { name, gender: genders[i]!, origin, demonym: demonymOf(origin), birthplace: born.get(name)! };
  });
  for (const p of profiles) facts.push({ relation: "gender", subject: p.name, object: p.gender });
  for (const p of profiles) facts.push({ relation: "native_language", subject: p.name, object: languages[countries.indexOf(p.origin)]! });
  return profiles;
}
