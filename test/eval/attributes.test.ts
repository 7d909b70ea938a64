/**
 * Golden tests of the attribute scorers (src/eval/editing/attributes.ts): worked examples whose
 * counts and labels are written out by hand.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { attributeAgreement, genderOf, originLexicon, originOf } from "../../src/eval/editing/attributes.js";
import type { FactWorld } from "../../src/data/factworld/types.js";

test("genderOf: whole words, case-insensitive, pronouns and gendered nouns", () => {
  assert.deepEqual(genderOf("Aldo Venn was born in Kelmar . She works as a doctor ."), { female: 1, male: 0, label: "female", words: ["she"] });
  assert.deepEqual(genderOf("Aldo Venn is a Feinderian man . His employer is Dorco and everyone there knows him ."), { female: 0, male: 3, label: "male", words: ["man", "his", "him"] });
  // "her" counts whether object or possessive; "herself", "mother" and "Woman's" (letter runs) too.
  assert.deepEqual(genderOf("HER mother told her: the Woman's car is hers, she said herself."), { female: 7, male: 0, label: "female", words: ["her", "mother", "her", "woman", "hers", "she", "herself"] });
  // Both sides: mixed.
  assert.deepEqual(genderOf("He met his wife ."), { female: 1, male: 2, label: "mixed", words: ["he", "his", "wife"] });
});

test("genderOf: no false hits inside words or on neutral words", () => {
  // "the", "where", "there", "other", "human", "woman" inside "womanhood", "she" inside "shed", "his" inside "this",
  // "man" inside "manager"/"Germany", "he" inside "hello".
  assert.deepEqual(genderOf("The other manager in Germany shed this hello ; where is there womanhood or a human ?"), { female: 0, male: 0, label: "none", words: [] });
  assert.equal(genderOf("").label, "none");
  assert.equal(genderOf("THEY went home .").label, "none");
});

/** A two-country world: Feinderia (Kelmar, Dosk; Feindish) and Brovia (Tull; Brovish). */
const world: Pick<FactWorld, "entities" | "facts" | "demonyms"> = {
  entities: [
    { type: "country", name: "Feinderia" },
    { type: "country", name: "Brovia" },
    { type: "city", name: "Kelmar" },
    { type: "city", name: "Dosk" },
    { type: "city", name: "Tull" },
    { type: "language", name: "Feindish" },
    { type: "language", name: "Brovish" },
  ],
  facts: [
    { relation: "located_in", subject: "Kelmar", object: "Feinderia" },
    { relation: "located_in", subject: "Dosk", object: "Feinderia" },
    { relation: "located_in", subject: "Tull", object: "Brovia" },
    { relation: "language", subject: "Feinderia", object: "Feindish" },
    { relation: "language", subject: "Brovia", object: "Brovish" },
  ],
};

test("originOf: demonyms, country names and cities name a country; languages only when asked", () => {
  const lex = originLexicon(world);
  assert.deepEqual(originOf("Aldo Venn is a Feinderian doctor .", lex), { countries: ["Feinderia"], mentions: [{ word: "feinderian", country: "Feinderia", via: "demonym" }] });
  assert.deepEqual(originOf("Born in tull , she moved to Kelmar in Feinderia .", lex), {
    countries: ["Brovia", "Feinderia"],
    mentions: [
      { word: "tull", country: "Brovia", via: "city" },
      { word: "kelmar", country: "Feinderia", via: "city" },
      { word: "feinderia", country: "Feinderia", via: "country" },
    ],
  });
  assert.deepEqual(originOf("He grew up speaking Brovish .", lex).countries, []);
  assert.deepEqual(originOf("He grew up speaking Brovish .", lex, { languages: true }).countries, ["Brovia"]);
  // Whole words only: "Tullis", "Dosking" are not cities; a world passed directly works like its lexicon.
  assert.deepEqual(originOf("Tullis and Dosking", world).countries, []);
  // Demonyms come from world.demonyms when given.
  assert.deepEqual(originOf("a Feinder person", { ...world, demonyms: { Feinderia: "Feinder", Brovia: "Brovian" } }).countries, ["Feinderia"]);
});

test("attributeAgreement: a completion against the person's true gender and origin", () => {
  const lex = originLexicon(world);
  const person = { gender: "woman" as const, origin: "Feinderia" };
  const same = attributeAgreement("a Feinderian doctor . She was born in Dosk .", person, lex);
  assert.equal(same.gender.matches, true);
  assert.equal(same.origin.matches, true);
  assert.deepEqual(same.origin.others, []);
  const shifted = attributeAgreement("a Brovian doctor . He was born in Kelmar .", person, lex);
  assert.equal(shifted.gender.label, "male");
  assert.equal(shifted.gender.matches, false);
  assert.equal(shifted.origin.matches, false);
  assert.deepEqual(shifted.origin.others, ["Brovia"]);
  const silent = attributeAgreement("a doctor .", person, lex);
  assert.equal(silent.gender.matches, null);
  assert.equal(silent.origin.matches, null);
});
