/**
 * GSM8K (Cobbe et al., 2021) as lm-evaluation-harness computes it (lm-eval commit 4e7e0d47):
 *
 * - `gsm8k` = lm_eval/tasks/gsm8k/gsm8k.yaml (version 3.0): 5-shot from the train split (sampler
 *   "default" = random, seed 1234; drawn per document by fewshot.ts, see its note), examples
 *   "Question: {question}\nAnswer: {answer}" (the full solution ending "#### N") joined by
 *   target_delimiter " " and fewshot_delimiter "\n\n" (lm_eval/config/task.py defaults;
 *   lm_eval/api/task.py fewshot_context / build_qa_turn), then "Question: {question}\nAnswer:";
 *   greedy until "Question:", "</s>", "<|im_end|>" (max 256 new tokens, HFLM's default);
 *   exact_match (ignore_case, regexes_to_ignore [",", "\$", "(?s).*#### ", "\.$"]) after the
 *   strict "#### (\-?[0-9\.\,]+)" and flexible "(-?[$0-9.,]{2,})|(-?[0-9]+)" (last match)
 *   extractions (extract.ts); the reference is the full answer, reduced to N by "(?s).*#### ".
 * - `gsm8k-cot` = lm_eval/tasks/gsm8k/gsm8k-cot.yaml (lm-eval's task name `gsm8k_cot`, version
 *   3.0): the 8 fixed Wei et al. (2022) exemplars of its fewshot_config.samples (sampler first_n),
 *   "Q: {question}\nA: {target}" where target ends "The answer is N.", then "Q: {question}\nA:";
 *   doc_to_target = answer.split('####')[-1].strip(); greedy until "Q:", "</s>", "<|im_end|>";
 *   strict "The answer is (\-?[0-9\.\,]+)." and the same flexible extraction and exact_match.
 *
 * Earlier variants, kept under other names: `gsm8k-0shot` (zero-shot) and `gsm8k-8shot-train`
 * (8 train solutions drawn with seed 1234, gsm8k.yaml's format).
 */
import { GSM8K_FILTERS, GSM8K_IGNORE, type RegexFilter } from "../extract.js";
import { specTask } from "../spec-task.js";
import type { Task } from "../types.js";

export interface Gsm8kDoc {
  question: string;
  answer: string;
}

/** Name of gsm8k.yaml's format with n train examples: 5 is lm-eval's `gsm8k`. */
export function gsm8kName(numFewshot: number): string {
  return numFewshot === 5 ? "gsm8k" : numFewshot === 0 ? "gsm8k-0shot" : `gsm8k-${numFewshot}shot-train`;
}

/** gsm8k.yaml's task with `numFewshot` random train examples (5: lm-eval's `gsm8k`). */
export function gsm8kTask(test: readonly Gsm8kDoc[], train: readonly Gsm8kDoc[], numFewshot: number, name = gsm8kName(numFewshot)): Task {
  return specTask<Gsm8kDoc>({
    name,
    version: "3.0",
    kind: "generate_until",
    docs: test,
    fewshotDocs: train,
    fewshotSplit: "train",
    numFewshot,
    sampler: "random",
    seed: 1234,
    docToText: (d) => `Question: ${d.question}\nAnswer:`,
    docToTarget: (d) => d.answer,
    until: ["Question:", "</s>", "<|im_end|>"],
    maxNewTokens: 256,
    filters: GSM8K_FILTERS,
    exactMatch: { ignoreCase: true, regexesToIgnore: GSM8K_IGNORE },
    promptFormat: `lm-eval gsm8k: ${numFewshot} train example(s) "Question: {question}\\nAnswer: {solution … #### N}\\n\\n" + "Question: {question}\\nAnswer:"; greedy until "Question:"; strict "#### N" and flexible last-number extraction`,
  });
}

