/**
 * The `eval` experiment kind on a tiny checkpoint: a task before and after a patch file, one
 * case row per document and stage, the paired comparison as summary metrics, and a second run of
 * the same config reusing every stage.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { parseExperiment } from "../../src/lab/config.js";
import { startRun } from "../../src/lab/experiment.js";
import { openStore } from "../../src/lab/store/store.js";
import { saveModel } from "../../src/model/load.js";
import { savePatch } from "../../src/model/patch-file.js";
import { initEngine } from "../../src/tensor/engine.js";
import { tinyModel, WORDS } from "../eval/tiny-model.js";

test("eval kind: before/after a patch with paired CIs, per-document rows, cached on re-run", { timeout: 180_000 }, async () => {
  await initEngine();
  const dir = mkdtempSync(path.join(tmpdir(), "scalpel-eval-kind-"));
  const m = tinyModel(9, 64);
  await saveModel(m, path.join(dir, "model"));
  const W = m.params["blocks.1.mlp.W_out"]!;
  const delta = Float32Array.from({ length: W.shape[0]! * W.shape[1]! }, (_, i) => Math.sin(i) * 0.8);
  m.dispose();
  await savePatch(path.join(dir, "patch.safetensors"), { type: "weights", info: { method: "test-noise" }, deltas: { "blocks.1.mlp.W_out": { shape: [...W.shape], data: delta } } });
  const docs = Array.from({ length: 24 }, (_, i) => ({ q: Array.from({ length: 4 + (i % 5) }, (_, k) => WORDS[(i * 5 + k * 7) % 30]).join(" "), label: i % 3 }));
  writeFileSync(path.join(dir, "data.jsonl"), docs.map((d) => JSON.stringify(d)).join("\n"));
  writeFileSync(path.join(dir, "task.yaml"), 'name: abc\nkind: multiple_choice\ndataset: data.jsonl\nnum_fewshot: 0\ndoc_to_text: "{{q}} ?"\ndoc_to_choice: ["red", "blue", "big"]\ndoc_to_target: "{{label}}"\n');
  const exp = parseExperiment({ kind: "eval", name: "ev", config: { model: path.join(dir, "model"), tasks: [path.join(dir, "task.yaml")], patch_file: path.join(dir, "patch.safetensors") } });
  const store = openStore(path.join(dir, "store"));
  try {
    const first = await startRun(store, exp);
    const m1 = first.metrics;
    assert.ok(m1["abc.acc"] !== undefined && m1["abc.acc.patched"] !== undefined, JSON.stringify(m1));
    assert.ok(Math.abs(m1["abc.acc.diff"]! - (m1["abc.acc.patched"]! - m1["abc.acc"]!)) < 1e-12);
    assert.ok(m1["abc.acc.ci_low"]! <= m1["abc.acc.diff"]! + 1e-12 && m1["abc.acc.diff"]! <= m1["abc.acc.ci_high"]! + 1e-12);
    assert.notEqual(m1["abc.p_target.diff"], 0, "the patch changes the model's probabilities");
    assert.equal(m1.score, m1["abc.acc.patched"], "score: the task's first metric on the evaluated (patched) model");
    const rows = store.db.prepare("SELECT stage, COUNT(*) AS n FROM case_results WHERE run_id = ? GROUP BY stage ORDER BY stage").all(first.runId);
    assert.deepEqual(rows, [{ stage: "base", n: 24 }, { stage: "patched", n: 24 }]);
    const second = await startRun(store, exp);
    assert.ok(second.stages.every((s) => s.cached), "an unchanged config reuses every stage");
    assert.deepEqual(second.metrics, m1);
  } finally {
    store.close();
  }
});
