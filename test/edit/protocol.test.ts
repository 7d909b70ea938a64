/** Scoring on a tiny model and the single / batch / sequential protocols with a trivial editor. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { numpy as np } from "@jax-js/jax";
import { runProtocol } from "../../src/edit/protocol.js";
import { summaryTable } from "../../src/edit/protocol-table.js";
import { scoreCases, targetRequest } from "../../src/eval/editing/score.js";
import { wordLevelTokenizer } from "../../src/io/tokenizer/index.js";
import { applyPatch, flattenPatch } from "../../src/model/patch.js";
import { readF32 } from "../../src/tensor/own.js";
import { initEngine } from "../../src/tensor/engine.js";
import { constantEditor, fwCase, tinyWordModel, WORDS } from "./edit-fixtures.js";
import type { Editor } from "../../src/edit/types.js";
import type { WeightPatch } from "../../src/model/patch.js";
import type { Model } from "../../src/model/types.js";

await initEngine();

/** log p(word | prompt) computed directly from the logits (an independent path to the NLL). */
async function directLogProbs(model: ReturnType<typeof tinyWordModel>, words: string[]): Promise<number[][]> {
  const ids = words.map((w) => model.tokenizer.tokenToId(w)!);
  const { logits } = model.forward([ids]);
  const flat = await readF32(logits!);
  const V = model.config.vocabSize;
  return ids.map((_, p) => {
    const row = flat.subarray(p * V, (p + 1) * V);
    const mx = Math.max(...row);
    const lse = mx + Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0));
    return [...row].map((v) => v - lse);
  });
}

test("scoreCases: mean-token NLL of multi-token targets, argmax flags, token accuracy", async () => {
  const model = tinyWordModel();
  const c = fwCase("0", "Aldo Venn", "New York", "Kelmar");
  const [s] = await scoreCases(model, [c]);
  const words = "Aldo Venn was born in New York".split(" ");
  const lp = await directLogProbs(model, words);
  const id = (w: string) => model.tokenizer.tokenToId(w)!;
  const nllNew = -(lp[4]![id("New")]! + lp[5]![id("York")]!) / 2;
  const nllTrue = -lp[4]![id("Kelmar")]!;
  assert.ok(Math.abs(s!.rewrite[0]!.nllNew - nllNew) < 1e-4, `${s!.rewrite[0]!.nllNew} vs ${nllNew}`);
  assert.ok(Math.abs(s!.rewrite[0]!.nllTrue - nllTrue) < 1e-4);
  const argmax = (p: number) => lp[p]!.indexOf(Math.max(...lp[p]!));
  const acc = ((argmax(4) === id("New") ? 1 : 0) + (argmax(5) === id("York") ? 1 : 0)) / 2;
  assert.equal(s!.reliability[0], acc);
  assert.equal(s!.rewrite[0]!.newCorrect, acc === 1);
  assert.equal(s!.paraphrase.length, 2);
  assert.equal(s!.neighborhood.length, 1);
  assert.equal(s!.localityArgmax[0]!.length, 1);
  model.dispose();
});

test("targetRequest: special tokens as the model was trained (BOS kept, trailing EOS dropped), target tokens after", () => {
  const tok = wordLevelTokenizer(WORDS, { bos: "<s>", eos: "</s>", unk: "<unk>", addBos: true, addEos: true });
  const id = (w: string) => tok.tokenToId(w)!;
  const r = targetRequest(tok, "Aldo Venn was born in", "New York");
  assert.deepEqual(r.context, [id("<s>"), id("Aldo"), id("Venn"), id("was"), id("born"), id("in")]);
  assert.deepEqual(r.continuation, [id("New"), id("York")]);
});

const cases = [
  fwCase("a", "Aldo Venn", "Tovia", "Kelmar"),
  fwCase("b", "Mira Tal", "Brisk", "Tovia"),
  fwCase("c", "Oren Sade", "Kelmar", "Brisk"),
];

test("single: each case edited from the original model; unedited locality is exact", async () => {
  const model = tinyWordModel();
  const ed = constantEditor(0);
  const r = await runProtocol(model, ed, cases, { mode: "single" });
  assert.equal(ed.calls.length, 3);
  assert.ok(ed.calls.every((c) => c.length === 1));
  for (const c of r.cases) {
    assert.equal(c.editsApplied, 1);
    assert.equal(c.evaluatedAt, "after-edit");
    // A zero delta changes nothing: post equals pre and locality is perfect.
    assert.deepEqual({ ...c.post, locality: undefined }, { ...c.pre, locality: undefined });
    assert.equal(c.post.locality, 1);
  }
  assert.match(summaryTable(r), /efficacy_score/);
  model.dispose();
});

