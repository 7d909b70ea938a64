/** Editing dataset readers on the real shared files (ROME CounterFact/seesaw, MEND CounterFact, zsRE, known facts). */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { DatasetError, detectFormat, disjointLocality, distinctSubjects, loadEditCases, loadKnownFacts, readRecords, sharedSubjects } from "../../src/data/editing/index.js";
import { BUILTIN_DATA_DIR } from "../../src/cli/default-model.js";
import { buildFactWorld, counterfactRecords, FACTWORLD_SEED, zsreRecords } from "../../src/data/factworld/index.js";
import { toEditCases } from "../../src/data/editing/index.js";
import type { EditCase } from "../../src/data/editing/case.js";

const SHARED = path.resolve(import.meta.dirname, "../../../shared/data");
const skip = existsSync(SHARED) ? false : `${SHARED} is absent`;

test("ROME-format CounterFact (seesaw): requested_rewrite → EditRequest, missing lists are empty", { skip }, async () => {
  const file = path.join(SHARED, "seesaw/seesaw_cf_P19_P21.json");
  const cases = await loadEditCases(file);
  assert.equal(cases.length, 286);
  const c = cases[0]!;
  assert.equal(c.id, "22489");
  assert.deepEqual(c.request, { prompt: "{} was born in", subject: "John James Rickard Macleod", targetNew: "New York City", targetTrue: "Clunie" });
  assert.equal(c.generationPrompts.length, 10);
  assert.ok(c.attributePrompts.length > 10);
  assert.deepEqual(c.paraphrasePrompts, []);
  assert.deepEqual(c.neighborhoodPrompts, []);
  const eff = await loadEditCases(path.join(SHARED, "seesaw/seesaw_cf_P101_eff.json"));
  assert.equal(eff.length, 352);
  assert.equal(eff[0]!.request.targetNew, "diplomat");
});

test("MEND/EasyEdit CounterFact: the subject becomes {} and locality comes from the flat fields", { skip }, async () => {
  const cases = await loadEditCases(path.join(SHARED, "counterfact-mend/counterfact-edit-1k.json"));
  assert.equal(cases.length, 1000);
  const c = cases[0]!;
  assert.equal(c.id, "3087");
  assert.deepEqual(c.request, { prompt: "{} professionally plays the sport", subject: "David Robinson", targetNew: "baseball", targetTrue: "basketball" });
  assert.deepEqual(c.paraphrasePrompts, ["David Robinson's greatest weakness is"]);
  assert.deepEqual(c.locality, [{ prompt: "Shaquille O'Neal plays", target: "basketball" }]);
  assert.deepEqual(c.neighborhoodPrompts, ["Shaquille O'Neal plays"]);
  for (const k of cases) assert.ok(k.request.prompt.includes("{}"), k.source);
});

test("zsRE (MEND format): src with {}, alt is the new target, answers[0] the true one, loc/loc_ans locality", { skip }, async () => {
  const cases = await loadEditCases(path.join(SHARED, "zsre/zsre_mend_train-1k.json"));
  assert.equal(cases.length, 1000);
  const c = cases[0]!;
  assert.deepEqual(c.request, { prompt: "What is the product made by {}?", subject: "UniFirst", targetNew: "unmanned aircraft", targetTrue: "uniform" });
  assert.deepEqual(c.paraphrasePrompts, ["What will be the product of UniFirst?"]);
  assert.deepEqual(c.locality, [{ prompt: "nq question: john goodman's character in the big lebowski", target: "Walter Sobchak" }]);
});

test("ROME known facts: the filled prompt becomes the template; the fact is its own target", { skip }, async () => {
  const file = path.join(SHARED, "rome-known-facts/known_1000.json");
  const facts = await loadKnownFacts(file);
  assert.equal(facts.length, 1209);
  assert.equal(facts[0]!.prompt, "Vinson Massif is located in the continent of");
  const cases = await loadEditCases(file);
  assert.deepEqual(cases[0]!.request, { prompt: "{} is located in the continent of", subject: "Vinson Massif", targetNew: "Antarctica" });
});

test("the fact world's exports read as CounterFact and zsRE", { skip: existsSync(path.join(BUILTIN_DATA_DIR, "counterfact.json")) ? false : "models/factworld/data is not built yet" }, async () => {
  const cf = await loadEditCases(path.join(BUILTIN_DATA_DIR, "counterfact.json"));
  assert.ok(cf.length > 0);
  assert.ok(cf[0]!.paraphrasePrompts.length > 0 && cf[0]!.neighborhoodPrompts.length > 0);
  const zs = await loadEditCases(path.join(BUILTIN_DATA_DIR, "zsre.json"));
  assert.ok(zs.length > 0);
});

