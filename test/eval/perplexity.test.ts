/**
 * Perplexity golden tests: the harness's number equals exp of the mean NLL computed independently
 * (full-sequence logits, float64 log-softmax on the host), the sliding window equals one window
 * when the text fits, and with overlapping windows it equals the Hugging Face guide's loop written
 * out directly (each window run alone, the last trg_len labels scored).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { perplexity, slidingWindows } from "../../src/eval/perplexity.js";
import { readF32 } from "../../src/tensor/own.js";
import type { Model } from "../../src/model/types.js";
import { tinyModel, words } from "./tiny-model.js";

/** Σ log p(tokens[j] | tokens[<j]) for j in `scored`, from one forward over `tokens`. */
async function hostLL(model: Model, tokens: number[], scored: number[]): Promise<number> {
  const { logits } = model.forward([tokens]);
  const V = model.config.vocabSize;
  const flat = await readF32(logits!);
  let ll = 0;
  for (const j of scored) {
    const row = Array.from(flat.subarray((j - 1) * V, j * V));
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    ll += row[tokens[j]!]! - lse;
  }
  return ll;
}

test("slidingWindows: the guide's windows score every token from the second on exactly once", () => {
  const t = Array.from({ length: 10 }, (_, i) => i);
  assert.deepEqual(slidingWindows(t, 4, 2), [
    { context: [0], continuation: [1, 2, 3] },
    { context: [2, 3], continuation: [4, 5] },
    { context: [4, 5], continuation: [6, 7] },
    { context: [6, 7], continuation: [8, 9] },
  ]);
  // Disjoint windows (stride = max_length): the first token of each window is only context.
  assert.deepEqual(slidingWindows(t, 4, 4), [
    { context: [0], continuation: [1, 2, 3] },
    { context: [4], continuation: [5, 6, 7] },
    { context: [8], continuation: [9] },
  ]);
  assert.deepEqual(slidingWindows([5], 4, 2), []);
  assert.throws(() => slidingWindows(t, 4, 5), /stride/);
});

test("perplexity = exp(mean NLL) computed independently; sliding = single window when the text fits", async () => {
  const model = tinyModel(3, 64);
  const text = words(40);
  const ids = model.tokenizer.encode(text, { addSpecialTokens: false }).ids;
  assert.equal(ids.length, 40);
  const ll = await hostLL(model, ids, ids.map((_, j) => j).slice(1));
  const expected = Math.exp(-ll / 39);
  const single = await perplexity(model, text, { maxLength: 64, stride: 64 });
  assert.equal(single.tokens, 39);
  assert.ok(Math.abs(single.perplexity - expected) / expected < 1e-5, `${single.perplexity} vs ${expected}`);
  const sliding = await perplexity(model, text, { maxLength: 64, stride: 8 });
  assert.ok(Math.abs(sliding.perplexity - single.perplexity) / expected < 1e-6);
  // With the BOS prefix, the first token is scored too; word/byte normalisation use the text's counts.
  const withPrefix = await perplexity(model, text, { prefix: true });
  const bos = model.tokenizer.bosId!;
  const llAll = await hostLL(model, [bos, ...ids], ids.map((_, j) => j + 1));
  assert.equal(withPrefix.tokens, 40);
  assert.ok(Math.abs(withPrefix.loglikelihood - llAll) < 1e-3);
  assert.equal(withPrefix.words, 40);
  assert.equal(withPrefix.bytes, new TextEncoder().encode(text).length);
  assert.ok(Math.abs(withPrefix.wordPerplexity - Math.exp(-llAll / 40)) / withPrefix.wordPerplexity < 1e-5);
  assert.ok(Math.abs(withPrefix.bitsPerByte - -llAll / withPrefix.bytes / Math.LN2) < 1e-5);
});

test("overlapping windows over a text longer than the window equal the guide's loop run window by window", async () => {
  const model = tinyModel(4, 32);
  const text = words(90, 11);
  const ids = model.tokenizer.encode(text, { addSpecialTokens: false }).ids;
  const maxLength = 24;
  const stride = 10;
  let ll = 0;
  let n = 0;
  let prevEnd = 0;
  for (let begin = 0; begin < ids.length; begin += stride) {
    const end = Math.min(begin + maxLength, ids.length);
    const trg = end - prevEnd;
    const input = ids.slice(begin, end);
    const scored = input.map((_, j) => j).filter((j) => j >= Math.max(1, input.length - trg));
    ll += await hostLL(model, input, scored);
    n += scored.length;
    prevEnd = end;
    if (end === ids.length) break;
  }
  assert.equal(n, 89);
  const got = await perplexity(model, text, { maxLength, stride, batchSize: 3 });
  assert.equal(got.tokens, 89);
  assert.ok(Math.abs(got.loglikelihood - ll) < 1e-3, `${got.loglikelihood} vs ${ll}`);
  // More context per token than disjoint windows: a different (here: any) number, same token count.
  const disjoint = await perplexity(model, text, { maxLength, stride: maxLength });
  assert.equal(disjoint.tokens, 89 - 3);
});

test("WikiText: CRLF normalised, split at top-level headings, lm-eval's detokenizer", async () => {
  const { splitWikitextArticles, wikitextDetokenize } = await import("../../src/eval/tasks/wikitext.js");
  const raw = " = A = \r\n Alpha is 1 @,@ 000 km long . \r\n = = Sub = = \r\n It ( was ) \" big \" . \r\n = B = \r\n Beta 's end \r\n";
  const arts = splitWikitextArticles(raw);
  // The last page keeps the file's final empty line (wikitext_document_level's script: "\n".join of every line).
  assert.deepEqual(arts, [" = A = \n Alpha is 1 @,@ 000 km long . \n = = Sub = = \n It ( was ) \" big \" . ", " = B = \n Beta 's end \n"]);
  assert.equal(wikitextDetokenize(arts[0]!), " = A =\nAlpha is 1,000 km long.\n== Sub ==\nIt (was) \"big\". ");
  assert.equal(wikitextDetokenize(arts[1]!), " = B =\nBeta's end\n");
});
