/**
 * GSM8K answer extraction and exact match on tricky answers, against what lm-evaluation-harness's
 * regex filters and exact_match (regexes_to_ignore [",", "\$", "(?s).*#### ", "\.$"], ignore_case)
 * give — worked out by applying Python's re.findall / re.sub rules by hand.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { applyRegexFilter, exactMatch, GSM8K_FILTERS, GSM8K_IGNORE, INVALID } from "../../src/eval/extract.js";
import { specTask } from "../../src/eval/spec-task.js";

const [STRICT, FLEX] = GSM8K_FILTERS as [(typeof GSM8K_FILTERS)[0], (typeof GSM8K_FILTERS)[0]];
const em = (pred: string, ref: string) => exactMatch(pred, ref, { ignoreCase: true, regexesToIgnore: GSM8K_IGNORE });
const REF = (n: string) => `Some reasoning 2 + 2 = 4.\n#### ${n}`;

test("strict-match takes the number after ####; flexible-extract the last number", () => {
  const cases: [string, string, string][] = [
    // text, strict, flexible
    ["She has 3 + 4 = 7 apples.\n#### 7", "7", "7"],
    ["Total: 1,234 dollars #### 1,234", "1,234", "1,234"],
    ["It dropped to #### -5", "-5", "-5"],
    ["#### 18.", "18.", "18."],
    ["She earns $18 a day.", INVALID, "$18"],
    ["The answer is 5.", INVALID, "5."],
    ["3 + 4 = 7 so 7 * 2 = 14", INVALID, "14"],
    ["I do not know", INVALID, INVALID],
    ["", INVALID, INVALID],
    ["#### 42 and later 17", "42", "17"],
    ["Only 5", INVALID, "5"],
  ];
  for (const [text, strict, flex] of cases) {
    assert.equal(applyRegexFilter(text, STRICT), strict, `strict on ${JSON.stringify(text)}`);
    assert.equal(applyRegexFilter(text, FLEX), flex, `flexible on ${JSON.stringify(text)}`);
  }
});

test("exact match ignores commas, $, a trailing period and everything up to '#### '", () => {
  assert.equal(em("1,234", REF("1234")), 1);
  assert.equal(em("1,234", REF("1,234")), 1);
  assert.equal(em("-5", REF("-5")), 1);
  assert.equal(em("5", REF("-5")), 0, "a lost minus sign is wrong");
  assert.equal(em("$18", REF("18")), 1);
  assert.equal(em("18.", REF("18")), 1);
  assert.equal(em("5.", REF("5")), 1);
  assert.equal(em(INVALID, REF("5")), 0, "no answer scores 0");
  assert.equal(em("2.50", REF("2.5")), 0, "lm-eval compares strings: 2.50 is not 2.5");
  assert.equal(em("1,000,000", REF("1000000")), 1);
});

test("a generation task scores strict and flexible exact match side by side", () => {
  const task = specTask({
    name: "g",
    version: "1",
    kind: "generate_until",
    docs: [{ q: "q", a: REF("1,000") }],
    docToText: (d) => `Question: ${d.q}\nAnswer:`,
    docToTarget: (d) => d.a,
    until: ["Question:"],
    filters: GSM8K_FILTERS,
    exactMatch: { ignoreCase: true, regexesToIgnore: GSM8K_IGNORE },
  });
  const inst = task.instances()[0]!;
  assert.deepEqual(inst.requests, [{ type: "generate_until", context: "Question: q\nAnswer:", until: ["Question:"], maxNewTokens: 256 }]);
  const gen = (text: string) => inst.score([{ type: "generate_until", text }]);
  assert.deepEqual(gen(" 500 + 500 = 1000. #### 1000"), { "exact_match,strict-match": 1, "exact_match,flexible-extract": 1 });
  assert.deepEqual(gen(" So the total is $1,000."), { "exact_match,strict-match": 0, "exact_match,flexible-extract": 1 });
  assert.deepEqual(gen(" #### 1000 then 7"), { "exact_match,strict-match": 1, "exact_match,flexible-extract": 0 });
  assert.ok(task.metrics["exact_match,strict-match"] && task.metrics["exact_match,flexible-extract"]);
});
