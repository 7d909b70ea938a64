/**
 * Tool-call evaluation: the safe expression parser and completion scores on worked examples, the
 * evaluation / fine-tuning sets (deterministic, in the built-in tokenizer's vocabulary, the
 * existing tool prompts unchanged), and the tool-calls tasks on the built-in model.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { BUILTIN_DATA_DIR, BUILTIN_MODEL_DIR } from "../../src/cli/default-model.js";
import { arithmeticProblems, arithmeticPrompt } from "../../src/data/factworld/arithmetic.js";
import { STREAM } from "../../src/data/factworld/random.js";
import { WORD_TOOL_EVAL_SIZE, wordProblemExpression, wordProblemToolEvalSet, wordProblemToolSft, type WordProblemWorld } from "../../src/data/factworld/tool-word-problems.js";
import { TOOL_EVAL_SIZE, TOOL_OOD_ASKS, TOOL_TRAIN_ASKS, toolEvalSet, toolPrompts, toolSftExamples, type ToolPrompt } from "../../src/data/factworld/tools.js";
import type { FactWorld } from "../../src/data/factworld/types.js";
import { evaluate } from "../../src/eval/evaluate.js";
import { builtinTaskNames, loadTasks } from "../../src/eval/registry-node.js";
import { toolCallTask, wordProblemWorldOf } from "../../src/eval/tasks/tool-calls.js";
import { cutAfterToolCall, evaluateArithmetic, parseToolCall, scoreToolCompletion } from "../../src/eval/tool-calls.js";
import { loadTokenizer } from "../../src/io/tokenizer/index.js";
import { loadModel } from "../../src/model/load.js";
import { initEngine } from "../../src/tensor/engine.js";

const worldFile = path.join(BUILTIN_DATA_DIR, "world.json");
const haveWorld = existsSync(worldFile);
const world = { seed: haveWorld ? (JSON.parse(readFileSync(worldFile, "utf8")) as { seed: number }).seed : 20261122 };
const ready = existsSync(path.join(BUILTIN_MODEL_DIR, "model.safetensors")) && haveWorld;
/** The built-in world's seed and entities (word problems need its first names). */
const wordWorld: WordProblemWorld | null = haveWorld ? wordProblemWorldOf(JSON.parse(readFileSync(worldFile, "utf8")), worldFile) : null;

/** Every word of each text is in the built-in tokenizer's vocabulary and none encodes to <unk>. */
async function assertInVocabulary(texts: readonly string[]): Promise<void> {
  if (!existsSync(path.join(BUILTIN_MODEL_DIR, "tokenizer.json"))) return;
  const tok = await loadTokenizer(BUILTIN_MODEL_DIR);
  const vocab = (JSON.parse(readFileSync(path.join(BUILTIN_MODEL_DIR, "tokenizer.json"), "utf8")) as { model: { vocab: Record<string, number> } }).model.vocab;
  const unk = vocab["<unk>"];
  assert.equal(typeof unk, "number");
  for (const t of texts) {
    for (const w of t.split(" ")) assert.ok(w in vocab, `${JSON.stringify(w)} of ${JSON.stringify(t)} is in the vocabulary`);
    assert.ok(!tok.encode(t, { addSpecialTokens: false }).ids.includes(unk!), `no <unk> in ${JSON.stringify(t)}`);
  }
}

test("evaluateArithmetic: integers, + - *, brackets, precedence; anything else is null", () => {
  const cases: [string, number | null][] = [
    ["3 + 4", 7],
    ["3 - 4", -1],
    ["6 * 8", 48],
    ["2 + 5 * 8", 42],
    ["( 2 + 5 ) * 8", 56],
    ["4 - 2 - 1", 1],
    ["1 * 4 - 1", 3],
    ["( ( 1 ) )", 1],
    ["- 3 + 4", 1],
    ["3 - - 4", 7],
    ["75 + 61", 136],
    ["007", 7],
    ["3+4*2", 11],
    ["", null],
    ["   ", null],
    ["3 +", null],
    ["+ 3", null],
    ["3 4", null],
    ["( 3 + 4", null],
    ["3 + 4 )", null],
    [") 3 (", null],
    ["3 / 4", null],
    ["3 ** 4", null],
    ["3.5 + 1", null],
    ["x + 1", null],
    ["process.exit(1)", null],
    ["99999999999999999999 + 1", null],
    ["9007199254740991 + 1", null],
    ["(".repeat(100) + "1" + ")".repeat(100), null],
  ];
  for (const [expr, want] of cases) assert.equal(evaluateArithmetic(expr), want, JSON.stringify(expr));
});

