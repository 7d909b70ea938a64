/**
 * MMLU (one question per subject, 5-shot) and LAMBADA run end to end on the built-in fact-world
 * model (skipped until its checkpoint exists); near chance is expected — the fact world's
 * vocabulary has none of MMLU's words.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { BUILTIN_DATA_DIR, BUILTIN_MODEL_DIR } from "../../src/cli/default-model.js";
import { loadTasks } from "../../src/eval/registry-node.js";
import { evaluate } from "../../src/eval/evaluate.js";
import { loadModel } from "../../src/model/load.js";
import { initEngine } from "../../src/tensor/engine.js";

const ready = existsSync(path.join(BUILTIN_MODEL_DIR, "model.safetensors"));

test("MMLU and LAMBADA run end to end on the built-in model", { skip: !ready && "built-in model not built yet", timeout: 300_000 }, async () => {
  await initEngine();
  const model = await loadModel(BUILTIN_MODEL_DIR);
  try {
    const res = await evaluate(model, loadTasks(["mmlu", "lambada"], { factworldDataDir: BUILTIN_DATA_DIR }), { limit: 1, batchSize: 32 });
    const [mmlu, lambada] = res.tasks;
    assert.equal(mmlu!.n, 57);
    assert.equal(Object.keys(mmlu!.groups!).length, 57);
    const acc = mmlu!.metrics.acc!.value;
    assert.ok(acc >= 0 && acc <= 1 && Number.isFinite(mmlu!.groupAverage!.acc!));
    assert.equal(lambada!.n, 1);
    assert.ok(lambada!.metrics.perplexity!.value > 1);
    console.log(`# mmlu acc ${acc.toFixed(3)} (chance 0.25), lambada acc ${lambada!.metrics.acc!.value} ppl ${lambada!.metrics.perplexity!.value.toExponential(2)}`);
  } finally {
    model.dispose();
  }
});