test("the fact world generator's CounterFact and zsRE records read into complete EditCases", () => {
  const world = buildFactWorld(FACTWORLD_SEED);
  const cf = toEditCases("counterfact.json", counterfactRecords(world));
  assert.ok(cf.length > 100);
  for (const c of cf) {
    assert.ok(c.request.prompt.includes("{}") && c.request.targetTrue && c.request.targetNew !== c.request.targetTrue, c.source);
    assert.ok(c.paraphrasePrompts.length > 0 && c.neighborhoodPrompts.length > 0 && c.generationPrompts.length > 0, c.source);
    assert.equal(c.locality.length, c.neighborhoodPrompts.length);
  }
  const zs = toEditCases("zsre.json", zsreRecords(world));
  assert.ok(zs.length > 100);
  assert.ok(zs.every((c) => c.request.prompt.includes("{}") && c.paraphrasePrompts.length === 1 && c.locality.length === 1));
});

test("malformed input: typed errors naming the file, the record and the field", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "edit-ds-"));
  const bad = path.join(dir, "bad.json");
  await writeFile(bad, JSON.stringify([
    { case_id: 1, requested_rewrite: { prompt: "{} was born in", subject: "A", target_new: { str: "X" }, target_true: { str: "Y" } } },
    { case_id: 2, requested_rewrite: { prompt: "{} was born in", subject: "B", target_new: { str: 5 }, target_true: { str: "Y" } } },
  ]));
  await assert.rejects(loadEditCases(bad), (e: unknown) => {
    assert.ok(e instanceof DatasetError);
    assert.equal(e.file, bad);
    assert.equal(e.field, "[1].requested_rewrite.target_new.str");
    return true;
  });
  const noSubject = path.join(dir, "mend.json");
  await writeFile(noSubject, JSON.stringify([{ case_id: 1, prompt: "Someone plays", subject: "David", target_new: "a", ground_truth: "b" }]));
  await assert.rejects(loadEditCases(noSubject), (e: unknown) => e instanceof DatasetError && /does not contain the subject/.test(e.message) && e.field === "[0].prompt");
  const notJson = path.join(dir, "x.json");
  await writeFile(notJson, "[{");
  await assert.rejects(readRecords(notJson), (e: unknown) => e instanceof DatasetError && e.code === "DATASET_JSON");
  await assert.rejects(readRecords(path.join(dir, "missing.json")), (e: unknown) => e instanceof DatasetError && e.code === "DATASET_NOT_FOUND");
  assert.throws(() => detectFormat("f.json", [{ foo: 1 }]), (e: unknown) => e instanceof DatasetError && /match no editing format/.test(e.message));
});

test("distinctSubjects keeps each subject's first case, in order; sharedSubjects names the clashes", () => {
  const cases = toEditCases("factworld-counterfact.json", counterfactRecords(buildFactWorld()));
  const distinct = distinctSubjects(cases);
  const subjects = distinct.map((c) => c.request.subject);
  assert.equal(new Set(subjects).size, subjects.length);
  assert.deepEqual(subjects, [...new Set(cases.map((c) => c.request.subject))]);
  for (const c of distinct) assert.equal(c, cases.find((x) => x.request.subject === c.request.subject));
  assert.deepEqual(sharedSubjects(distinct), []);
  const [a, b] = distinct;
  assert.deepEqual(sharedSubjects([a!, b!, a!]), [a!.request.subject]);
});

test("disjointLocality drops cases whose locality probe is another kept case's edit, in either order", () => {
  const mk = (id: string, subject: string, loc: string): EditCase => ({
    id,
    request: { prompt: "where was {} born ?", subject, targetNew: "X" },
    paraphrasePrompts: [`birthplace of ${subject} ?`],
    neighborhoodPrompts: [],
    attributePrompts: [],
    generationPrompts: [],
    locality: [{ prompt: loc, target: "Y" }],
    portability: [],
    source: id,
  });
  const cases = [
    mk("a", "Ann", "where was Bob born ?"), // probes b's edit
    mk("b", "Bob", "where was Cid born ?"), // dropped: its edit is a's probe
    mk("c", "Cid", "birthplace of Dan ?"), // kept (b is gone)
    mk("d", "Dan", "where was Eve born ?"), // dropped: c probes d's paraphrase
    mk("e", "Eve", "where was Ann born ?"), // dropped: its probe is a's edit
    mk("f", "Fay", "where was Gus born ?"),
  ];
  assert.deepEqual(disjointLocality(cases).map((c) => c.id), ["a", "c", "f"]);
});
