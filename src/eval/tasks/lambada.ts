/**
 * LAMBADA, OpenAI's preprocessing (lm-eval lambada_openai, lm_eval/tasks/lambada/lambada_openai.yaml):
 * context = the passage without its last word (split on " "), target = " " + the last word,
 * loglikelihood request; acc = is_greedy (every token of the final word is the argmax), perplexity =
 * exp(−mean log p(final word | passage)). Zero-shot.
 */
import { specTask } from "../spec-task.js";
import type { Task } from "../types.js";

export function lambadaTask(texts: readonly string[]): Task {
  return specTask<string>({
    name: "lambada",
    version: "1.0",
    kind: "loglikelihood",
    docs: texts,
    docToText: (t) => t.split(" ").slice(0, -1).join(" "),
    docToTarget: (t) => t.split(" ").at(-1)!,
    targetDelimiter: " ",
    promptFormat: 'lm-eval lambada_openai: context = text without its last word, continuation = " " + last word',
  });
}