test("parseToolCall / scoreToolCompletion: worked examples", () => {
  const s = (completion: string, expr: string) => scoreToolCompletion(completion, expr);
  // The trained answer.
  assert.deepEqual(s("<tool_call> calculator ( 3 + 4 ) </tool_call>", "3 + 4"), { tool_call: 1, valid_tool_format: 1, math_correct: 1, copied: 0 });
  // Leading space, extra whitespace, trailing text after the call (read up to the first </tool_call>).
  assert.deepEqual(s("  <tool_call>  calculator (3 + 4)  </tool_call> 3 + 4 junk", "3 + 4"), { tool_call: 1, valid_tool_format: 0, math_correct: 0, copied: 0 }, "( and ) must stand apart as the format writes them");
  assert.deepEqual(s(" <tool_call>  calculator  ( 3 + 4 )  </tool_call> 3 + 4 junk", "3 + 4"), { tool_call: 1, valid_tool_format: 1, math_correct: 1, copied: 0 });
  // A different expression with the same value is correct; a wrong one is a valid call but wrong.
  assert.deepEqual(s("<tool_call> calculator ( 4 + 3 ) </tool_call>", "3 + 4"), { tool_call: 1, valid_tool_format: 1, math_correct: 1, copied: 0 });
  assert.deepEqual(s("<tool_call> calculator ( 1 + 3 ) </tool_call>", "1 + 9"), { tool_call: 1, valid_tool_format: 1, math_correct: 0, copied: 0 });
  // Nested brackets inside the call; precedence of the prompt's expression.
  assert.deepEqual(s("<tool_call> calculator ( ( 3 - 7 ) + 5 ) </tool_call>", "( 3 - 7 ) + 5"), { tool_call: 1, valid_tool_format: 1, math_correct: 1, copied: 0 });
  assert.deepEqual(s("<tool_call> calculator ( 5 * 8 ) </tool_call>", "2 + 5 * 8"), { tool_call: 1, valid_tool_format: 1, math_correct: 0, copied: 0 });
  assert.deepEqual(s("<tool_call> calculator ( 42 ) </tool_call>", "2 + 5 * 8"), { tool_call: 1, valid_tool_format: 1, math_correct: 1, copied: 0 });
  // Broken calls: unfinished (cut at max tokens), wrong tool, no brackets, bad expression, text before.
  assert.deepEqual(s("<tool_call> calculator ( 19 - (B) Obviously poet . Next .", "19 + 88"), { tool_call: 1, valid_tool_format: 0, math_correct: 0, copied: 0 });
  assert.deepEqual(s("<tool_call> calculator ( 3 + 4 )", "3 + 4"), { tool_call: 1, valid_tool_format: 0, math_correct: 0, copied: 0 });
  assert.deepEqual(s("<tool_call> search ( 3 + 4 ) </tool_call>", "3 + 4"), { tool_call: 1, valid_tool_format: 0, math_correct: 0, copied: 0 });
  assert.deepEqual(s("<tool_call> calculator 3 + 4 </tool_call>", "3 + 4"), { tool_call: 1, valid_tool_format: 0, math_correct: 0, copied: 0 });
  assert.deepEqual(s("<tool_call> calculator ( 3 + ) </tool_call>", "3 + 4"), { tool_call: 1, valid_tool_format: 0, math_correct: 0, copied: 0 });
  assert.deepEqual(s("<tool_call> calculator ( 3 + 4 ) ( 5 ) </tool_call>", "3 + 4"), { tool_call: 1, valid_tool_format: 0, math_correct: 0, copied: 0 });
  assert.deepEqual(s("sure <tool_call> calculator ( 3 + 4 ) </tool_call>", "3 + 4"), { tool_call: 1, valid_tool_format: 0, math_correct: 0, copied: 0 });
  // Copies and plain answers.
  assert.deepEqual(s("3 + 4", "3 + 4"), { tool_call: 0, valid_tool_format: 0, math_correct: 0, copied: 1 });
  assert.deepEqual(s(" 3  +  4 ", "3 + 4"), { tool_call: 0, valid_tool_format: 0, math_correct: 0, copied: 1 });
  assert.deepEqual(s("3 + 4 = 7", "3 + 4"), { tool_call: 0, valid_tool_format: 0, math_correct: 0, copied: 0 });
  assert.deepEqual(s("7", "3 + 4"), { tool_call: 0, valid_tool_format: 0, math_correct: 0, copied: 0 });
  assert.deepEqual(s("", "3 + 4"), { tool_call: 0, valid_tool_format: 0, math_correct: 0, copied: 0 });
  assert.throws(() => s("3 + 4", "3 +"), RangeError);

  const p = parseToolCall(" <tool_call> calculator ( ( 6 - 2 ) * 9 ) </tool_call> <tool_call>");
  assert.deepEqual(p, { text: "<tool_call> calculator ( ( 6 - 2 ) * 9 ) </tool_call>", toolCall: true, startsWithToolCall: true, validFormat: true, expression: "( 6 - 2 ) * 9", value: 36 });
  const q = parseToolCall("<tool_call> calculator ( 3 + x ) </tool_call>");
  assert.equal(q.expression, "3 + x");
  assert.equal(q.validFormat, false);
  assert.equal(q.value, null);
  assert.equal(cutAfterToolCall("a\n b </tool_call> c"), "a b </tool_call>");
});

