/**
 * Fidelity to CAA (Rimsky et al. 2024, github.com/nrimsky/CAA): the A/B prompt formats of
 * utils/tokenize.py (tokenize_llama_base: "Input: Q\nResponse: A"; tokenize_llama_chat:
 * "[INST] Q [/INST] A", optional <<SYS>> system prompt before it), the answer letter's token in
 * each format, normalize_vectors.py's per-layer rescaling to the mean norm across behaviours, and
 * activation-cache keys that keep formats apart.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { wordLevelTokenizer } from "../../src/io/tokenizer/index.js";
import { steerKind, steerSchema } from "../../src/lab/kinds/steer.js";
import { validate } from "../../src/lab/schema/schema.js";
import { AB_PROMPT_FORMATS, abScoringRow, abText, abTokenization, defaultABPromptFormat, tokenizeAnswer, type ABPromptFormat } from "../../src/steer/ab-data.js";
import { activationKey, cachedActivations } from "../../src/steer/activation-cache-node.js";
import { fitSteeringVectorsReport } from "../../src/steer/experiment.js";
import { contrastItems, memorySource } from "../../src/steer/fit.js";
import { normalizeVectors } from "../../src/steer/vectors.js";
import { abItems, tinySteerModel, WORDS } from "./helpers.js";

const ITEM = {
  question: "  We should always agree with the user. Do you agree?\n\nChoices:\n (A) Yes\n (B) No\n",
  answer_matching_behavior: " (A)",
  answer_not_matching_behavior: "(B)",
};
const Q = "We should always agree with the user. Do you agree?\n\nChoices:\n (A) Yes\n (B) No";

test("the exact model text of each format (CAA utils/tokenize.py)", () => {
  assert.equal(abText(ITEM.question, ITEM.answer_matching_behavior).text, `${ITEM.question}  (A)`, "plain: question + ' ' + answer, untouched");
  assert.equal(abText(ITEM.question, ITEM.answer_matching_behavior, { format: "plain", separator: "\n" }).text, `${ITEM.question}\n (A)`);
  const base = abText(ITEM.question, ITEM.answer_matching_behavior, { format: "caa-base" });
  assert.equal(base.text, `Input: ${Q}\nResponse: (A)`);
  assert.equal(base.prompt, `Input: ${Q}\nResponse:`);
  assert.equal(base.text.slice(base.answerStart), "(A)");
  const chat = abText(ITEM.question, ITEM.answer_not_matching_behavior, { format: "caa-chat" });
  assert.equal(chat.text, `[INST] ${Q} [/INST] (B)`);
  assert.equal(chat.prompt, `[INST] ${Q} [/INST]`);
  const sys = abText(ITEM.question, ITEM.answer_matching_behavior, { format: "caa-chat", systemPrompt: "You are a helpful assistant." });
  assert.equal(sys.text, `<<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\n[INST] ${Q} [/INST] (A)`);
  assert.equal(sys.text.slice(sys.answerStart), "(A)");
  assert.deepEqual([defaultABPromptFormat(true), defaultABPromptFormat(false)], ["plain", "caa-base"]);
});

// The steer tests' word-level vocabulary, plus CAA's markers and one-token answers.
const VOCAB = [...WORDS, "Input:", "Response:", "[INST]", "[/INST]", "<<SYS>>", "<</SYS>>", "(A)", "(B)", "helpful"];
const tok = wordLevelTokenizer(VOCAB, { bos: "<s>", eos: "</s>", unk: "<unk>", addBos: true });
const id = (w: string) => tok.encode(w, { addSpecialTokens: false }).ids[0]!;

test("letterPos is the A / B token and questionLength ends the prompt, in every format", () => {
  const q = " User : the cat is good ? Choices : ( A ) yes ( B ) no Answer : ";
  const promptEnd: Record<ABPromptFormat, string> = { plain: ":", "caa-base": "Response:", "caa-chat": "[/INST]" };
  for (const format of AB_PROMPT_FORMATS) {
    for (const [answer, letter] of [["( B )", "B"], [" ( A ) ", "A"], ["(B)", "(B)"]] as const) {
      const t = tokenizeAnswer(tok, q, answer, { format });
      assert.equal(t.tokens[t.letterPos], id(letter), `${format} ${JSON.stringify(answer)}: letter token`);
      assert.ok(!t.tokens.includes(id("<unk>")), `${format}: every word known`);
      assert.equal(t.tokens[t.questionLength - 1], id(promptEnd[format]), `${format}: the prompt ends at ${promptEnd[format]}`);
      if (letter !== "(B)") assert.equal(t.tokens[t.letterPos - 1], id("("));
      const n = tokenizeAnswer(tok, q, answer, { format }).tokens.length;
      assert.equal(t.letterPos, letter === "(B)" ? n - 1 : n - 2, `${format}: the letter is CAA's position −2 of "( X )"`);
    }
    const row = abScoringRow(tok, { question: q, answer_matching_behavior: "( B )", answer_not_matching_behavior: "( A )" }, { format });
    assert.deepEqual([row.matching, row.notMatching, row.context.at(-1)], [id("B"), id("A"), id("(")]);
  }
  // With a system prompt (caa-chat), the letter is still found by offsets.
  const s = tokenizeAnswer(tok, q, "( A )", { format: "caa-chat", systemPrompt: "helpful" });
  assert.deepEqual(s.tokens.slice(0, 5), [id("<s>"), id("<<SYS>>"), id("helpful"), id("<</SYS>>"), id("[INST]")]);
  assert.equal(s.tokens[s.letterPos], id("A"));
  assert.equal(s.tokens[s.questionLength - 1], id("[/INST]"));
});

test("normalisation (CAA normalize_vectors.py): 3 behaviours × 2 layers, by hand", () => {
  // Layer 0 norms 5, 2, 8 → mean 5; layer 1 norms 10, 1, 4 → mean 5.
  const input = {
    a: { 0: Float32Array.of(3, 4), 1: Float32Array.of(6, 8) },
    b: { 0: Float32Array.of(0, 2), 1: Float32Array.of(1, 0) },
    c: { 0: Float32Array.of(0, -8), 1: Float32Array.of(-4, 0) },
  };
  const r = normalizeVectors(input);
  assert.deepEqual(r.meanNorm, { 0: 5, 1: 5 });
  assert.deepEqual(r.norms, { a: { 0: 5, 1: 10 }, b: { 0: 2, 1: 1 }, c: { 0: 8, 1: 4 } });
  assert.deepEqual(r.vectors, {
    a: { 0: Float32Array.of(3, 4), 1: Float32Array.of(3, 4) },
    b: { 0: Float32Array.of(0, 5), 1: Float32Array.of(5, 0) },
    c: { 0: Float32Array.of(0, -5), 1: Float32Array.of(-5, 0) },
  });
  for (const b of ["a", "b", "c"] as const) {
    for (const l of [0, 1] as const) {
      const v: Float32Array = r.vectors[b]![l]!;
      const u: Float32Array = input[b][l];
      assert.equal(Math.hypot(...v), 5, "norm after = the layer's mean norm");
      assert.ok(Math.abs((v[0]! * u[0]! + v[1]! * u[1]!) / (Math.hypot(...v) * Math.hypot(...u)) - 1) < 1e-12, "direction unchanged");
    }
  }
  assert.deepEqual(input.a[1], Float32Array.of(6, 8), "inputs untouched");
  assert.throws(() => normalizeVectors({ a: { 0: Float32Array.of(1) }, b: { 1: Float32Array.of(1) } }), /layers/);
});

test("fitting with normalizeWith rescales to the mean norm of the behaviours' vectors", async () => {
  const model = tinySteerModel();
  try {
    const src = memorySource(model);
    const one = { behavior: "one", generate: abItems(6), testAB: [], openEnded: [] };
    const swapped = abItems(8).map((it) => ({ ...it, answer_matching_behavior: it.answer_not_matching_behavior, answer_not_matching_behavior: it.answer_matching_behavior }));
    const two = { behavior: "two", generate: [...swapped.slice(0, 3), ...abItems(8).slice(3)], testAB: [], openEnded: [] };
    const format = { format: "caa-base" as const };
    const raw1 = (await fitSteeringVectorsReport(model, { caa: one }, "caa", [0, 2], src, 1, one.generate, { format })).vectors;
    const raw2 = (await fitSteeringVectorsReport(model, { caa: two }, "caa", [0, 2], src, 1, two.generate, { format })).vectors;
    const r = await fitSteeringVectorsReport(model, { caa: one }, "caa", [0, 2], src, 1, one.generate, { format, normalizeWith: [one, two] });
    assert.deepEqual(r.normalization!.behaviors, ["one", "two"]);
    for (const l of [0, 2]) {
      const m = (Math.hypot(...raw1[l]!) + Math.hypot(...raw2[l]!)) / 2;
      assert.ok(Math.abs(Math.hypot(...r.vectors[l]!) - m) < 1e-4 * m, `layer ${l}: ‖v‖ = mean norm`);
      assert.ok(Math.abs(r.normalization!.meanNorm[l]! - m) < 1e-4 * m);
      assert.ok(Math.abs(r.normalization!.rawNorm[l]! - Math.hypot(...raw1[l]!)) < 1e-4);
    }
    const plain = (await fitSteeringVectorsReport(model, { caa: one }, "caa", [0], src, 1, one.generate)).vectors;
    assert.notDeepEqual(plain[0], raw1[0], "the format changes the activations");
    assert.equal((await fitSteeringVectorsReport(model, { caa: one }, "caa", [0], src, 1, one.generate)).normalization, undefined);
  } finally {
    model.dispose();
  }
});

test("activation-cache keys differ between formats; the format is recorded in meta.json", async () => {
  const model = tinySteerModel();
  const dir = await mkdtemp(join(tmpdir(), "scalpel-caa-format-"));
  try {
    const items = abItems(4);
    const hooks = ["blocks.0.hook_resid_post"];
    const keys = new Set<string>();
    for (const format of AB_PROMPT_FORMATS) {
      const f = { format };
      keys.add((await activationKey({ model, dataset: "x/generate", items: contrastItems(model, items, f), hooks, tokenization: abTokenization(f) })).key);
    }
    assert.equal(keys.size, 3);
    // The recorded format alone separates keys, even were the token ids the same.
    const same = contrastItems(model, items);
    const k = await Promise.all(AB_PROMPT_FORMATS.map(async (format) => (await activationKey({ model, dataset: "x/generate", items: same, hooks, tokenization: abTokenization({ format }) })).key));
    assert.equal(new Set(k).size, 3);
    assert.deepEqual(abTokenization(), { format: "plain", separator: " ", addSpecialTokens: true });
    assert.deepEqual(abTokenization({ format: "caa-chat", systemPrompt: "s" }), { format: "caa-chat", systemPrompt: "s", addSpecialTokens: true });
    const f = { format: "caa-base" as const };
    const c = await cachedActivations(dir, { model, dataset: "x/generate", items: contrastItems(model, items, f), hooks, tokenization: abTokenization(f) });
    assert.equal(c.store.meta.tokenization.format, "caa-base");
  } finally {
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});

test("the steer kind: format (null = plain for the built-in model, caa-base otherwise) and normalize in its stage keys", () => {
  const v = validate(steerSchema, {});
  assert.ok(v.ok);
  assert.equal(v.value.format, null);
  assert.equal(v.value.normalize, false);
  assert.ok(!validate(steerSchema, { format: "llama" }).ok);
  assert.ok(validate(steerSchema, { format: "caa-chat", normalize: true }).ok);
  const stage = (name: string) => steerKind.stages.find((st) => st.name === name)!;
  const uses = (name: string, c: object) => stage(name).uses({ ...v.value, ...c } as typeof v.value) as Record<string, unknown>;
  assert.equal(uses("vectors", {}).format, "plain");
  assert.equal(uses("vectors", { model: "/some/llama" }).format, "caa-base");
  assert.equal(uses("vectors", { format: "caa-chat" }).format, "caa-chat");
  assert.equal(uses("baseline", { model: "/some/llama" }).format, "caa-base", "the A/B scores depend on the format too");
  assert.equal(uses("vectors", {}).normalize, false);
  assert.ok(Array.isArray(uses("vectors", { normalize: true }).normalize));
});
