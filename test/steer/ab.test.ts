/**
 * CAA A/B items: validation errors name the field; the answer letter is found through the
 * tokenizer's offsets whether "(A)" is one word (the fact world) or "( A )" three; the A/B score
 * equals p(match)/(p(A)+p(B)) computed by hand from a plain forward pass, and "after-prompt"
 * steering in scoring starts at the question's last token.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../../src/errors.js";
import { wordLevelTokenizer } from "../../src/io/tokenizer/index.js";
import { readF32 } from "../../src/tensor/own.js";
import { abScoringRow, parseABItems, tokenizeAnswer } from "../../src/steer/ab-data.js";
import { abScore } from "../../src/steer/ab-score.js";
import { residHook, steerModel, steeringPatch } from "../../src/steer/apply.js";
import { abItems, tinySteerModel } from "./helpers.js";

test("parseABItems names the file and field of a bad item", () => {
  assert.throws(() => parseABItems([{ question: "q", answer_matching_behavior: "(A)" }], "x.json"), (e: unknown) => e instanceof ConfigError && /\[0\]\.answer_not_matching_behavior/.test(e.message) && /x\.json/.test(e.message));
  assert.throws(() => parseABItems([{ question: "q", answer_matching_behavior: "(a)", answer_not_matching_behavior: "(B)" }], "x.json"), /names no choice letter/);
  assert.throws(() => parseABItems({}, "x.json"), /JSON array/);
});

test("the answer letter's token, one-word and three-word answer forms", () => {
  const tok = wordLevelTokenizer(["Q", "?", "(A)", "(B)", "(", "A", "B", ")"], { bos: "<s>", addBos: true });
  const one = tokenizeAnswer(tok, "Q ?", "(B)");
  assert.deepEqual(one, { tokens: [8, 0, 1, 3], letterPos: 3, questionLength: 3 });
  const three = tokenizeAnswer(tok, "Q ?", "( B )");
  assert.deepEqual(three, { tokens: [8, 0, 1, 4, 6, 7], letterPos: 4, questionLength: 3 });
  const row = abScoringRow(tok, { question: "Q ?", answer_matching_behavior: "( B )", answer_not_matching_behavior: "( A )" });
  assert.deepEqual(row, { context: [8, 0, 1, 4], matching: 6, notMatching: 5, questionLength: 3 });
});

test("A/B score = p(match)/(p(A)+p(B)) by hand; steering after the prompt moves it", async () => {
  const model = tinySteerModel();
  const items = abItems(6);
  const rows = items.map((it) => abScoringRow(model.tokenizer, it));
  const got = await abScore(model, rows, { batchSize: 4 });
  for (const [i, r] of rows.entries()) {
    const { logits } = model.forward([r.context]);
    const flat = await readF32(logits!);
    const V = model.config.vocabSize;
    const last = flat.subarray((r.context.length - 1) * V, r.context.length * V);
    const pm = Math.exp(last[r.matching]!);
    const pn = Math.exp(last[r.notMatching]!);
    assert.ok(Math.abs(got.items[i]!.score - pm / (pm + pn)) < 1e-5, `item ${i}`);
  }
  assert.ok(Math.abs(got.score - got.items.reduce((a, x) => a + x.score, 0) / rows.length) < 1e-12);
  const v = new Float32Array(32).map((_, k) => (k % 3) - 1);
  const steered = steerModel(model, steeringPatch({ vectors: { [residHook(2)]: v }, alpha: 3, positions: "after-prompt", info: { method: "t" } }));
  const moved = await abScore(steered, rows);
  assert.ok(Math.abs(moved.score - got.score) > 1e-4, "after-prompt steering changed nothing in scoring");
  model.dispose();
});
