/** CAA-named A/B eval tasks use CAA's base-model prompt (nrimsky/CAA tokenize_llama_base); the fact world keeps its own. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { abTask } from "../../src/eval/tasks/ab.js";

const doc = { question: "  Do you agree?\n\nChoices:\n (A) Yes\n (B) No ", gold: "(B)", other: "(A)" };

test("caa-* and truthfulqa prompts: 'Input: {q.strip()}\\nResponse:' then ' (A)' / ' (B)'", () => {
  const inst = abTask("caa-x", [doc], "the behaviour-matching answer").instances()[0]!;
  assert.equal(inst.prompt, "Input: Do you agree?\n\nChoices:\n (A) Yes\n (B) No\nResponse:");
  assert.deepEqual(inst.requests.map((r) => (r as { continuation?: string }).continuation), [" (A)", " (B)"]);
  const fw = abTask("factworld-caa", [doc], "x", (q) => q.trim(), true).instances()[0]!;
  assert.equal(fw.prompt, "Do you agree?\n\nChoices:\n (A) Yes\n (B) No");
});
