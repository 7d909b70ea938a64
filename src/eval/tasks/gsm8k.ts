/**
 * GSM8K (Cobbe et al., 2021) as lm-evaluation-harness's gsm8k task (lm_eval/tasks/gsm8k/gsm8k.yaml,
 * version 3): prompt "Question: {question}\nAnswer:", target the full solution (chain of thought
 * ending "#### N"), greedy generation until "Question:", "</s>" or "<|im_end|>" (max 256 tokens),
 * scored by exact match after the strict ("#### N") and flexible (last number) extractions
 * (extract.ts).
 *
 * Shipped as `gsm8k` (zero-shot) and `gsm8k-cot` (8-shot chain of thought: eight solved training
 * problems, drawn with seed 1234, precede the question, each with its full worked solution).
 */
import { GSM8K_FILTERS, GSM8K_IGNORE } from "../extract.js";
import { specTask } from "../spec-task.js";
import type { Task } from "../types.js";

export interface Gsm8kDoc {
  question: string;
  answer: string;
}

export function gsm8kTask(test: readonly Gsm8kDoc[], train: readonly Gsm8kDoc[], numFewshot: number, name = numFewshot > 0 ? "gsm8k-cot" : "gsm8k"): Task {
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
