/**
 * The attribute fact world of factworld-m (issue 21): opt-in, so the small world stays byte-identical;
 * 1,200 people with gender and origin; text that reveals them (pronouns, demonyms); the gender and
 * native-language relations; CounterFact and seesaw-style exports; the model spec.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import {
  buildFactWorld,
  counterfactRecords,
  factQueries,
  factsOf,
  factWorldTokenizer,
  FACTWORLD_M_SIZE,
  FACTWORLD_SEED,
  seesawEffRecords,
  seesawFiles,
  seesawRecords,
  STAGE2_MIX,
  trainingDocuments,
  zsreRecords,
} from "../../src/data/factworld/index.js";
import { exportFactWorldData } from "../../src/data/factworld/export-files.js";
import type { PersonProfile } from "../../src/data/factworld/types.js";
import { factWorldCorpus } from "../../src/edit/mom2.js";
import { genderLabelOf, genderOf, originLexicon, originOf } from "../../src/eval/editing/attributes.js";
import { CORPUS_TOKENS, FACTWORLD_M_STAGE2, FACTWORLD_M_TRAINING, factworldMConfigJson, scaledSteps } from "../../src/train/factworld-m.js";

const t0 = performance.now();
const world = buildFactWorld(FACTWORLD_SEED, FACTWORLD_M_SIZE);
const buildMs = performance.now() - t0;
const small = buildFactWorld();
const docs1 = trainingDocuments(world);
const docs2 = trainingDocuments(world, world.seed, STAGE2_MIX);

/**
 * sha256 over everything the small world produces (world, both corpus stages, tokenizer, queries,
 * CounterFact, zsRE, every exported file, and the seed-7 world), computed with the code as it was
 * before the attribute world existed: the committed models/factworld was trained on exactly this.
 */
const SMALL_WORLD_SHA256 = "c4b5fb7a7f58cd31be0532078cd05f3ed19417319c591aedfc26dc62cc8fb295";

test("the small world, its corpus, tokenizer and exports are byte-identical to before the attribute world", async () => {
  const w = small;
  const parts: [string, string][] = [
    ["world", JSON.stringify(w)],
    ["corpus1", JSON.stringify(trainingDocuments(w))],
    ["corpus2", JSON.stringify(trainingDocuments(w, w.seed, STAGE2_MIX))],
    ["tokenizer", JSON.stringify(factWorldTokenizer(w).toJSON())],
    ["queries", JSON.stringify(factQueries(w))],
    ["cf", JSON.stringify(counterfactRecords(w))],
    ["zsre", JSON.stringify(zsreRecords(w))],
  ];
  const dir = await mkdtemp(path.join(tmpdir(), "fw-small-"));
  const files = (await exportFactWorldData(w, dir)).sort();
  assert.ok(!files.some((f) => f.startsWith("seesaw/") || f === "people.json"));
  for (const f of files) parts.push([`file:${f}`, await readFile(path.join(dir, f), "utf8")]);
  const w7 = buildFactWorld(7);
  parts.push(["world7", JSON.stringify(w7) + JSON.stringify(trainingDocuments(w7))]);
  const all = createHash("sha256");
  for (const [k, v] of parts) all.update(k + "\0" + v + "\0");
  assert.equal(all.digest("hex"), SMALL_WORLD_SHA256);
  assert.equal(w.people, undefined);
  assert.ok(!("people" in w) && !("demonyms" in w));
});

test("the m-world: 1,200 people with surnames of their own, 24 countries × 4 cities, 48 companies; the build is deterministic", () => {
  const count = (t: string) => world.entities.filter((e) => e.type === t).length;
  assert.deepEqual([count("person"), count("country"), count("city"), count("company"), count("gender")], [1200, 24, 96, 48, 2]);
  const surnames = world.entities.filter((e) => e.type === "person").map((e) => e.name.split(" ")[1]);
  assert.equal(new Set(surnames).size, 1200);
  assert.equal(world.facts.length, 24 * 2 + 96 + 48 + 1200 * 6);
  console.log(`# m-world built in ${buildMs.toFixed(0)} ms`);
  assert.deepEqual(buildFactWorld(FACTWORLD_SEED, FACTWORLD_M_SIZE), world);
});

