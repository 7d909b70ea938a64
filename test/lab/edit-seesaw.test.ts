/**
 * The edit kind's editing-pitfalls stage end to end on a tiny attribute world: seesaw cases edited
 * in a batch, per-case records with the study's extra scores, the measures as case rows and
 * metrics, and the table in the run's report.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parseExperiment } from "../../src/lab/config.js";
import { startRun } from "../../src/lab/experiment.js";
import { renderReport } from "../../src/lab/report/render.js";
import { reportData } from "../../src/lab/store/report-data.js";
import { openStore } from "../../src/lab/store/store.js";
import { wordLevelTokenizer } from "../../src/io/tokenizer/index.js";
import { familyFor } from "../../src/model/families/index.js";
import { createModel } from "../../src/model/model.js";
import { saveModel } from "../../src/model/load.js";
import { randomParams } from "../../src/model/random-params.js";
import { initEngine } from "../../src/tensor/engine.js";
import type { CaseRecord } from "../../src/edit/case-records.js";

const PEOPLE = [
  { name: "Aldo Venn", gender: "woman", origin: "Feinderia", demonym: "Feinderian", birthplace: "Kelmar" },
  { name: "Mira Tal", gender: "woman", origin: "Quolland", demonym: "Quollish", birthplace: "Tovia" },
  { name: "Oren Sade", gender: "man", origin: "Quolland", demonym: "Quollish", birthplace: "Tovia" },
  { name: "Lia Dorn", gender: "man", origin: "Feinderia", demonym: "Feinderian", birthplace: "Kelmar" },
];
const WORDS = [...new Set([...PEOPLE.flatMap((p) => [...p.name.split(" "), p.origin, p.demonym, p.birthplace]), ..."The gender of is was born in woman man She He her his a doctor .".split(" ")])];

let dir = "";

before(async () => {
  await initEngine();
  dir = await mkdtemp(join(tmpdir(), "scalpel-seesaw-"));
  const config = familyFor("llama", "config.json").parseConfig(
    { model_type: "llama", vocab_size: WORDS.length + 3, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, bos_token_id: WORDS.length, eos_token_id: WORDS.length + 1 },
    "config.json",
  );
  const model = createModel(config, randomParams(config, 5, { std: 0.3, normStd: 0.1 }), wordLevelTokenizer(WORDS, { unk: "<unk>", bos: "<s>", eos: "</s>" }));
  await saveModel(model, join(dir, "m"));
  model.dispose();
  const facts = [
    ...PEOPLE.flatMap((p) => [
      { subject: p.name, relation: "born_in", object: p.birthplace },
      { subject: p.name, relation: "gender", object: p.gender },
      { subject: p.name, relation: "citizen_of", object: p.origin },
    ]),
    { subject: "Kelmar", relation: "located_in", object: "Feinderia" },
    { subject: "Tovia", relation: "located_in", object: "Quolland" },
  ];
  const entities = [...PEOPLE.map((p) => ({ name: p.name, type: "person" })), { name: "Feinderia", type: "country" }, { name: "Quolland", type: "country" }, { name: "Kelmar", type: "city" }, { name: "Tovia", type: "city" }];
  await mkdir(join(dir, "m", "data", "seesaw"), { recursive: true });
  await writeFile(join(dir, "m", "data", "world.json"), JSON.stringify({ seed: 0, entities, facts, relations: [], people: PEOPLE, demonyms: { Feinderia: "Feinderian", Quolland: "Quollish" } }));
  // seesaw_cf_P19_P21: move each person's birthplace to the other country's city; probe gender.
  const records = PEOPLE.map((p, i) => {
    const target = p.birthplace === "Kelmar" ? "Tovia" : "Kelmar";
    const holders = PEOPLE.filter((q) => q.birthplace === target && q.name !== p.name);
    return {
      case_id: i,
      requested_rewrite: { prompt: "{} was born in", relation_id: "P19", target_new: { str: target, id: "E1" }, target_true: { str: p.birthplace, id: "E2" }, subject: p.name },
      generation_prompts: [`The gender of ${p.name} is`, `The gender of ${p.name} is`, `${p.name} is`, `${p.name} is`],
      attribute_prompts: holders.map((q) => `${q.name} was born in`),
      attribute_aux_info: holders.map(() => "E0"),
      attribute_aux_ent: holders.map((q) => q.name),
    };
  });
  await writeFile(join(dir, "m", "data", "seesaw", "seesaw_cf_P19_P21.json"), JSON.stringify(records));
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function findRecords(root: string): CaseRecord[] {
  const out: CaseRecord[] = [];
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && /_edits-case_/.test(e.name)) out.push(JSON.parse(readFileSync(join(e.parentPath, e.name), "utf8")));
  }
  return out;
}

test("seesaw: batch FT edits; records carry attribute and probe scores; the pitfalls stage writes measures, case rows and its table", async () => {
  const exp = parseExperiment({
    kind: "edit",
    name: "pitfalls",
    config: { model: join(dir, "m"), method: "ft", hparams: { num_steps: 3 }, mode: "batch", generation: true, generation_length: 10, seesaw: { edited: "P19", probed: "P21", world: null }, stats_dir: join(dir, "stats") },
  });
  const store = openStore(join(dir, "store"));
  try {
    const run = await startRun(store, exp);
    const records = findRecords(join(dir, "store"));
    assert.equal(records.length, 4);
    const r = records.find((x) => x.case_id === 0)!;
    assert.deepEqual(r.grouped_case_ids, [0, 1, 2, 3], "one batch of four edits");
    assert.equal(r.pre.attribute_prompts_probs!.length, 2, "Mira Tal and Oren Sade were born in Tovia");
    assert.deepEqual(r.post.choice_probes![0]!.candidates, ["man", "woman"]);
    assert.equal(r.post.text!.length, 4);
    const metrics = new Map((store.db.prepare("SELECT name, value FROM metrics WHERE run_id = ? AND step IS NULL").all(run.runId) as { name: string; value: number }[]).map((m) => [m.name, m.value]));
    for (const k of ["p_diff.woman.diff", "p_diff.man.pre", "completion.gender_other.post", "completion.origin_unasked.pre", "probe.correct.post", "probe.p_true.diff"]) assert.ok(metrics.has(k), `metric ${k}`);
    const rows = store.db.prepare("SELECT case_id, metrics FROM case_results WHERE run_id = ? AND stage = 'pitfalls'").all(run.runId) as { case_id: string; metrics: string }[];
    assert.equal(rows.length, 4);
    const row0 = JSON.parse(rows.find((x) => x.case_id === "0")!.metrics) as Record<string, number>;
    // Aldo Venn (a woman) is probed "The gender of Aldo Venn is": P(true) is over the two candidates.
    assert.ok(row0["probe.p_true.pre"]! > 0 && row0["probe.p_true.pre"]! < 1);
    assert.equal(row0["p_diff.woman.pre"], Math.exp(-r.pre.attribute_prompts_probs![0]!.target_new) - Math.exp(-r.pre.attribute_prompts_probs![0]!.target_true));
    const { markdown } = await renderReport(reportData(store, run.runId));
    assert.match(markdown, /ft: editing pitfalls, edit P19, probe P21/);
    assert.match(markdown, /ttest_ind\(post, pre\)/);
  } finally {
    store.close();
  }
});

test("seesaw without an attribute world is a typed error naming the field", async () => {
  const exp = parseExperiment({
    kind: "edit",
    name: "pitfalls-bad",
    config: { model: join(dir, "m"), method: "ft", hparams: { num_steps: 1 }, mode: "batch", seesaw: { edited: "P19", probed: "P21", world: join(dir, "nope.json") }, stats_dir: join(dir, "stats") },
  });
  const store = openStore(join(dir, "store-bad"));
  try {
    const run = await startRun(store, exp).catch((e: Error) => e);
    const err = run instanceof Error ? run.message : JSON.stringify(run);
    assert.match(err, /config\.seesaw\.world: no fact world/);
  } finally {
    store.close();
  }
});
