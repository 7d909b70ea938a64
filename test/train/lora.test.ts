/**
 * LoRA (train/lora.ts, lora-train.ts, sft-batches.ts): completion-only SFT batches, training that
 * lowers the completion loss with the base frozen, an exact resume, and a trained adapter whose
 * merged and unmerged forms give the same logits.
 */
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { BUILTIN_MODEL_DIR } from "../../src/data/builtin-node.js";
import { buildFactWorld } from "../../src/data/factworld/index.js";
import { toolSftExamples } from "../../src/data/factworld/tools.js";
import { loadModel } from "../../src/model/load.js";
import { applyPatch } from "../../src/model/patch.js";
import { initEngine } from "../../src/tensor/engine.js";
import { readF32 } from "../../src/tensor/own.js";
import { loraPatch, loraTargetNames, mergeLora } from "../../src/train/lora.js";
import { trainLora } from "../../src/train/lora-train.js";
import { SftBatcher, sftRows } from "../../src/train/sft-batches.js";
import { maxAbsDiff } from "../model/helpers.js";

await initEngine();
const model = await loadModel(BUILTIN_MODEL_DIR);
const examples = toolSftExamples(buildFactWorld(), 24).map(({ prompt, completion }) => ({ prompt, completion }));
const lora = { targets: ["blocks.*.mlp.W_in", "blocks.*.attn.W_V"], rank: 4, alpha: 8, dropout: 0.1 };

test("SFT rows count only completion tokens (and the EOS); batches are right-padded", () => {
  const tok = model.tokenizer;
  const rows = sftRows(tok, [{ prompt: "User : repeat 3 + 4 Assistant :", completion: "3 + 4" }], 256);
  const r = rows[0]!;
  assert.equal(tok.decode(r.tokens.slice(r.completionStart, -1)).trim(), "3 + 4");
  assert.equal(r.tokens.at(-1), tok.eosId);
  const b = new SftBatcher([...rows, ...sftRows(tok, [{ prompt: "User : echo 1 Assistant :", completion: "1" }], 256)], 0, tok.padId!).next(2);
  const row = b.inputs.findIndex((x) => x.length === r.tokens.length - 1 && x[0] === r.tokens[0] && b.targets[b.inputs.indexOf(x)]!.join() === r.tokens.slice(1).join());
  assert.ok(row >= 0);
  // Targets counted: the 4 completion tokens ("3", "+", "4") plus EOS.
  assert.equal(b.mask[row]!.reduce((a, c) => a + c, 0), r.tokens.length - r.completionStart);
  assert.equal(b.mask[1 - row]!.at(-1), 0, "padding is not counted");
});

test("loraTargetNames expands layer patterns and refuses a pattern that matches nothing", () => {
  assert.deepEqual(loraTargetNames(model, ["blocks.*.attn.W_Q"]), [0, 1, 2, 3].map((l) => `blocks.${l}.attn.W_Q`));
  assert.throws(() => loraTargetNames(model, ["blocks.*.mlp.W_nope"]), /matches no matrix/);
});

test("LoRA training lowers the completion loss, resumes exactly, and merged = unmerged (≤ 1e-5)", async () => {
  const config = { lr: 5e-3, totalSteps: 6, warmupSteps: 1, batchSize: 8, seed: 3, checkpointEvery: 3 };
  const whole = await trainLora({ model, examples, lora, config });
  assert.ok(whole.losses.at(-1)!.loss < whole.losses[0]!.loss, JSON.stringify(whole.losses.map((l) => l.loss)));

  // A run stopped at step 3 and resumed from its checkpoint ends where the uninterrupted one did.
  const dir2 = await mkdtemp(path.join(tmpdir(), "lora-"));
  const partial = await trainLora({ model, examples, lora, config, checkpointDir: dir2, stopAtStep: 3 });
  assert.equal(partial.step, 3);
  const resumed = await trainLora({ model, examples, lora, config, checkpointDir: dir2, resume: true });
  assert.ok(resumed.resumedFrom?.endsWith("step-00000003"));
  for (const [name, f] of Object.entries(whole.adapter.targets)) {
    assert.deepEqual(resumed.adapter.targets[name]!.A.data, f.A.data, `${name} A`);
    assert.deepEqual(resumed.adapter.targets[name]!.B.data, f.B.data, `${name} B`);
  }

  const tokens = [model.tokenizer.encode("User : compute 3 + 4 Assistant :", { addSpecialTokens: true }).ids];
  const merged = await readF32(applyPatch(model, mergeLora(whole.adapter)).forward(tokens).logits!);
  const unmerged = await readF32(applyPatch(model, loraPatch(whole.adapter)).forward(tokens).logits!);
  const base = await readF32(model.forward(tokens).logits!);
  assert.ok(maxAbsDiff(base, merged) > 1e-4, "the trained adapter changes the model");
  assert.ok(maxAbsDiff(merged, unmerged) <= 1e-5, `${maxAbsDiff(merged, unmerged)}`);
});
