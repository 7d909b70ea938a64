/** Tasks defined in YAML/JSON files: prompts, targets, few-shot, and errors that name the field. */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { loadTaskFile, loadTasks } from "../../src/eval/registry-node.js";
import { ConfigError, UsageError } from "../../src/errors.js";
import { render } from "../../src/eval/template.js";

const dir = mkdtempSync(path.join(tmpdir(), "scalpel-taskfile-"));
const data = path.join(dir, "data.jsonl");
writeFileSync(data, [
  { question: " Is the sky blue? ", options: ["yes", "no"], label: "yes" },
  { question: "Is grass red?", options: ["yes", "no"], label: 1 },
  { question: "Two plus two?", options: ["3", "4"], label: "4" },
].map((x) => JSON.stringify(x)).join("\n"));

function taskFile(name: string, body: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, body);
  return f;
}

test("a YAML multiple-choice task: templates, filters, targets as text or index, few-shot", () => {
  const f = taskFile("mc.yaml", [
    "name: yn", "kind: multiple_choice", "dataset: data.jsonl", "num_fewshot: 1", "fewshot_sampler: first_n",
    'description: "Answer the questions.\\n\\n"', 'doc_to_text: "Q: {{question|trim}}\\nA:"', 'doc_to_choice: "{{options}}"', 'doc_to_target: "{{label}}"',
  ].join("\n"));
  const task = loadTaskFile(f);
  assert.equal(task.name, "yn");
  assert.equal(task.size, 3);
  const inst = task.instances();
  assert.equal(inst[0]!.prompt, "Answer the questions.\n\nQ: Is grass red?\nA: no\n\nQ: Is the sky blue?\nA:");
  assert.equal(inst[1]!.prompt, "Answer the questions.\n\nQ: Is the sky blue?\nA: yes\n\nQ: Is grass red?\nA:");
  assert.deepEqual(inst[2]!.requests.map((r) => r.type === "loglikelihood" && r.continuation), [" 3", " 4"]);
  assert.equal(inst[2]!.target, "4");
  assert.equal(inst[1]!.target, "no", "a numeric label is an index");
  assert.deepEqual(task.fewshot, { n: 1, split: "test (excluding the document)", sampler: "first_n", seed: 1234 });
});

test("a JSON generation task with a custom extraction", () => {
  const f = taskFile("gen.json", JSON.stringify({
    name: "arith", kind: "generate_until", dataset: "data.jsonl", doc_to_text: "{{question}}", doc_to_target: "{{label}}",
    until: ["\n"], max_new_tokens: 8, filters: [{ name: "num", regex: "(\\d+)", group_select: -1 }], exact_match: { ignore_case: true },
  }));
  const task = loadTaskFile(f);
  const inst = task.instances()[2]!;
  assert.deepEqual(inst.requests[0], { type: "generate_until", context: "Two plus two?", until: ["\n"], maxNewTokens: 8 });
  assert.deepEqual(inst.score([{ type: "generate_until", text: " it is 2 and 4" }]), { "exact_match,num": 1 });
});

test("mistakes name the file and field", () => {
  const typo = taskFile("typo.yaml", "name: t\nkind: multiple_choice\ndataset: data.jsonl\ndoc_to_txt: x\n");
  assert.throws(() => loadTaskFile(typo), (e: unknown) => e instanceof ConfigError && e.field === "doc_to_txt" && /did you mean 'doc_to_text'/i.test(e.message));
  const kind = taskFile("kind.yaml", "name: t\nkind: mc\ndataset: data.jsonl\ndoc_to_text: x\ndoc_to_target: y\n");
  assert.throws(() => loadTaskFile(kind), (e: unknown) => e instanceof ConfigError && e.field === "kind");
  const field = taskFile("field.yaml", 'name: t\nkind: loglikelihood\ndataset: data.jsonl\ndoc_to_text: "{{questoin}}"\ndoc_to_target: x\n');
  assert.throws(() => loadTaskFile(field).instances(), (e: unknown) => e instanceof ConfigError && /no field 'questoin'/.test(e.message) && /question/.test(e.fix ?? ""));
  const missing = taskFile("missing.yaml", "name: t\nkind: loglikelihood\ndataset: nope.jsonl\ndoc_to_text: x\ndoc_to_target: y\n");
  assert.throws(() => loadTaskFile(missing), (e: unknown) => e instanceof UsageError && /nope\.jsonl/.test(e.message));
  assert.throws(() => loadTasks(["mmlo"], { factworldDataDir: dir }), (e: unknown) => e instanceof UsageError && /did you mean 'mmlu'/i.test(e.message));
});

test("template filters", () => {
  assert.equal(render("{{t|drop_last_word}} / {{t|last_word}} / {{xs|join(', ')}} / {{o.a[1]|upper}}", { t: "a b c", xs: [1, 2], o: { a: ["x", "y"] } }), "a b / c / 1, 2 / Y");
});

test("the shipped example task file builds the same prompts as the built-in truthfulqa task", () => {
  const file = path.resolve(import.meta.dirname, "../../tasks/truthfulqa-mc-example.yaml");
  const fromFile = loadTaskFile(file).instances(3);
  const builtin = loadTasks(["truthfulqa"], { factworldDataDir: dir })[0]!.instances(3);
  assert.deepEqual(fromFile.map((i) => [i.prompt, i.requests, i.target]), builtin.map((i) => [i.prompt, i.requests, i.target]));
});
