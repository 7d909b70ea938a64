/**
 * MMLU (Hendrycks et al., 2021), 57 subjects, as lm-evaluation-harness's default MMLU
 * (lm_eval/tasks/mmlu/default/_default_template_yaml, _mmlu.yaml):
 *   description  "The following are multiple choice questions (with answers) about {subject}.\n\n"
 *                (subject with "_" → " ")
 *   text         "{question.strip()}\nA. {A}\nB. {B}\nC. {C}\nD. {D}\nAnswer:"
 *   choices      ["A", "B", "C", "D"], target delimiter " ", few-shot delimiter "\n\n"
 *   few-shot     5 examples, the first 5 of the subject's dev split (sampler first_n)
 *   metric       acc (and acc_norm); the overall number weighs subjects by size (weight_by_size,
 *                lm-eval's group aggregation); the subject average is reported next to it.
 */
import { specTask } from "../spec-task.js";
import type { Task } from "../types.js";

export interface MmluDoc {
  subject: string;
  question: string;
  choices: [string, string, string, string];
  /** 0–3. */
  answer: number;
}

export function mmluTask(test: readonly MmluDoc[], dev: readonly MmluDoc[], numFewshot = 5): Task {
  const devBySubject = new Map<string, MmluDoc[]>();
  for (const d of dev) {
    if (!devBySubject.has(d.subject)) devBySubject.set(d.subject, []);
    devBySubject.get(d.subject)!.push(d);
  }
  return specTask<MmluDoc>({
    name: "mmlu",
    version: "1.0",
    kind: "multiple_choice",
    docs: test,
    fewshotDocsFor: (doc) => devBySubject.get(doc.subject) ?? [],
    fewshotSplit: "dev (same subject)",
    numFewshot,
    sampler: "first_n",
    description: (doc) => `The following are multiple choice questions (with answers) about ${doc.subject.replace(/_/g, " ")}.\n\n`,
    docToText: (doc) => `${doc.question.trim()}\nA. ${doc.choices[0]}\nB. ${doc.choices[1]}\nC. ${doc.choices[2]}\nD. ${doc.choices[3]}\nAnswer:`,
    docToChoice: () => ["A", "B", "C", "D"],
    docToTarget: (doc) => doc.answer,
    group: (doc) => doc.subject,
    limitPerGroup: true,
    id: (doc, i) => `${doc.subject}/${i}`,
    promptFormat:
      'lm-eval mmlu default: "The following are multiple choice questions (with answers) about {subject}.\\n\\n" + ' +
      `${numFewshot} dev examples of the subject ("{question}\\nA. …\\nB. …\\nC. …\\nD. …\\nAnswer: {letter}\\n\\n") + the question; choices " A".." D"`,
  });
}
