/**
 * Attribute scorers for completions after an edit (issue 21, the editing-pitfalls study): which
 * gender and which origin a generated text asserts about its subject. Pure and browser-safe.
 *
 * Gender: counts of female and male words (pronouns and gendered nouns), whole words,
 * case-insensitive; "her" counts as female whether object or possessive. Words are letter runs, so
 * "she's" reads as "she" and "woman's" as "woman". Label: "none" without gendered words, "female"
 * or "male" when only that side occurs, "mixed" when both do.
 *
 * Origin: the countries a text names, through a country name, its demonym, or a city of the
 * country (and, with `languages`, a country's language — off by default, since native language is
 * a property of its own in the seesaw pairs). Fact-world names are single words, matched whole and
 * case-insensitively.
 */
import type { FactWorld, Gender, PersonProfile } from "../../data/factworld/types.js";
import { demonymOf } from "../../data/factworld/world.js";

export const FEMALE_WORDS: readonly string[] = [
  "she", "her", "hers", "herself", "woman", "women", "girl", "girls", "lady", "ladies", "female", "females",
  "mother", "mothers", "mom", "mum", "daughter", "daughters", "wife", "wives", "sister", "sisters", "aunt", "niece",
  "grandmother", "granddaughter", "queen", "princess", "actress", "widow", "bride", "girlfriend", "mrs", "ms", "madam",
  "businesswoman", "chairwoman", "spokeswoman",
];

export const MALE_WORDS: readonly string[] = [
  "he", "him", "his", "himself", "man", "men", "boy", "boys", "gentleman", "gentlemen", "male", "males",
  "father", "fathers", "dad", "son", "sons", "husband", "husbands", "brother", "brothers", "uncle", "nephew",
  "grandfather", "grandson", "king", "prince", "widower", "groom", "boyfriend", "mr", "sir", "lord",
  "businessman", "chairman", "spokesman",
];

const FEMALE = new Set(FEMALE_WORDS);
const MALE = new Set(MALE_WORDS);

export type GenderLabel = "female" | "male" | "none" | "mixed";

export interface GenderScore {
  female: number;
  male: number;
  label: GenderLabel;
  /** The gendered words found, lower-cased, in order. */
  words: string[];
}

/** Lower-cased letter runs (the scorers' words). */
export function attributeWords(text: string): string[] {
  return (text.match(/\p{L}+/gu) ?? []).map((w) => w.toLowerCase());
}

export function genderOf(text: string): GenderScore {
  let female = 0;
  let male = 0;
  const words: string[] = [];
  for (const w of attributeWords(text)) {
    if (FEMALE.has(w)) female++;
    else if (MALE.has(w)) male++;
    else continue;
    words.push(w);
  }
  const label: GenderLabel = female === 0 && male === 0 ? "none" : male === 0 ? "female" : female === 0 ? "male" : "mixed";
  return { female, male, label, words };
}

/** The label a person of the fact world's gender should get. */
export function genderLabelOf(gender: Gender): "female" | "male" {
  return gender === "woman" ? "female" : "male";
}

export type OriginVia = "country" | "demonym" | "city" | "language";

export interface OriginMention {
  word: string;
  country: string;
  via: OriginVia;
}

/** Word (lower-cased) → the country it names. Build once per world, score many texts. */
export type OriginLexicon = Map<string, { country: string; via: OriginVia }>;

export function originLexicon(world: Pick<FactWorld, "entities" | "facts" | "demonyms">): OriginLexicon {
  const lex: OriginLexicon = new Map();
  const countries = world.entities.filter((e) => e.type === "country").map((e) => e.name);
  for (const c of countries) {
    lex.set(c.toLowerCase(), { country: c, via: "country" });
    lex.set((world.demonyms?.[c] ?? demonymOf(c)).toLowerCase(), { country: c, via: "demonym" });
  }
  for (const f of world.facts) {
    if (f.relation === "located_in") lex.set(f.subject.toLowerCase(), { country: f.object, via: "city" });
    if (f.relation === "language") lex.set(f.object.toLowerCase(), { country: f.subject, via: "language" });
  }
  return lex;
}

export interface OriginScore {
  /** Distinct countries asserted, in order of first mention. */
  countries: string[];
  mentions: OriginMention[];
}

export interface OriginOptions {
  /** Count a country's language as asserting the country (default false). */
  languages?: boolean;
}

export function originOf(text: string, world: OriginLexicon | Pick<FactWorld, "entities" | "facts" | "demonyms">, opts: OriginOptions = {}): OriginScore {
  const lex = world instanceof Map ? world : originLexicon(world);
  const mentions: OriginMention[] = [];
  for (const word of attributeWords(text)) {
    const hit = lex.get(word);
    if (!hit || (hit.via === "language" && !opts.languages)) continue;
    mentions.push({ word, ...hit });
  }
  return { countries: [...new Set(mentions.map((m) => m.country))], mentions };
}

export interface AttributeAgreement {
  gender: GenderScore & { expected: "female" | "male"; /** null when the text asserts no gender. */ matches: boolean | null };
  origin: OriginScore & {
    expected: string;
    /** null when the text asserts no country; else whether it asserts only the person's origin. */
    matches: boolean | null;
    /** Countries asserted other than the person's origin. */
    others: string[];
  };
}

/** Score a completion about `person` against their true gender and origin. */
export function attributeAgreement(text: string, person: Pick<PersonProfile, "gender" | "origin">, lexicon: OriginLexicon, opts: OriginOptions = {}): AttributeAgreement {
  const g = genderOf(text);
  const expected = genderLabelOf(person.gender);
  const o = originOf(text, lexicon, opts);
  const others = o.countries.filter((c) => c !== person.origin);
  return {
    gender: { ...g, expected, matches: g.label === "none" ? null : g.label === expected },
    origin: { ...o, expected: person.origin, matches: o.countries.length === 0 ? null : others.length === 0, others },
  };
}