test("toolPrompts is unchanged: the export the built-in model was built with still matches", { skip: !existsSync(path.join(BUILTIN_DATA_DIR, "tools.json")) && "no export" }, () => {
  const exported = JSON.parse(readFileSync(path.join(BUILTIN_DATA_DIR, "tools.json"), "utf8")) as ToolPrompt[];
  assert.deepEqual(toolPrompts(world as FactWorld, "test", exported.length), exported);
  assert.equal(new Set(Object.values(STREAM)).size, Object.values(STREAM).length, "stream ids are distinct");
});

test("toolEvalSet: deterministic, sized, values right, every word in the built-in vocabulary", async () => {
  const set = toolEvalSet(world);
  assert.deepEqual(toolEvalSet(world), set);
  assert.notDeepEqual(toolEvalSet({ seed: world.seed + 1 }).positive, set.positive);
  for (const sub of ["positive", "negative", "ood"] as const) {
    assert.equal(set[sub].length, TOOL_EVAL_SIZE);
    for (const it of set[sub]) {
      assert.equal(it.subset, sub);
      assert.equal(evaluateArithmetic(it.expression), it.value, it.expression);
      assert.equal(it.prompt, `User : ${it.ask} ${it.expression} Assistant :`);
    }
  }
  assert.deepEqual(toolEvalSet(world, 10).positive, set.positive.slice(0, 10), "a smaller set is a prefix");
  assert.ok(set.positive.every((x) => x.variant === "train-ask" && TOOL_TRAIN_ASKS.includes(x.ask) && x.completion === `<tool_call> calculator ( ${x.expression} ) </tool_call>`));
  assert.ok(set.negative.every((x) => x.variant === "train-ask" && x.completion === x.expression && !TOOL_TRAIN_ASKS.includes(x.ask)));
  const variants = new Map<string, number>();
  for (const x of set.ood) variants.set(x.variant, (variants.get(x.variant) ?? 0) + 1);
  assert.deepEqual(Object.fromEntries(variants), { "three-operand": 50, brackets: 50, "two-digit": 50, "new-ask": 50 });
  assert.ok(set.ood.filter((x) => x.variant === "new-ask").every((x) => TOOL_OOD_ASKS.includes(x.ask) && !TOOL_TRAIN_ASKS.includes(x.ask)));
  // ood prompts never occur in the training corpus's tool documents (toolPrompts "train", 300 in the default mix).
  const trained = new Set(toolPrompts(world as FactWorld, "train", 300).map((p) => p.prompt));
  assert.ok(set.ood.every((x) => !trained.has(x.prompt)));

  await assertInVocabulary([...set.positive, ...set.negative, ...set.ood].flatMap((x) => [x.prompt, x.completion]).concat(toolSftExamples(world, 200).flatMap((x) => [x.prompt, x.completion])));
});

