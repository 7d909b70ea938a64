/** Per-case JSON records in MEMIT's layout, read back the way rome/experiments/summarize.py reads them. */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { caseRecords, writeCaseRecords, type CaseRecord } from "../../src/edit/case-records.js";
import { runProtocol } from "../../src/edit/protocol.js";
import { initEngine } from "../../src/tensor/engine.js";
import { constantEditor, fwCase, tinyWordModel } from "./edit-fixtures.js";

await initEngine();

const cases = [fwCase("7", "Aldo Venn", "Tovia", "Kelmar"), fwCase("8", "Mira Tal", "Brisk", "Tovia"), fwCase("case/9", "Oren Sade", "Kelmar", "Brisk")];
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

test("batch records: grouped_case_ids and num_edits follow the editor calls; summarize.py's sums give the metrics", async () => {
  const model = tinyWordModel();
  const r = await runProtocol(model, constantEditor(0.05), cases, { mode: "batch", batchSize: 2 });
  const recs = caseRecords(r, cases);
  assert.deepEqual(recs.map((x) => x.file), ["2_edits-case_7.json", "2_edits-case_8.json", "1_edits-case_case_9.json"]);
  const [a, , c] = recs.map((x) => x.record);
  assert.equal(a!.case_id, 7, "numeric ids stay numbers, as in the reference files");
  assert.deepEqual(a!.grouped_case_ids, [7, 8]);
  assert.equal(a!.num_edits, 2);
  assert.deepEqual(c!.grouped_case_ids, ["case/9"]);
  assert.deepEqual(a!.requested_rewrite, { prompt: "{} was born in", subject: "Aldo Venn", target_new: { str: "Tovia" }, target_true: { str: "Kelmar" } });
  for (const { record } of recs) {
    for (const phase of ["pre", "post"] as const) {
      const q = record[phase];
      assert.equal(q.rewrite_prompts_probs.length, 1);
      assert.equal(q.paraphrase_prompts_probs.length, 2);
      assert.equal(q.neighborhood_prompts_probs.length, 1);
      assert.equal(q.rewrite_prompts_correct.length, 1);
      // summarize.py: rewrite_prompts_probs → mean(target_true > target_new) (NLLs: larger is less likely).
      const es = mean(q.rewrite_prompts_probs.map((x) => (x.target_true > x.target_new ? 1 : 0)));
      const ps = mean(q.paraphrase_prompts_probs.map((x) => (x.target_true > x.target_new ? 1 : 0)));
      const ns = mean(q.neighborhood_prompts_probs.map((x) => (x.target_true < x.target_new ? 1 : 0)));
      const em = mean(q.rewrite_prompts_probs.map((x) => Math.exp(-x.target_new) - Math.exp(-x.target_true)));
      assert.equal(es, record.metrics[phase].efficacy_score);
      assert.equal(ps, record.metrics[phase].paraphrase_score);
      assert.equal(ns, record.metrics[phase].neighborhood_score);
      assert.ok(Math.abs(em - record.metrics[phase].efficacy_magnitude!) < 1e-12);
      assert.equal(mean(q.neighborhood_prompts_correct.map(Number)), record.metrics[phase].neighborhood_targets_correct);
    }
    assert.ok(record.time >= 0);
    assert.equal(record.mode, "batch");
  }
  model.dispose();
});

test("writeCaseRecords writes one parseable file per case; single mode groups each case alone", async () => {
  const dir = await mkdtemp(join(tmpdir(), "scalpel-records-"));
  const model = tinyWordModel();
  try {
    const r = await runProtocol(model, constantEditor(0.05), cases.slice(0, 2), { mode: "single" });
    const files = await writeCaseRecords(join(dir, "cases"), r, cases.slice(0, 2));
    assert.deepEqual((await readdir(join(dir, "cases"))).sort(), [...files].sort());
    const rec = JSON.parse(await readFile(join(dir, "cases", "1_edits-case_8.json"), "utf8")) as CaseRecord;
    assert.deepEqual(rec.grouped_case_ids, [8]);
    assert.deepEqual(Object.keys(rec).slice(0, 7), ["case_id", "grouped_case_ids", "num_edits", "requested_rewrite", "time", "post", "pre"]);
    assert.throws(() => caseRecords(r, cases), /2 results for 3 cases/);
  } finally {
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});