/** gsm8k-cot.yaml's fewshot_config.samples, verbatim (YAML folded lines joined by single spaces). */
export const GSM8K_COT_EXEMPLARS: readonly { question: string; target: string }[] = [
  {
    question: "There are 15 trees in the grove. Grove workers will plant trees in the grove today. After they are done, there will be 21 trees. How many trees did the grove workers plant today?",
    target: "There are 15 trees originally. Then there were 21 trees after some more were planted. So there must have been 21 - 15 = 6. The answer is 6.",
  },
  {
    question: "If there are 3 cars in the parking lot and 2 more cars arrive, how many cars are in the parking lot?",
    target: "There are originally 3 cars. 2 more cars arrive. 3 + 2 = 5. The answer is 5.",
  },
  {
    question: "Leah had 32 chocolates and her sister had 42. If they ate 35, how many pieces do they have left in total?",
    target: "Originally, Leah had 32 chocolates. Her sister had 42. So in total they had 32 + 42 = 74. After eating 35, they had 74 - 35 = 39. The answer is 39.",
  },
  {
    question: "Jason had 20 lollipops. He gave Denny some lollipops. Now Jason has 12 lollipops. How many lollipops did Jason give to Denny?",
    target: "Jason started with 20 lollipops. Then he had 12 after giving some to Denny. So he gave Denny 20 - 12 = 8. The answer is 8.",
  },
  {
    question: "Shawn has five toys. For Christmas, he got two toys each from his mom and dad. How many toys does he have now?",
    target: "Shawn started with 5 toys. If he got 2 toys each from his mom and dad, then that is 4 more toys. 5 + 4 = 9. The answer is 9.",
  },
  {
    question: "There were nine computers in the server room. Five more computers were installed each day, from monday to thursday. How many computers are now in the server room?",
    target: "There were originally 9 computers. For each of 4 days, 5 more computers were added. So 5 * 4 = 20 computers were added. 9 + 20 is 29. The answer is 29.",
  },
  {
    question: "Michael had 58 golf balls. On tuesday, he lost 23 golf balls. On wednesday, he lost 2 more. How many golf balls did he have at the end of wednesday?",
    target: "Michael started with 58 golf balls. After losing 23 on tuesday, he had 58 - 23 = 35. After losing 2 more, he had 35 - 2 = 33 golf balls. The answer is 33.",
  },
  {
    question: "Olivia has $23. She bought five bagels for $3 each. How much money does she have left?",
    target: "Olivia had 23 dollars. 5 bagels for 3 dollars each will be 5 x 3 = 15 dollars. So she has 23 - 15 dollars left. 23 - 15 is 8. The answer is 8.",
  },
];

/** gsm8k-cot.yaml's filters: strict "The answer is N." and the flexible last number. */
export const GSM8K_COT_FILTERS: RegexFilter[] = [
  { name: "strict-match", pattern: "The answer is (\\-?[0-9\\.\\,]+)." },
  { name: "flexible-extract", pattern: "(-?[$0-9.,]{2,})|(-?[0-9]+)", groupSelect: -1 },
];

type CotDoc = { question: string; answer?: string; target?: string };

/** lm-eval's gsm8k_cot (gsm8k-cot.yaml), shipped as `gsm8k-cot`: 8 fixed exemplars, "Q: …\nA:". */
export function gsm8kCotTask(test: readonly Gsm8kDoc[], name = "gsm8k-cot"): Task {
  return specTask<CotDoc>({
    name,
    version: "3.0",
    kind: "generate_until",
    docs: test,
    fewshotDocs: GSM8K_COT_EXEMPLARS,
    fewshotSplit: "fixed (gsm8k-cot.yaml fewshot_config.samples, Wei et al. 2022)",
    numFewshot: 8,
    sampler: "first_n",
    docToText: (d) => `Q: ${d.question}\nA:`,
    // {{answer.split('####')[-1].strip() if answer is defined else target}}
    docToTarget: (d) => (d.answer !== undefined ? d.answer.split("####").at(-1)!.trim() : d.target!),
    until: ["Q:", "</s>", "<|im_end|>"],
    maxNewTokens: 256,
    filters: GSM8K_COT_FILTERS,
    exactMatch: { ignoreCase: true, regexesToIgnore: GSM8K_IGNORE },
    promptFormat: `lm-eval gsm8k_cot: the 8 fixed exemplars "Q: {question}\\nA: {… The answer is N.}\\n\\n" + "Q: {question}\\nA:"; greedy until "Q:"; strict "The answer is N." and flexible last-number extraction`,
  });
}