test("toolSftExamples: sized, deterministic, held out from the evaluation set, kinds alternate", () => {
  const sft = toolSftExamples(world, 101);
  assert.equal(sft.length, 101);
  assert.deepEqual(toolSftExamples(world, 101), sft);
  assert.deepEqual(toolSftExamples(world, 20), sft.slice(0, 20), "a smaller set is a prefix");
  assert.ok(sft.every((x, i) => x.kind === (i % 2 === 0 ? "tool" : "copy")));
  assert.ok(sft.every((x) => !x.completion.startsWith(" ")));
  const evalSet = toolEvalSet(world);
  const held = new Set([...evalSet.positive, ...evalSet.negative].map((x) => x.prompt));
  assert.ok(toolSftExamples(world, 1000).every((x) => !held.has(x.prompt)));
  const tools = toolSftExamples(world, 30, { kinds: ["tool"] });
  for (const x of tools) {
    const p = parseToolCall(x.completion);
    assert.ok(x.kind === "tool" && p.validFormat, x.completion);
    assert.ok(TOOL_TRAIN_ASKS.some((ask) => x.prompt === `User : ${ask} ${p.expression} Assistant :`), x.prompt);
  }
  assert.deepEqual(toolSftExamples(world, 0), []);
  assert.throws(() => toolSftExamples(world, -1), RangeError);
});

test("tool-calls tasks: registered, metrics as documented, scoring by subset", () => {
  const names = builtinTaskNames().map((t) => t.name);
  for (const n of ["tool-calls", "tool-calls-copy", "tool-calls-ood"]) assert.ok(names.includes(n), n);
  if (!haveWorld) return;
  const [pos, neg, ood] = loadTasks(["tool-calls", "tool-calls-copy", "tool-calls-ood"], { factworldDataDir: BUILTIN_DATA_DIR });
  assert.deepEqual(Object.keys(pos!.metrics), ["tool_call_rate", "valid_tool_format_rate", "math_correct_rate"]);
  assert.deepEqual(Object.keys(neg!.metrics), ["copy_rate", "false_tool_call_rate"]);
  assert.deepEqual(Object.keys(ood!.metrics), Object.keys(pos!.metrics));
  assert.equal(pos!.size, TOOL_EVAL_SIZE);
  const [inst] = pos!.instances(1);
  assert.deepEqual(inst!.requests, [{ type: "generate_until", context: inst!.prompt, until: ["\n"], maxNewTokens: 24, addSpecialTokens: true }]);
  assert.deepEqual(inst!.score([{ type: "generate_until", text: ` ${inst!.target}` }]), { tool_call_rate: 1, valid_tool_format_rate: 1, math_correct_rate: 1 });
  const [ni] = neg!.instances(1);
  assert.deepEqual(ni!.score([{ type: "generate_until", text: ni!.target }]), { copy_rate: 1, false_tool_call_rate: 0 });
  assert.deepEqual(ni!.score([{ type: "generate_until", text: `<tool_call> calculator ( ${ni!.target} ) </tool_call>` }]), { copy_rate: 0, false_tool_call_rate: 1 });
  assert.ok(ood!.instances(4).every((i) => i.group !== undefined));
  const custom = toolCallTask("positive", toolEvalSet({ seed: 7 }, 3).positive, "my-tools");
  assert.equal(custom.name, "my-tools");
  assert.equal(custom.instances().length, 3);
});

