/**
 * The tasks named after lm-evaluation-harness tasks compute what lm-eval computes (lm-eval commit
 * 4e7e0d47): `gsm8k` (gsm8k.yaml, 5-shot), `gsm8k-cot` (gsm8k-cot.yaml, lm-eval's gsm8k_cot: the 8
 * fixed exemplars), `wikitext` (wikitext.yaml: loglikelihood_rolling, disjoint windows); the
 * earlier variants live on as `gsm8k-0shot`, `gsm8k-8shot-train` and `wikitext-strided`.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { executeRequests } from "../../src/eval/execute.js";
import { applyRegexFilter } from "../../src/eval/extract.js";
import { perplexity } from "../../src/eval/perplexity.js";
import { loadTasks } from "../../src/eval/registry-node.js";
import { loglikelihoodRolling } from "../../src/eval/rolling.js";
import { GSM8K_COT_FILTERS, gsm8kCotTask, gsm8kTask, type Gsm8kDoc } from "../../src/eval/tasks/gsm8k.js";
import { splitWikitextArticles, wikitextDetokenize, wikitextTask } from "../../src/eval/tasks/wikitext.js";
import { countBytes, countWords } from "../../src/eval/perplexity.js";
import { defaultDataDir } from "../../src/data/benchmarks/readers.js";
import { readF32 } from "../../src/tensor/own.js";
import type { Model } from "../../src/model/types.js";
import type { GenerateResponse, PerplexityRequest, PerplexityResponse } from "../../src/eval/types.js";
import { tinyModel, words } from "./tiny-model.js";

const DOCS: Gsm8kDoc[] = [
  { question: "Tom has 3 apples and buys 15 more. How many apples does he have?", answer: "He has 3 + 15 = <<3+15=18>>18 apples.\n#### 18" },
  { question: "A box holds 4 pens. How many pens are in 2 boxes?", answer: "2 * 4 = <<2*4=8>>8\n#### 8" },
];

test("gsm8k-cot: the first document's prompt is byte-identical to lm-eval's gsm8k_cot prompt", () => {
  const task = gsm8kCotTask(DOCS);
  assert.equal(task.name, "gsm8k-cot");
  assert.deepEqual(task.fewshot, { n: 8, split: "fixed (gsm8k-cot.yaml fewshot_config.samples, Wei et al. 2022)", sampler: "first_n", seed: 1234 });
  const [first, second] = task.instances();
  // lm-eval fewshot_context: Σ [doc_to_text(ex) + target_delimiter " " + target + fewshot_delimiter "\n\n"] + doc_to_text(doc).
  const expected =
    "Q: There are 15 trees in the grove. Grove workers will plant trees in the grove today. After they are done, there will be 21 trees. How many trees did the grove workers plant today?\nA: There are 15 trees originally. Then there were 21 trees after some more were planted. So there must have been 21 - 15 = 6. The answer is 6.\n\n" +
    "Q: If there are 3 cars in the parking lot and 2 more cars arrive, how many cars are in the parking lot?\nA: There are originally 3 cars. 2 more cars arrive. 3 + 2 = 5. The answer is 5.\n\n" +
    "Q: Leah had 32 chocolates and her sister had 42. If they ate 35, how many pieces do they have left in total?\nA: Originally, Leah had 32 chocolates. Her sister had 42. So in total they had 32 + 42 = 74. After eating 35, they had 74 - 35 = 39. The answer is 39.\n\n" +
    "Q: Jason had 20 lollipops. He gave Denny some lollipops. Now Jason has 12 lollipops. How many lollipops did Jason give to Denny?\nA: Jason started with 20 lollipops. Then he had 12 after giving some to Denny. So he gave Denny 20 - 12 = 8. The answer is 8.\n\n" +
    "Q: Shawn has five toys. For Christmas, he got two toys each from his mom and dad. How many toys does he have now?\nA: Shawn started with 5 toys. If he got 2 toys each from his mom and dad, then that is 4 more toys. 5 + 4 = 9. The answer is 9.\n\n" +
    "Q: There were nine computers in the server room. Five more computers were installed each day, from monday to thursday. How many computers are now in the server room?\nA: There were originally 9 computers. For each of 4 days, 5 more computers were added. So 5 * 4 = 20 computers were added. 9 + 20 is 29. The answer is 29.\n\n" +
    "Q: Michael had 58 golf balls. On tuesday, he lost 23 golf balls. On wednesday, he lost 2 more. How many golf balls did he have at the end of wednesday?\nA: Michael started with 58 golf balls. After losing 23 on tuesday, he had 58 - 23 = 35. After losing 2 more, he had 35 - 2 = 33 golf balls. The answer is 33.\n\n" +
    "Q: Olivia has $23. She bought five bagels for $3 each. How much money does she have left?\nA: Olivia had 23 dollars. 5 bagels for 3 dollars each will be 5 x 3 = 15 dollars. So she has 23 - 15 dollars left. 23 - 15 is 8. The answer is 8.\n\n" +
    "Q: Tom has 3 apples and buys 15 more. How many apples does he have?\nA:";
  assert.equal(first!.prompt, expected);
  assert.equal(first!.target, "18");
  assert.deepEqual(first!.requests, [{ type: "generate_until", context: expected, until: ["Q:", "</s>", "<|im_end|>"], maxNewTokens: 256 }]);
  // Same exemplars for every document (first_n).
  assert.equal(second!.prompt, expected.slice(0, expected.lastIndexOf("Q: Tom")) + "Q: A box holds 4 pens. How many pens are in 2 boxes?\nA:");
});

test("gsm8k-cot: strict 'The answer is N.' and flexible extraction, exact match against the #### number", () => {
  const strict = GSM8K_COT_FILTERS.find((f) => f.name === "strict-match")!;
  assert.equal(applyRegexFilter("He buys 15 more, 3 + 15 = 18. The answer is 18.", strict), "18");
  assert.equal(applyRegexFilter("He has 1,234 now. The answer is 1,234.", strict), "1,234");
  assert.equal(applyRegexFilter("#### 18", strict), "[invalid]");
  const inst = gsm8kCotTask(DOCS).instances(1)[0]!;
  const score = (text: string) => inst.score([{ type: "generate_until", text } as GenerateResponse]);
  assert.deepEqual(score(" Tom had 3 apples. 3 + 15 = 18. The answer is 18.\n\n"), { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 });
  assert.deepEqual(score(" 3 + 15 = 18 apples."), { "exact_match,strict-match": 0, "exact_match,flexible-extract": 1 });
  assert.deepEqual(score(" The answer is 17."), { "exact_match,strict-match": 0, "exact_match,flexible-extract": 0 });
});

test("gsm8k: lm-eval's 5-shot from train, 'Question: …\\nAnswer: {full solution}' examples; old variants renamed", () => {
  const train: Gsm8kDoc[] = Array.from({ length: 7 }, (_, i) => ({ question: `Q${i}?`, answer: `S${i}\n#### ${i}` }));
  const task = gsm8kTask(DOCS, train, 5);
  assert.equal(task.name, "gsm8k");
  assert.deepEqual(task.fewshot, { n: 5, split: "train", sampler: "random", seed: 1234 });
  const inst = task.instances(1)[0]!;
  assert.equal(inst.prompt.split("Question: ").length - 1, 6);
  const shots = inst.prompt.split("\n\n").slice(0, 5);
  assert.equal(shots.length, 5);
  for (const s of shots) assert.match(s, /^Question: Q(\d)\?\nAnswer: S\1\n#### \1$/);
  assert.ok(inst.prompt.endsWith("\n\nQuestion: Tom has 3 apples and buys 15 more. How many apples does he have?\nAnswer:"));
  assert.deepEqual((inst.requests[0] as { until: string[] }).until, ["Question:", "</s>", "<|im_end|>"]);
  assert.equal(gsm8kTask(DOCS, [], 0).name, "gsm8k-0shot");
  assert.equal(gsm8kTask(DOCS, train, 0).instances(1)[0]!.prompt, "Question: Tom has 3 apples and buys 15 more. How many apples does he have?\nAnswer:");
  assert.equal(gsm8kTask(DOCS, [...train, ...train.map((d) => ({ ...d }))], 8).name, "gsm8k-8shot-train");
});

/** Σ log p(tokens[j] | tokens[<j]) for the last `k` positions j, from one forward over `tokens` (float64 on the host). */
async function hostLL(model: Model, tokens: number[], k = tokens.length - 1): Promise<number> {
  const { logits } = model.forward([tokens]);
  const V = model.config.vocabSize;
  const flat = await readF32(logits!);
  let ll = 0;
  for (let j = tokens.length - k; j < tokens.length; j++) {
    const row = Array.from(flat.subarray((j - 1) * V, j * V));
    const max = Math.max(...row);
    ll += row[tokens[j]!]! - (max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0)));
  }
  return ll;
}

