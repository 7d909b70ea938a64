/** WISE hallucination / temporal readers (real shared files and malformed records) and the fact world's WISE-format exports. */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { DatasetError, detectFormat, loadEditCases, toEditCases, wiseLocPrompts } from "../../src/data/editing/index.js";
import { builtinDataPath } from "../../src/data/builtin-node.js";
import { buildFactWorld } from "../../src/data/factworld/index.js";
import { wiseHallucinationRecords, wiseTemporalRecords } from "../../src/data/factworld/wise-exports.js";
import { loadTokenizer } from "../../src/io/tokenizer/index.js";

const SHARED = path.resolve(import.meta.dirname, "../../../shared/data/wise");
const skip = existsSync(SHARED) ? false : `${SHARED} is absent (the shared WISE data)`;

test("every real WISE file loads, its format detected from the first record", { skip }, async () => {
  const expect: [string, number, string][] = [
    ["hallucination/hallucination-edit.json", 600, "wise-hallucination"],
    ["hallucination/hallucination-train.json", 306, "wise-hallucination"],
    ["temporal/temporal-edit.json", 75, "wise-temporal"],
    ["temporal/temporal-train.json", 75, "wise-temporal"],
  ];
  for (const [name, n, format] of expect) {
    const file = path.join(SHARED, name);
    const raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>[];
    assert.equal(detectFormat(file, raw), format, name);
    const cases = await loadEditCases(file);
    assert.equal(cases.length, n, name);
    for (const c of cases) {
      assert.ok(c.request.prompt.includes("{}"), `${name} ${c.id}: prompt has the subject slot`);
      assert.equal(c.paraphrasePrompts.length, format === "wise-temporal" ? 1 : 0);
    }
    // Empty locality answers (a few real records) are dropped, the others kept one per case.
    const emptyLoc = raw.filter((r) => r.locality_ground_truth!.trim() === "" || r.locality_prompt!.trim() === "").length;
    assert.equal(cases.filter((c) => c.locality.length === 1).length, n - emptyLoc, name);
  }
});

test("hallucination record 0 maps field by field as run_wise_editing.py reads it", { skip }, async () => {
  const file = path.join(SHARED, "hallucination/hallucination-edit.json");
  const r = (JSON.parse(readFileSync(file, "utf8")) as Record<string, string>[])[0]!;
  const c = (await loadEditCases(file, { limit: 1 }))[0]!;
  assert.equal(c.id, "0");
  assert.equal(c.request.subject, "carole gist");
  assert.equal(c.request.prompt, "This is a Wikipedia passage about {}." + r.prompt!.slice("This is a Wikipedia passage about carole gist.".length));
  assert.equal(c.request.prompt.replace("{}", c.request.subject), r.prompt);
  assert.equal(c.request.targetNew, "She was also the first contestant from Michigan to win Miss USA, and broke the five-year streak of winners from Texas.");
  assert.equal(c.request.targetTrue, undefined);
  assert.deepEqual(c.paraphrasePrompts, []);
  assert.deepEqual(c.locality, [{ prompt: r.locality_prompt, target: r.locality_ground_truth }]);
  assert.ok(c.locality[0]!.prompt.startsWith("Description Map of South America."));
  assert.deepEqual([c.neighborhoodPrompts, c.attributePrompts, c.generationPrompts, c.portability], [[], [], [], []]);
  assert.equal(c.source, `${file}#0`);
});

test("temporal record 0: prompt is the subject, ood_rephrase is the rephrase prompt", { skip }, async () => {
  const file = path.join(SHARED, "temporal/temporal-edit.json");
  const r = (JSON.parse(readFileSync(file, "utf8")) as Record<string, string>[])[0]!;
  const c = (await loadEditCases(file, { limit: 1 }))[0]!;
  assert.deepEqual(c.request, { prompt: "{}", subject: "Tesla, Inc.,", targetNew: r.target_new });
  assert.ok(c.request.targetNew.startsWith("originally known as Tesla Motors"));
  assert.deepEqual(c.paraphrasePrompts, [r.ood_rephrase]);
  assert.ok(c.paraphrasePrompts[0]!.startsWith("Tesla, Inc., an American multinational"));
  assert.deepEqual(c.locality, [{ prompt: r.locality_prompt, target: r.locality_ground_truth }]);
  // WISE's loc_prompts from the train file: locality_prompt + " " + locality_ground_truth.
  const train = await loadEditCases(path.join(SHARED, "temporal/temporal-train.json"), { limit: 2 });
  const raw = (JSON.parse(readFileSync(path.join(SHARED, "temporal/temporal-train.json"), "utf8")) as Record<string, string>[]).slice(0, 2);
  assert.deepEqual(wiseLocPrompts(train), raw.map((x) => `${x.locality_prompt} ${x.locality_ground_truth}`));
});

const good = { prompt: "Aldo Venn was born in Kelmar .", target_new: "Aldo Venn works for Acme .", subject: "Aldo Venn", locality_prompt: "Mira Tal works for", locality_ground_truth: "Acme ." };

