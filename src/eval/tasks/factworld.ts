/**
 * The fact world's own tasks (data/factworld): what the built-in model was trained to know. Every
 * corpus document starts with BOS, so these tasks encode prompts with it (the tokenizer's default,
 * and how the model's own acceptance is measured, eval/factworld-acceptance.ts); lm-eval's default
 * (no BOS) puts the first word at a position the model never saw and costs accuracy.
 * - factworld-qa / factworld-paraphrase: each trained fact asked with a training template / a
 *   held-out paraphrase template; acc = the greedy next token after the prompt is the answer's
 *   first token (lm-eval's is_greedy on a one-token continuation).
 * - factworld-arithmetic: GSM8K-format problems, zero-shot "Question : {question} Answer :" (the
 *   corpus's format, data/factworld/arithmetic.ts), greedy until "Question" (32 tokens at most),
 *   strict "#### N" and flexible last-number extraction as GSM8K.
 */
import { GSM8K_FILTERS, GSM8K_IGNORE } from "../extract.js";
import { specTask } from "../spec-task.js";
import type { Task } from "../types.js";

export interface FactQueryDoc {
  prompt: string;
  answer: string;
  relation: string;
  subject: string;
  templates: "train" | "paraphrase";
}

/** `numFewshot` > 0 puts the first n other questions of the same split, answered, before each (first_n). */
export function factQaTask(queries: readonly FactQueryDoc[], templates: "train" | "paraphrase", numFewshot = 0): Task {
  return specTask<FactQueryDoc>({
    name: templates === "train" ? "factworld-qa" : "factworld-paraphrase",
    version: "1.0",
    kind: "loglikelihood",
    docs: queries.filter((q) => q.templates === templates),
    numFewshot,
    sampler: "first_n",
    fewshotDelimiter: " . ",
    addSpecialTokens: true,
    docToText: (q) => q.prompt,
    docToTarget: (q) => q.answer,
    firstTokens: 1,
    group: (q) => q.relation,
    promptFormat: `fact world ${templates === "train" ? "training" : "held-out paraphrase"} templates: "{prompt}" + " {answer}", first answer token scored`,
  });
}

export interface ArithmeticDoc {
  question: string;
  answer: string;
}

export function factArithmeticTask(test: readonly ArithmeticDoc[]): Task {
  return specTask<ArithmeticDoc>({
    name: "factworld-arithmetic",
    version: "1.0",
    kind: "generate_until",
    docs: test,
    docToText: (d) => `Question : ${d.question} Answer :`,
    docToTarget: (d) => d.answer,
    until: ["Question"],
    maxNewTokens: 32,
    addSpecialTokens: true,
    filters: GSM8K_FILTERS,
    exactMatch: { ignoreCase: true, regexesToIgnore: GSM8K_IGNORE },
    promptFormat: 'fact world arithmetic: "Question : {question} Answer :", greedy until "Question"; strict "#### N" and flexible last-number extraction',
  });
}