test("tool-calls tasks on the built-in model: calls the calculator when asked, copies when asked", { skip: !ready && "built-in model not built yet", timeout: 120_000 }, async () => {
  await initEngine();
  const model = await loadModel(BUILTIN_MODEL_DIR);
  try {
    const tasks = loadTasks(["tool-calls", "tool-calls-copy", "tool-calls-ood"], { factworldDataDir: BUILTIN_DATA_DIR });
    const res = await evaluate(model, tasks, { limit: 20, generateBatchSize: 64 });
    const line = res.tasks.map((t) => `${t.task} ${JSON.stringify(Object.fromEntries(Object.entries(t.metrics).map(([k, m]) => [k, Number(m.value.toFixed(4))])))} (n=${t.n})`);
    console.log(`# ${line.join("; ")}; ${res.stats.seconds.toFixed(1)} s`);
    for (const t of res.tasks) {
      assert.equal(t.n, 20);
      for (const [k, m] of Object.entries(t.metrics)) assert.ok(m.value >= 0 && m.value <= 1, `${t.task} ${k} = ${m.value}`);
    }
    const [pos, neg, ood] = res.tasks;
    // Trained on both: on the full sets (200 each) the built-in model measured tool_call_rate 1, valid 1, math_correct 0.71; copy_rate 1, false calls 0; ood 1 / 0.995 / 0.235.
    assert.ok(pos!.metrics.tool_call_rate!.value >= 0.9, `tool_call_rate ${pos!.metrics.tool_call_rate!.value}`);
    assert.ok(pos!.metrics.valid_tool_format_rate!.value >= 0.9, `valid_tool_format_rate ${pos!.metrics.valid_tool_format_rate!.value}`);
    assert.ok(pos!.metrics.math_correct_rate!.value <= pos!.metrics.valid_tool_format_rate!.value);
    assert.ok(neg!.metrics.copy_rate!.value >= 0.9, `copy_rate ${neg!.metrics.copy_rate!.value}`);
    assert.ok(neg!.metrics.false_tool_call_rate!.value <= 0.1, `false_tool_call_rate ${neg!.metrics.false_tool_call_rate!.value}`);
    assert.ok(ood!.metrics.math_correct_rate!.value <= ood!.metrics.valid_tool_format_rate!.value);
    assert.ok(ood!.groups && Object.keys(ood!.groups).length === 4);
  } finally {
    model.dispose();
  }
});

test("wordProblemExpression: reads the worked answer's steps into one expression", () => {
  assert.deepEqual(wordProblemExpression({ answer: "4 + 12 = 16 . #### 16", target: 16 }), { expression: "4 + 12", value: 16, variant: "word-add" });
  assert.deepEqual(wordProblemExpression({ answer: "11 - 9 = 2 . #### 2", target: 2 }), { expression: "11 - 9", value: 2, variant: "word-subtract" });
  assert.deepEqual(wordProblemExpression({ answer: "3 * 5 = 15 . #### 15", target: 15 }), { expression: "3 * 5", value: 15, variant: "word-multiply" });
  assert.deepEqual(wordProblemExpression({ answer: "7 + 3 = 10 . 10 - 5 = 5 . #### 5", target: 5 }), { expression: "7 + 3 - 5", value: 5, variant: "word-two-step" });
  assert.deepEqual(wordProblemExpression({ answer: "7 + 3 = 10 . 10 * 2 = 20 . #### 20", target: 20 }).expression, "( 7 + 3 ) * 2");
  assert.throws(() => wordProblemExpression({ answer: "4 + 12 = 16 .", target: 16 }), RangeError);
  assert.throws(() => wordProblemExpression({ answer: "4 + 12 = 16 . #### 17", target: 17 }), RangeError);
  assert.throws(() => wordProblemExpression({ answer: "4 + 12 = 16 . 15 - 3 = 12 . #### 12", target: 12 }), RangeError);
  // Every problem the fact world makes (both splits) reads back to an expression worth its target.
  if (!wordWorld) return;
  for (const p of [...arithmeticProblems(wordWorld, "train", 500), ...arithmeticProblems(wordWorld, "test")]) {
    const e = wordProblemExpression(p);
    assert.equal(evaluateArithmetic(e.expression), p.target, p.answer);
  }
});