function rejects(records: unknown[], format: "wise-hallucination" | "wise-temporal" | undefined, field: string, message: RegExp) {
  try {
    toEditCases("bad.json", records, format);
  } catch (e) {
    assert.ok(e instanceof DatasetError, `a DatasetError, got ${e}`);
    const d = e as DatasetError & { file?: string; field?: string };
    const text = `${d.message} ${JSON.stringify(d)}`;
    assert.match(text, /bad\.json/, "names the file");
    assert.match(text, new RegExp(field.replace(/[[\].]/g, "\\$&")), `names ${field}: ${text}`);
    assert.match(text, message);
    return;
  }
  assert.fail(`no error for ${field}`);
}

test("malformed WISE records: missing field, wrong type, empty target → DatasetError naming file, record and field", () => {
  const { target_new: _t, ...noTarget } = good;
  rejects([good, noTarget], "wise-hallucination", "[1].target_new", /missing field 'target_new'/);
  rejects([good, good, { ...good, subject: 7 }], undefined, "[2].subject", /should be a string/);
  rejects([good, { ...good, target_new: "  " }], "wise-hallucination", "[1].target_new", /is empty/);
  rejects([good, { ...good, prompt: "Mira Tal was born in" }], "wise-hallucination", "[1].prompt", /does not contain the subject/);
  rejects([good, { ...good, locality_prompt: ["x"] }], "wise-hallucination", "[1].locality_prompt", /should be a string/);
  rejects([{ ...good, ood_rephrase: "x" }, good], "wise-temporal", "[1].ood_rephrase", /missing field 'ood_rephrase'/);
  rejects([{ ...good, ood_rephrase: "" }], "wise-temporal", "[0].ood_rephrase", /is empty/);
  rejects([good, "text"], "wise-hallucination", "[1]", /not an object/);
});

test("detection: WISE keys are not mistaken for MEND CounterFact and vice versa", () => {
  assert.equal(detectFormat("x.json", [good]), "wise-hallucination");
  assert.equal(detectFormat("x.json", [{ ...good, ood_rephrase: "In fact , ..." }]), "wise-temporal");
  assert.equal(detectFormat("x.json", [{ ...good, ground_truth: "Kelmar", rephrase_prompt: "p" }]), "counterfact-mend");
  assert.throws(() => detectFormat("x.json", [{ prompt: "p", target_new: "t", subject: "s" }]), DatasetError);
});

test("fact-world WISE exports: deterministic, 100–200 records each, the files on disk match, every word a real token", async () => {
  const world = buildFactWorld();
  const hall = wiseHallucinationRecords(world);
  const temp = wiseTemporalRecords(world);
  assert.deepEqual(wiseHallucinationRecords(buildFactWorld()), hall, "same world → same records");
  assert.ok(hall.length >= 100 && hall.length <= 200, `${hall.length} hallucination records`);
  assert.ok(temp.length >= 100 && temp.length <= 200, `${temp.length} temporal records`);
  assert.deepEqual(JSON.parse(readFileSync(builtinDataPath("wiseHallucination"), "utf8")), hall, "wise-hallucination.json is up to date");
  assert.deepEqual(JSON.parse(readFileSync(builtinDataPath("wiseTemporal"), "utf8")), temp, "wise-temporal.json is up to date");

  // They read back through the WISE readers, as the right format.
  const hc = await loadEditCases(builtinDataPath("wiseHallucination"));
  const tc = await loadEditCases(builtinDataPath("wiseTemporal"));
  assert.equal(hc.length, hall.length);
  assert.equal(tc.length, temp.length);
  assert.ok(tc.every((c) => c.request.prompt === "{}" && c.paraphrasePrompts.length === 1 && c.locality.length === 1));
  // Hallucination target: a fact of the subject that the passage does not state, with a false object.
  for (const r of hall) {
    assert.ok(r.prompt.split(" . ").length === 3 && r.target_new.startsWith(r.subject + " "), r.target_new);
    const fact = world.facts.find((f) => f.subject === r.subject && r.target_new.startsWith(`${r.subject} `) && r.target_new.endsWith(` ${f.object} .`));
    assert.equal(fact, undefined, `target_new ${r.target_new} should be counterfactual`);
  }

  const tok = await loadTokenizer(path.resolve(import.meta.dirname, "../../models/factworld/tokenizer.json"));
  const unk = tok.tokenToId("<unk>");
  assert.notEqual(unk, undefined);
  const texts = [...hall.flatMap((r) => Object.values(r)), ...temp.flatMap((r) => Object.values(r))];
  for (const t of texts) {
    for (const w of t.split(" ")) {
      const id = tok.tokenToId(w);
      assert.ok(id !== undefined && id !== unk, `word ${JSON.stringify(w)} of ${JSON.stringify(t)} is not in the tokenizer`);
    }
    const ids = tok.encode(t).ids;
    assert.ok(!ids.includes(unk!), `${t} encodes to <unk>`);
  }
});