test("wikitext: lm-eval's disjoint rolling windows (every token scored once); wikitext-strided keeps the stride", async () => {
  const model = tinyModel(4, 64);
  const page = words(70, 3);
  const text = wikitextDetokenize(page);
  const ids = model.tokenizer.encode(text, { addSpecialTokens: false }).ids;
  assert.equal(ids.length, 70);
  const maxLength = 32;
  const rolling = wikitextTask([page], { maxLength });
  assert.equal(rolling.name, "wikitext");
  const inst = rolling.instances()[0]!;
  assert.deepEqual(inst.requests, [{ type: "perplexity", text, prefix: true, rolling: true, maxLength }]);
  const { responses } = await executeRequests(model, inst.requests, { namespace: "rolling", batchSize: 2 });
  const r = responses[0] as PerplexityResponse;
  // Total scored tokens = tokens in the document: no token scored twice, none skipped.
  assert.equal(r.nTokens, ids.length);
  // Independently, get_rolling_token_windows + make_disjoint_window with max_seq_len 32, context_len 1:
  // [BOS, t0..t30] predicts t0..t31; [t31, t32..t62] predicts t32..t63; the last, partial window keeps
  // the context that fills it to 32 inputs: [t37..t63, t64..t68] predicts t64..t69.
  const bos = model.tokenizer.bosId!;
  const expected = (await hostLL(model, [bos, ...ids.slice(0, 32)])) + (await hostLL(model, ids.slice(31, 64))) + (await hostLL(model, ids.slice(37, 70), 6));
  assert.ok(Math.abs(r.ll - expected) < 1e-3, `${r.ll} vs ${expected}`);
  const [viaRolling] = await loglikelihoodRolling(model, [text], { maxLength });
  assert.ok(Math.abs(r.ll - viaRolling!.sum) < 1e-3);
  const s = inst.score(responses);
  assert.deepEqual(s.word_perplexity, [r.ll, countWords(page)]);
  assert.deepEqual(s.bits_per_byte, [r.ll, countBytes(page)]);

  const strided = wikitextTask([page], { maxLength, stride: 8, windows: "strided" });
  assert.equal(strided.name, "wikitext-strided");
  const sreq = strided.instances()[0]!.requests[0] as PerplexityRequest;
  assert.deepEqual(sreq, { type: "perplexity", text, prefix: true, maxLength, stride: 8 });
  const sr = (await executeRequests(model, [sreq], { namespace: "strided", batchSize: 2 })).responses[0] as PerplexityResponse;
  const guide = await perplexity(model, text, { prefix: true, maxLength, stride: 8 });
  assert.equal(sr.nTokens, 70);
  assert.ok(Math.abs(sr.ll - guide.loglikelihood) < 1e-3, `${sr.ll} vs ${guide.loglikelihood}`);
  assert.ok(Math.abs(sr.ll - r.ll) > 1e-3, "overlapping windows give more context than the disjoint ones");
  assert.match(strided.promptFormat, /stride 8/);
  assert.match(rolling.metrics.word_perplexity!.definition, /disjoint rolling windows/);
});