test("gender is balanced and a fact; origin is the birth city's country, and native language its language", () => {
  const people = world.people!;
  assert.equal(people.length, 1200);
  assert.equal(people.filter((p) => p.gender === "woman").length, 600);
  const located = new Map(factsOf(world, "located_in").map((f) => [f.subject, f.object]));
  const language = new Map(factsOf(world, "language").map((f) => [f.subject, f.object]));
  const of = (rel: Parameters<typeof factsOf>[1]) => new Map(factsOf(world, rel).map((f) => [f.subject, f.object]));
  const [born, citizen, gender, native] = [of("born_in"), of("citizen_of"), of("gender"), of("native_language")];
  for (const p of people) {
    assert.equal(born.get(p.name), p.birthplace);
    assert.equal(located.get(p.birthplace), p.origin);
    assert.equal(citizen.get(p.name), p.origin);
    assert.equal(gender.get(p.name), p.gender);
    assert.equal(native.get(p.name), language.get(p.origin));
    assert.equal(p.demonym, `${p.origin}n`);
    assert.equal(world.demonyms![p.origin], p.demonym);
  }
  // The first name says nothing about gender: most first names are given to both.
  const byFirst = new Map<string, Set<string>>();
  for (const p of people) byFirst.set(p.name.split(" ")[0]!, (byFirst.get(p.name.split(" ")[0]!) ?? new Set()).add(p.gender));
  assert.ok([...byFirst.values()].filter((s) => s.size === 2).length >= 50);
});

test("the corpus reveals attributes: every pronoun agrees with the person last named, every demonym with their origin", () => {
  const bySurname = new Map(world.people!.map((p) => [p.name.split(" ")[1]!, p]));
  let pronouns = 0;
  let demonyms = 0;
  for (const doc of [...docs1, ...docs2]) {
    let current: PersonProfile | undefined;
    for (const sentence of doc.split(" . ")) {
      const words = sentence.split(" ");
      const named = words.map((w) => bySurname.get(w)).find(Boolean);
      if (named) current = named;
      const g = genderOf(words.filter((w) => ["She", "He", "Her", "His", "her", "him"].includes(w)).join(" "));
      if (g.label !== "none") {
        assert.ok(current && !named, `pronoun without an antecedent: ${doc}`);
        assert.equal(g.label, genderLabelOf(current.gender), doc);
        pronouns++;
      }
      const d = words.find((w) => w.endsWith("ian") && w.slice(0, -1) in world.demonyms!);
      if (d) {
        assert.equal(d, named!.demonym, doc);
        demonyms++;
      }
    }
  }
  assert.ok(pronouns > 10_000 && demonyms > 3_000, `${pronouns} pronoun sentences, ${demonyms} demonyms`);
  const example = docs1.find((d) => / She (works|was|is) /.test(d));
  assert.ok(example, "a profile such as 'X was born in Y . She works as a Z .'");
});

test("the m-world's new words enter its vocabulary only; held-out templates stay out of its corpus", () => {
  const vocab = new Set(world.vocabulary);
  const smallVocab = new Set(small.vocabulary);
  for (const w of ["She", "He", "Her", "His", "her", "him", "woman", "man", ...Object.values(world.demonyms!)]) assert.ok(vocab.has(w), w);
  for (const w of ["She", "He", "His", "woman", "gender", "tongue"]) assert.ok(!smallVocab.has(w), w);
  const corpus = [...docs1, ...docs2].join(" \n ");
  for (const rel of world.relations) {
    for (const t of rel.heldOutTemplates) {
      const prefix = t.split("{}")[0]!.trim();
      const suffix = t.split("{}")[1]!.trim();
      for (const p of world.people!.slice(0, 50)) assert.ok(!corpus.includes(t.replace("{}", p.name)), `${t} (${p.name})`);
      for (const w of `${prefix} ${suffix}`.split(" ").filter(Boolean)) assert.ok(vocab.has(w), `${w} of ${t}`);
    }
  }
  // Every exported text tokenizes without <unk>.
  const tok = factWorldTokenizer(world);
  const unk = tok.encode("<unk>", { addSpecialTokens: false }).ids[0];
  for (const r of seesawRecords(world, "P19", "P21").slice(0, 50)) {
    for (const p of [...r.generation_prompts, ...r.attribute_prompts, r.requested_rewrite.target_new.str]) assert.ok(!tok.encode(p).ids.includes(unk!), p);
  }
});

