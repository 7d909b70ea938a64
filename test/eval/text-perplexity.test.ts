/**
 * Perplexity on the user's own text (`perplexity:FILE`, eval/tasks/text-perplexity.ts): documents
 * from .jsonl / .json / plain text, and token/word/byte perplexity from lm-eval's rolling windows
 * summed over documents.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { UsageError } from "../../src/errors.js";
import { evaluate } from "../../src/eval/evaluate.js";
import { countBytes, countWords } from "../../src/eval/perplexity.js";
import { loadTasks } from "../../src/eval/registry-node.js";
import { loglikelihoodRolling } from "../../src/eval/rolling.js";
import { textDocuments } from "../../src/eval/tasks/text-perplexity.js";
import { tinyModel, words } from "./tiny-model.js";

test("documents from .jsonl, .json and plain text; malformed input names the line", () => {
  assert.deepEqual(textDocuments('{"text": "a b"}\n\n"c d"\n', "x.jsonl"), ["a b", "c d"]);
  assert.deepEqual(textDocuments('["a b", {"text": "c"}]', "x.json"), ["a b", "c"]);
  assert.deepEqual(textDocuments("first doc\nstill first\n\n  \nsecond\r\n", "x.txt"), ["first doc\nstill first", "second"]);
  assert.throws(() => textDocuments('{"text": "a"}\n{oops}\n', "x.jsonl"), (e: unknown) => e instanceof UsageError && /line 2/.test(e.message));
  assert.throws(() => textDocuments('[{"body": "a"}]', "x.json"), /"text"/);
  assert.throws(() => textDocuments("\n\n", "x.txt"), /no document/);
});

test("perplexity:FILE sums lm-eval rolling log-likelihoods over documents", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "scalpel-ppl-"));
  try {
    const docs = [words(40, 1), words(25, 2)];
    const file = path.join(dir, "held-out.jsonl");
    await writeFile(file, docs.map((text) => JSON.stringify({ text })).join("\n"));
    const model = tinyModel(4, 64);
    const [task] = loadTasks([`perplexity:${file}`], { factworldDataDir: dir, maxLength: 32 });
    const r = await evaluate(model, [task!], {});
    const rolled = await loglikelihoodRolling(model, docs, { maxLength: 32 });
    const ll = rolled.reduce((s, x) => s + x.sum, 0);
    const tokens = rolled.reduce((s, x) => s + x.tokens, 0);
    const close = (a: number, b: number) => assert.ok(Math.abs(a - b) <= 1e-4 * b, `${a} vs ${b}`);
    close(r.tasks[0]!.metrics.token_perplexity!.value, Math.exp(-ll / tokens));
    close(r.tasks[0]!.metrics.word_perplexity!.value, Math.exp(-ll / docs.reduce((s, d) => s + countWords(d), 0)));
    close(r.tasks[0]!.metrics.byte_perplexity!.value, Math.exp(-ll / docs.reduce((s, d) => s + countBytes(d), 0)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
