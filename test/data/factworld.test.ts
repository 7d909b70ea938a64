/**
 * The fact world (src/data/factworld): deterministic from its seed, consistent multi-hop structure,
 * held-out templates truly held out (never in the corpus, yet made of words the corpus teaches),
 * exports in the formats the editing and steering code read, and a tokenizer that round-trips.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import {
  arithmeticProblems,
  behaviourAB,
  buildFactWorld,
  counterfactRecords,
  factQueries,
  factsOf,
  factWorldTokenizer,
  RELATIONS,
  styledPrompts,
  trainingDocuments,
  STAGE2_MIX,
  zsreRecords,
} from "../../src/data/factworld/index.js";
import { exportFactWorldData } from "../../src/data/factworld/export-files.js";

const world = buildFactWorld();

test("the same seed gives the same world, corpus and tokenizer; another seed another world", () => {
  const again = buildFactWorld();
  assert.deepEqual(again, world);
  assert.deepEqual(trainingDocuments(again), trainingDocuments(world));
  assert.equal(JSON.stringify(factWorldTokenizer(again).toJSON()), JSON.stringify(factWorldTokenizer(world).toJSON()));
  const other = buildFactWorld(7);
  assert.notDeepEqual(other.facts, world.facts);
});

test("every person has a surname of their own, and every first name is used", () => {
  const people = world.entities.filter((e) => e.type === "person").map((e) => e.name.split(" "));
  assert.equal(people.length, 100);
  assert.equal(new Set(people.map((p) => p[1])).size, people.length, "a shared surname would share the editors' key");
  assert.equal(new Set(people.map((p) => p[0])).size, 25);
  // A surname is one token, so the subject's last token names exactly one person.
  const tok = factWorldTokenizer(world);
  for (const [, last] of people.slice(0, 10)) assert.equal(tok.encode(last!, { addSpecialTokens: false }).ids.length, 1);
});

test("facts are consistent across hops: a person's citizenship is the country of their birth city", () => {
  const located = new Map(factsOf(world, "located_in").map((f) => [f.subject, f.object]));
  const citizen = new Map(factsOf(world, "citizen_of").map((f) => [f.subject, f.object]));
  for (const f of factsOf(world, "born_in")) assert.equal(citizen.get(f.subject), located.get(f.object), f.subject);
  for (const f of factsOf(world, "capital")) assert.equal(located.get(f.object), f.subject);
  // One object per (subject, relation).
  const keys = world.facts.map((f) => `${f.relation}|${f.subject}`);
  assert.equal(new Set(keys).size, keys.length);
});

test("held-out templates never occur in either stage's corpus, and every word they use does", () => {
  const corpus = [...trainingDocuments(world), ...trainingDocuments(world, world.seed, STAGE2_MIX)].join(" \n ");
  const words = new Set(corpus.split(/\s+/));
  for (const rel of RELATIONS) {
    for (const t of [...rel.heldOutTemplates, rel.questionRephrase]) {
      for (const w of t.split(" ")) if (w !== "{}") assert.ok(words.has(w), `${rel.id}: "${w}" of "${t}" is never in the corpus`);
    }
    for (const t of rel.heldOutTemplates) {
      const [before, after] = t.split("{}");
      for (const f of factsOf(world, rel.id)) assert.ok(!corpus.includes(`${before}${f.subject}${after}`), `held-out "${t}" appears in the corpus`);
    }
  }
  const kinds = new Set(factQueries(world).map((q) => q.templates));
  assert.deepEqual([...kinds].sort(), ["paraphrase", "train"]);
  // Clause templates are trained (stage 2) and differ from every held-out template.
  for (const rel of RELATIONS) for (const t of rel.clauseTemplates) assert.ok(!rel.heldOutTemplates.includes(t) && corpus.includes(t.split("{}")[0]!));
});

test("the first stage's corpus has no clause templates or A/B continuations; the second has both", () => {
  const first = trainingDocuments(world).join(" \n ");
  const second = trainingDocuments(world, world.seed, STAGE2_MIX);
  for (const rel of RELATIONS) for (const t of rel.clauseTemplates) assert.ok(!first.includes(t.split("{}")[0]!), t);
  assert.ok(!/Assistant : \([AB]\) \S/.test(first));
  const continued = second.filter((d) => /Assistant : \([AB]\) (Gladly|Obviously)/.test(d));
  assert.ok(continued.length > 0);
  // The text after the letter is the chosen option's own text.
  for (const d of continued.slice(0, 50)) {
    const [, a, b, letter, rest] = /Choices : \(A\) (.*) \(B\) (.*) Assistant : \(([AB])\) (.*)$/.exec(d)!;
    assert.equal(rest, letter === "A" ? a : b);
  }
});

test("arithmetic answers end in GSM8K's #### format, compute correctly, and test questions are not training questions", () => {
  const train = arithmeticProblems(world, "train");
  const test = arithmeticProblems(world, "test");
  const seen = new Set(train.map((p) => p.question));
  for (const p of test) assert.ok(!seen.has(p.question));
  for (const p of [...train.slice(0, 200), ...test]) {
    assert.match(p.answer, new RegExp(` #### ${p.target}$`));
    for (const [, a, op, b, r] of p.answer.matchAll(/(\d+) ([-+*]) (\d+) = (\d+)/g)) {
      const x = Number(a), y = Number(b);
      assert.equal(Number(r), op === "+" ? x + y : op === "-" ? x - y : x * y, p.answer);
    }
  }
});

test("behaviour A/B items mark the agreeable answer; styled prompts carry their cue", () => {
  for (const it of behaviourAB(world, "test")) {
    const letter = it.answer_matching_behavior;
    assert.ok(letter === "(A)" || letter === "(B)");
    const chosen = it.question.split(`${letter} `)[1]!;
    assert.ok(chosen.startsWith("Gladly"), it.question);
  }
  const prompts = styledPrompts(world, "test", 30);
  assert.deepEqual(new Set(prompts.map((p) => p.cue)), new Set(["agreeable", "blunt", "neutral"]));
  for (const p of prompts) assert.ok(p.prompt.endsWith("Assistant :"));
});

test("CounterFact and zsRE exports are well-formed and built from the world's facts", () => {
  const facts = new Set(world.facts.map((f) => `${f.subject}|${f.object}`));
  const cf = counterfactRecords(world);
  assert.ok(cf.length >= 300);
  for (const r of cf) {
    const rw = r.requested_rewrite;
    assert.ok(rw.prompt.includes("{}"));
    assert.ok(facts.has(`${rw.subject}|${rw.target_true.str}`));
    assert.notEqual(rw.target_new.str, rw.target_true.str);
    assert.ok(r.neighborhood_prompts.length >= 1 && r.paraphrase_prompts.length === 3);
    for (const p of r.neighborhood_prompts) assert.ok(!p.includes(rw.subject));
  }
  assert.deepEqual(cf.map((r) => r.case_id), cf.map((_, i) => i));
  for (const z of zsreRecords(world).slice(0, 50)) {
    assert.ok(facts.has(`${z.subject}|${z.pred}`));
    assert.notEqual(z.alt, z.pred);
    assert.ok(!z.loc.includes(z.subject));
  }
});

test("the tokenizer knows every word of every text and round-trips it", () => {
  const tok = factWorldTokenizer(world);
  const unk = tok.tokenToId("<unk>");
  const texts = [...trainingDocuments(world).slice(0, 300), ...factQueries(world).slice(0, 300).map((q) => `${q.prompt} ${q.answer}`)];
  for (const t of texts) {
    const { ids } = tok.encode(t);
    assert.equal(ids[0], tok.bosId);
    assert.ok(!ids.includes(unk!), t);
    assert.equal(tok.decode(ids, { skipSpecialTokens: true }), t);
  }
});

test("exports are written as files in the layouts the other commands read", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "factworld-"));
  const files = await exportFactWorldData(world, dir);
  assert.ok(files.includes("caa/test/agreeable/test_dataset_ab.json"));
  const cf = JSON.parse(await readFile(path.join(dir, "counterfact.json"), "utf8"));
  assert.deepEqual(cf, counterfactRecords(world));
  const lines = (await readFile(path.join(dir, "arithmetic/test.jsonl"), "utf8")).trim().split("\n");
  assert.ok(JSON.parse(lines[0]!).answer.includes("####"));
});