test("CounterFact for the m-world: gender (P21) and native language (P103) records, generation prompts that reveal attributes", () => {
  const cf = counterfactRecords(world);
  const gender = cf.filter((r) => r.requested_rewrite.relation_id === "P21");
  const native = cf.filter((r) => r.requested_rewrite.relation_id === "P103");
  assert.equal(gender.length, 1200);
  assert.equal(native.length, 1200);
  for (const r of gender) assert.notEqual(r.requested_rewrite.target_new.str, r.requested_rewrite.target_true.str);
  const r = gender[0]!;
  assert.ok(r.generation_prompts.includes(`${r.requested_rewrite.subject} is`));
  assert.ok(r.generation_prompts.includes(`${r.requested_rewrite.subject} works as a`));
  // Batches of 1,000 distinct subjects exist for every person relation.
  for (const id of ["P19", "P27", "P108", "P106", "P21", "P103"]) assert.ok(new Set(cf.filter((x) => x.requested_rewrite.relation_id === id).map((x) => x.requested_rewrite.subject)).size >= 1000, id);
});

test("seesaw export: the seesaw files' fields and order, edits that contradict the person, attribute prompts of holders", () => {
  const recs = seesawRecords(world, "P19", "P21");
  assert.equal(recs.length, 1200);
  const real = path.resolve(import.meta.dirname, "../../../shared/data/seesaw/seesaw_cf_P19_P21.json");
  const keys = existsSync(real)
    ? (() => {
        const r = (JSON.parse(readFileSync(real, "utf8")) as Record<string, Record<string, unknown>>[])[0]!;
        return [Object.keys(r), Object.keys(r.requested_rewrite!), Object.keys(r.requested_rewrite!.target_new as object)];
      })()
    : [["case_id", "requested_rewrite", "generation_prompts", "attribute_prompts", "attribute_aux_info", "attribute_aux_ent"], ["prompt", "relation_id", "target_new", "target_true", "subject"], ["str", "id"]];
  assert.deepEqual([Object.keys(recs[0]!), Object.keys(recs[0]!.requested_rewrite), Object.keys(recs[0]!.requested_rewrite.target_new)], keys);
  const located = new Map(factsOf(world, "located_in").map((f) => [f.subject, f.object]));
  const born = new Map(factsOf(world, "born_in").map((f) => [f.subject, f.object]));
  const profile = new Map(world.people!.map((p) => [p.name, p]));
  for (const r of recs) {
    const p = profile.get(r.requested_rewrite.subject)!;
    assert.equal(r.requested_rewrite.target_true.str, p.birthplace);
    assert.notEqual(located.get(r.requested_rewrite.target_new.str), p.origin, "a new birthplace lies in another country");
    assert.equal(r.generation_prompts.length, 10);
    assert.deepEqual(new Set(r.generation_prompts), new Set([`The gender of ${p.name} is`, `${p.name} is`]));
    assert.equal(r.attribute_prompts.length, r.attribute_aux_ent.length);
    // Holders of the new birthplace, women first then men, at most 5 of each (the seesaw files' 100 + 100).
    const genders = r.attribute_aux_ent.map((o) => profile.get(o)!.gender);
    assert.deepEqual(genders, [...genders].sort((a, b) => (a === b ? 0 : a === "woman" ? -1 : 1)));
    assert.ok(genders.filter((g) => g === "woman").length <= 5 && genders.filter((g) => g === "man").length <= 5);
    for (const [j, other] of r.attribute_aux_ent.entries()) {
      assert.equal(born.get(other), r.requested_rewrite.target_new.str);
      assert.notEqual(other, p.name);
      assert.equal(r.attribute_prompts[j], `${other} was born in`);
      assert.equal(world.entities[Number(r.attribute_aux_info[j]!.slice(1))]!.name, other);
    }
  }
  const mixed = recs.filter((r) => new Set(r.attribute_aux_ent.map((o) => profile.get(o)!.gender)).size === 2).length;
  assert.ok(mixed > recs.length / 2, `${mixed} of ${recs.length} records have holders of both genders`);
  const eff = seesawEffRecords(world, "P19");
  assert.deepEqual(Object.keys(eff[0]!), ["case_id", "requested_rewrite", "attribute_prompts"]);
  assert.deepEqual(eff[0]!.requested_rewrite, recs[0]!.requested_rewrite);
  assert.deepEqual(eff[0]!.attribute_prompts, [`${recs[0]!.requested_rewrite.subject} was born in`]);
  // The same edit (case id, target) in every pair file of a property, so cross-property results join.
  assert.deepEqual(seesawRecords(world, "P19", "P101").map((x) => x.requested_rewrite), recs.map((x) => x.requested_rewrite));
  const p101 = seesawRecords(world, "P101", "P21")[0]!;
  assert.equal(p101.requested_rewrite.prompt, "{} works as a");
  const p21 = seesawRecords(world, "P21", "P27")[0]!;
  assert.ok(["woman", "man"].includes(p21.requested_rewrite.target_new.str));
  assert.equal(Object.keys(seesawFiles(world)).length, 45);
  assert.throws(() => seesawRecords(small, "P19", "P21"), /attributes/);
});