test("WikiText pages split as EleutherAI/wikitext_document_level's script: blank lines kept, top-level headings only", () => {
  const raw = " \n = Alpha = \n \n Alpha text . \n \n = = Sec = = \n \n = = = Sub = = = \n More . \n \n = Beta = \n \n Beta text . \n";
  // Written out from the script's _generate_examples run on this string (Python).
  const pages = [" = Alpha = \n \n Alpha text . \n \n = = Sec = = \n \n = = = Sub = = = \n More . \n ", " = Beta = \n \n Beta text . \n"];
  assert.deepEqual(splitWikitextArticles(raw), pages);
  assert.deepEqual(splitWikitextArticles(raw.replace(/\n/g, "\r\n")), pages);
  // Text before the first heading is a page only when it is not blank; the last page is always kept.
  assert.deepEqual(splitWikitextArticles(" intro \n = T = \n x "), [" intro ", " = T = \n x "]);
});

const DATA = defaultDataDir();
const haveData = existsSync(path.join(DATA, "gsm8k/train.jsonl")) && existsSync(path.join(DATA, "wikitext-2/raw/wiki.test.raw"));

test("built-in names: lm-eval's gsm8k / gsm8k-cot / wikitext and the renamed variants", { skip: haveData ? false : `no benchmark data at ${DATA} (../shared/data)` }, () => {
  const tasks = loadTasks(["gsm8k", "gsm8k-cot", "gsm8k-0shot", "gsm8k-8shot-train", "wikitext", "wikitext-strided"], { factworldDataDir: "", maxLength: 128, stride: 64 });
  assert.deepEqual(tasks.map((t) => [t.name, t.fewshot.n]), [["gsm8k", 5], ["gsm8k-cot", 8], ["gsm8k-0shot", 0], ["gsm8k-8shot-train", 8], ["wikitext", 0], ["wikitext-strided", 0]]);
  assert.equal(tasks[0]!.size, 1319);
  const [wt, wts] = tasks.slice(4);
  // lm-eval's wikitext-2-raw-v1 test split has 62 pages; counts computed with the script + process_results in Python.
  assert.equal(wt!.size, 62);
  const insts = wt!.instances();
  assert.match(insts[0]!.target, /^ = Robert Boulter = \n/);
  let words = 0;
  let bytes = 0;
  for (const i of insts) {
    const s = i.score([{ type: "perplexity", ll: -1, nTokens: 1 }]);
    words += (s.word_perplexity as [number, number])[1];
    bytes += (s.bits_per_byte as [number, number])[1];
  }
  assert.deepEqual([words, bytes], [241335, 1287595]);
  assert.equal((insts[0]!.requests[0] as PerplexityRequest).rolling, true);
  assert.equal((wts!.instances(1)[0]!.requests[0] as PerplexityRequest).stride, 64);
});
