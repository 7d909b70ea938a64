/**
 * The lifelong editors' patches beside a locate-and-edit one (issue acceptance: "a GRACE/WISE
 * patch composes with a ROME patch"): ROME's weight delta, then GRACE's codebook and WISE's side
 * memory edited on the ROME-edited model, composed into one patch. Applying the composition equals
 * applying the three in turn, it reverts bitwise to the original, and it round-trips through a
 * patch file with the same hash.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createGraceEditor, graceDefaults } from "../../src/edit/grace.js";
import { romeDefaults } from "../../src/edit/hparams.js";
import { romeEdit } from "../../src/edit/rome.js";
import { WiseEditor, wiseDefaults } from "../../src/edit/wise.js";
import { applyPatch, composePatches, unpatch } from "../../src/model/patch.js";
import { loadPatch, savePatch } from "../../src/model/patch-file.js";
import { patchHash } from "../../src/model/patch-hash.js";
import type { Model } from "../../src/model/types.js";
import { initEngine } from "../../src/tensor/engine.js";
import { readF32 } from "../../src/tensor/own.js";
import { FAST, REQUESTS, TINY, tinyModel } from "./tiny.js";

await initEngine();

const logits = async (m: Model, ids: number[][]) => readF32(m.forward(ids).logits!);

test("ROME + GRACE + WISE: composed = applied in turn, reverts bitwise, round-trips through a file", async () => {
  const model = tinyModel();
  const [a, b, c] = REQUESTS;
  const rome = await romeEdit(model, [a!], { ...romeDefaults(model.config), ...FAST, layer: 1 }, { caches: TINY });
  const afterRome = applyPatch(model, rome);
  const grace = await createGraceEditor().edit(afterRome, [b!], { ...graceDefaults(model.config), layers: [2], nIter: 5 }, { seed: 1 });
  const afterGrace = applyPatch(afterRome, grace);
  const wise = await new WiseEditor().edit(afterGrace, [c!], { ...wiseDefaults(model.config), layers: [2], nIter: 3, contextTemplateLengthParams: [[5, 1]], irrelevantCount: 2 }, { seed: 2 });
  const stepwise = applyPatch(afterGrace, wise);
  const all = composePatches([rome, grace, wise]);
  const composed = applyPatch(model, all);
  const ids = [model.tokenizer.encode("Aldo Venn was born in").ids];
  assert.deepEqual(await logits(composed, ids), await logits(stepwise, ids));
  assert.notDeepEqual(await logits(composed, ids), await logits(model, ids), "the edits change the output");
  assert.equal(unpatch(composed), model);
  const dir = await mkdtemp(join(tmpdir(), "scalpel-compose-"));
  try {
    await savePatch(join(dir, "p.safetensors"), all);
    const back = await loadPatch(join(dir, "p.safetensors"));
    assert.equal(await patchHash(back), await patchHash(all));
    const reloaded = applyPatch(model, back);
    assert.deepEqual(await logits(reloaded, ids), await logits(composed, ids));
    reloaded.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  for (const m of [composed, stepwise, afterGrace, afterRome]) m.dispose();
});