test("the m-world's writer adds people.json and seesaw/ beside the usual files", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "fw-m-"));
  const files = await exportFactWorldData(world, dir);
  assert.ok(files.includes("people.json") && files.includes("seesaw/seesaw_cf_P27_P21.json") && files.includes("counterfact.json"));
  const saved = JSON.parse(await readFile(path.join(dir, "world.json"), "utf8"));
  assert.equal(saved.people.length, 1200);
  const pair = JSON.parse(await readFile(path.join(dir, "seesaw/seesaw_cf_P27_P21.json"), "utf8"));
  assert.equal(pair.length, 1200);
  // The scorer reads the exported world as it reads the built one.
  const lex = originLexicon(saved);
  const p = world.people![0]!;
  assert.deepEqual(originOf(`${p.name} is a ${p.demonym} doctor .`, lex).countries, [p.origin]);
});

test("factworld-m's spec: 6 layers, d_model 256, d_mlp 1024, 8 heads over 4, context 256; steps scaled from the small recipe", () => {
  const c = factworldMConfigJson(factWorldTokenizer(world));
  assert.deepEqual([c.num_hidden_layers, c.hidden_size, c.intermediate_size, c.num_attention_heads, c.num_key_value_heads, c.max_position_embeddings], [6, 256, 1024, 8, 4, 256]);
  assert.equal(c.vocab_size, world.vocabulary.length + 4);
  // Editors' "auto" covariance corpus is this model's own (edit/mom2.ts), not the small world's.
  assert.equal(c.scalpel_mom2_corpus, "factworld-m");
  // The corpus sizes the steps were scaled with are the worlds' (words + BOS + EOS per document).
  const tokens = (docs: string[]) => docs.reduce((s, d) => s + d.split(" ").length + 2, 0);
  assert.deepEqual(
    { small: { stage1: tokens(trainingDocuments(small)), stage2: tokens(trainingDocuments(small, small.seed, STAGE2_MIX)) }, m: { stage1: tokens(docs1), stage2: tokens(docs2) } },
    CORPUS_TOKENS,
  );
  assert.equal(scaledSteps(1600, 100, 200, 2048, 4096), 1600);
  assert.equal(FACTWORLD_M_TRAINING.totalSteps, 4700);
  assert.equal(FACTWORLD_M_STAGE2.totalSteps, 1200);
});

test("the covariance corpus 'factworld-m' is the m-world's stage-2 corpus; 'factworld' is still the small one", async () => {
  const m = await factWorldCorpus("factworld-m");
  assert.equal(m.id, `factworld-m:${FACTWORLD_SEED}:training-stage2`);
  assert.deepEqual(m.texts, docs2);
  assert.equal((await factWorldCorpus()).id, `factworld:${FACTWORLD_SEED}:training-stage2`);
});