test("word-problem tool data: deterministic, test split for evaluation, train split for fine-tuning, disjoint, in the vocabulary", { skip: !wordWorld && "no fact-world export" }, async () => {
  const w = wordWorld!;
  const set = wordProblemToolEvalSet(w);
  assert.equal(set.length, WORD_TOOL_EVAL_SIZE);
  assert.deepEqual(wordProblemToolEvalSet(w), set);
  assert.deepEqual(wordProblemToolEvalSet(w, 10), set.slice(0, 10), "a smaller set is a prefix");
  const testSplit = arithmeticProblems(w, "test", WORD_TOOL_EVAL_SIZE);
  set.forEach((it, i) => {
    assert.equal(it.subset, "word");
    assert.equal(it.prompt, arithmeticPrompt(testSplit[i]!.question));
    assert.equal(it.ask, testSplit[i]!.question);
    assert.equal(it.value, testSplit[i]!.target);
    assert.equal(evaluateArithmetic(it.expression), it.value, it.expression);
    assert.equal(it.completion, `<tool_call> calculator ( ${it.expression} ) </tool_call>`);
    assert.deepEqual(scoreToolCompletion(it.completion, it.expression), { tool_call: 1, valid_tool_format: 1, math_correct: 1, copied: 0 });
  });
  const kinds = new Set(set.map((x) => x.variant));
  assert.deepEqual([...kinds].sort(), ["word-add", "word-multiply", "word-subtract", "word-two-step"]);
  // The exported test file (what factworld-arithmetic scores) starts with the same questions.
  const exported = path.join(BUILTIN_DATA_DIR, "arithmetic/test.jsonl");
  if (existsSync(exported)) {
    const qs = readFileSync(exported, "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { question: string }).question);
    assert.deepEqual(set.map((x) => x.ask), qs.slice(0, set.length));
  }

  const sft = wordProblemToolSft(w, 300);
  assert.equal(sft.length, 300);
  assert.deepEqual(wordProblemToolSft(w, 300), sft);
  assert.deepEqual(wordProblemToolSft(w, 50), sft.slice(0, 50), "a smaller set is a prefix");
  const trainSplit = arithmeticProblems(w, "train", 300);
  sft.forEach((x, i) => {
    assert.equal(x.kind, "tool");
    assert.equal(x.prompt, arithmeticPrompt(trainSplit[i]!.question));
    assert.ok(!x.completion.startsWith(" "));
    const p = parseToolCall(x.completion);
    assert.ok(p.validFormat && p.value === trainSplit[i]!.target, x.completion);
  });
  // Disjoint from the evaluation prompts, also beyond the 2000 training problems of the corpus.
  const held = new Set(set.map((x) => x.prompt));
  const big = wordProblemToolSft(w, 2500);
  assert.equal(big.length, 2500);
  assert.ok(big.every((x) => !held.has(x.prompt)));
  assert.equal(new Set(big.map((x) => x.prompt)).size, big.length, "no prompt twice");
  // The full test split (300, the exported file) is also disjoint from the default training problems.
  const allTest = new Set(arithmeticProblems(w, "test").map((p) => arithmeticPrompt(p.question)));
  assert.ok(wordProblemToolSft(w, 2000).every((x) => !allTest.has(x.prompt)));

  // Copy examples mixed in at a fraction, spread evenly, taken from toolSftExamples kinds ["copy"].
  const mixed = wordProblemToolSft(w, 100, { copyFraction: 0.25 });
  assert.equal(mixed.length, 100);
  assert.equal(mixed.filter((x) => x.kind === "copy").length, 25);
  assert.deepEqual(mixed.filter((x) => x.kind === "copy"), toolSftExamples(w, 25, { kinds: ["copy"] }));
  assert.deepEqual(mixed.filter((x) => x.kind === "tool"), sft.slice(0, 75));
  assert.ok(mixed.slice(0, 8).filter((x) => x.kind === "copy").length === 2, "copies spread through the list");
  assert.ok(wordProblemToolSft(w, 10, { copyFraction: 1 }).every((x) => x.kind === "copy"));
  assert.deepEqual(wordProblemToolSft(w, 0), []);
  assert.throws(() => wordProblemToolSft(w, -1), RangeError);
  assert.throws(() => wordProblemToolSft(w, 5, { copyFraction: 1.5 }), RangeError);

  await assertInVocabulary([...set, ...wordProblemToolSft(w, 400, { copyFraction: 0.5 })].flatMap((x) => [x.prompt, x.completion]));
});

test("tool-calls-word task: registered, metrics, grouped by kind, scoring", { skip: !haveWorld && "no fact-world export" }, () => {
  assert.ok(builtinTaskNames().some((t) => t.name === "tool-calls-word"));
  const [task] = loadTasks(["tool-calls-word"], { factworldDataDir: BUILTIN_DATA_DIR });
  assert.equal(task!.name, "tool-calls-word");
  assert.equal(task!.size, WORD_TOOL_EVAL_SIZE);
  assert.deepEqual(Object.keys(task!.metrics), ["tool_call_rate", "valid_tool_format_rate", "math_correct_rate"]);
  const [inst] = task!.instances(1);
  assert.ok(inst!.prompt.startsWith("Question : ") && inst!.prompt.endsWith(" Answer :"));
  assert.ok(inst!.group?.startsWith("word-"));
  assert.deepEqual(inst!.requests, [{ type: "generate_until", context: inst!.prompt, until: ["\n"], maxNewTokens: 24, addSpecialTokens: true }]);
  assert.deepEqual(inst!.score([{ type: "generate_until", text: ` ${inst!.target}` }]), { tool_call_rate: 1, valid_tool_format_rate: 1, math_correct_rate: 1 });
  const item = wordProblemToolEvalSet(wordWorld!, 1)[0]!;
  assert.deepEqual(inst!.score([{ type: "generate_until", text: ` <tool_call> calculator ( ${item.value} ) </tool_call>` }]), { tool_call_rate: 1, valid_tool_format_rate: 1, math_correct_rate: 1 });
  assert.deepEqual(inst!.score([{ type: "generate_until", text: ` <tool_call> calculator ( ${item.value + 1} ) </tool_call>` }]), { tool_call_rate: 1, valid_tool_format_rate: 1, math_correct_rate: 0 });
  assert.deepEqual(inst!.score([{ type: "generate_until", text: ` ${item.expression} = ${item.value} . #### ${item.value}` }]), { tool_call_rate: 0, valid_tool_format_rate: 0, math_correct_rate: 0 });
});

test("tool-calls-word on the built-in model: it works word problems out in text, not with the calculator", { skip: !ready && "built-in model not built yet", timeout: 120_000 }, async () => {
  await initEngine();
  const model = await loadModel(BUILTIN_MODEL_DIR);
  try {
    const tasks = loadTasks(["tool-calls-word"], { factworldDataDir: BUILTIN_DATA_DIR });
    const res = await evaluate(model, tasks, { limit: 20, generateBatchSize: 64 });
    const [t] = res.tasks;
    console.log(`# tool-calls-word ${JSON.stringify(Object.fromEntries(Object.entries(t!.metrics).map(([k, m]) => [k, Number(m.value.toFixed(4))])))} (n=${t!.n}); ${res.stats.seconds.toFixed(1)} s`);
    assert.equal(t!.n, 20);
    // Trained to answer "Question : … Answer :" with a worked answer ("4 + 12 = 16 . #### 16"), the
    // built-in model does not call the calculator here: a fine-tuning run has room to raise this.
    assert.ok(t!.metrics.tool_call_rate!.value <= 0.2, `tool_call_rate ${t!.metrics.tool_call_rate!.value}`);
    assert.ok(t!.metrics.math_correct_rate!.value <= t!.metrics.valid_tool_format_rate!.value);
  } finally {
    model.dispose();
  }
});