test("batch: N requests per editor call, every case evaluated on its batch's model", async () => {
  const model = tinyWordModel();
  const ed = constantEditor(0.05);
  const r = await runProtocol(model, ed, cases, { mode: "batch", batchSize: 2 });
  assert.deepEqual(ed.calls.map((c) => c.length), [2, 1]);
  assert.deepEqual(r.cases.map((c) => c.editsApplied), [2, 2, 1]);
  model.dispose();
});

test("sequential: patches compose; after-edit sees k edits, after-all sees N; the composed patch rebuilds the model", async () => {
  const model = tinyWordModel();
  const name = `blocks.${model.config.nLayers - 1}.mlp.W_out`;
  const ed = constantEditor(0.05);
  const each = await runProtocol(model, ed, cases, { mode: "sequential", evaluate: "after-edit" });
  assert.deepEqual(each.cases.map((c) => c.editsApplied), [1, 2, 3]);
  const all = await runProtocol(model, constantEditor(0.05), cases, { mode: "sequential", evaluate: "after-all" });
  assert.deepEqual(all.cases.map((c) => c.editsApplied), [3, 3, 3]);
  assert.equal(all.cases[2]!.post.efficacy_score, each.cases[2]!.post.efficacy_score);
  // The composed patch = three deltas of 0.05: W' = W + 0.15.
  assert.equal(flattenPatch(all.patch!).length, 3);
  const rebuilt = applyPatch(model, all.patch!);
  const diff = await readF32(rebuilt.params[name]!.ref.sub(model.params[name]!.ref));
  assert.ok(diff.every((d) => Math.abs(d - 0.15) < 1e-5));
  rebuilt.dispose();
  // The edits changed something the metrics see.
  assert.notDeepEqual(all.cases[0]!.post, all.cases[0]!.pre);
  // The original model is untouched.
  const w = await readF32(model.params[name]!.ref.sub(np.zeros(model.params[name]!.shape)));
  assert.ok(w.length > 0);
  model.dispose();
});

test("sequential with a memory editor: each call edits the start model and its patch replaces the last; streamAt measures the stream", async () => {
  const model = tinyWordModel();
  const name = `blocks.${model.config.nLayers - 1}.mlp.W_out`;
  const shape = model.params[name]!.shape as number[];
  const seen: Model[] = [];
  let edits = 0;
  // Its memory after k edits is one delta of k·0.05: composed instead of replaced, three calls would give 0.3.
  const memoryEditor: Editor<Record<string, never>> = {
    name: "memory",
    sequential: "memory",
    defaults: () => ({}),
    reset: () => (edits = 0),
    async edit(m, requests): Promise<WeightPatch> {
      seen.push(m);
      edits += requests.length;
      return { type: "weights", info: { method: "memory" }, deltas: { [name]: { shape, data: new Float32Array(shape[0]! * shape[1]!).fill(0.05 * edits) } } };
    },
  };
  const r = await runProtocol(model, memoryEditor, cases, { mode: "sequential", evaluate: "after-all", streamAt: [1, 2, 10] });
  assert.ok(seen.every((m) => m === model), "every call is given the start model");
  const rebuilt = applyPatch(model, r.patch!);
  const diff = await readF32(rebuilt.params[name]!.ref.sub(model.params[name]!.ref));
  assert.ok(diff.every((d) => Math.abs(d - 0.15) < 1e-5), `W' = W + 0.15, got ${diff[0]}`);
  // Points after edits 1 and 2 (10 is past the stream's 3 edits): the first T cases scored, and ‖W + T·0.05‖.
  assert.deepEqual(r.stream!.map((p) => p.edits), [1, 2]);
  assert.equal(r.stream![0]!.summary.reliability!.n, 1);
  assert.equal(r.stream![1]!.summary.reliability!.n, 2);
  const base = await readF32(model.params[name]!.ref);
  const frob = (add: number) => Math.sqrt(base.reduce((a, v) => a + (v + add) ** 2, 0));
  assert.ok(Math.abs(r.stream![0]!.norms[name]! - frob(0.05)) < 1e-3 * frob(0.05));
  assert.ok(Math.abs(r.stream![1]!.norms[name]! - frob(0.1)) < 1e-3 * frob(0.1));
  rebuilt.dispose();
  model.dispose();
});
