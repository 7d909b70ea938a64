/** `scalpel attack`: a thin flag parser over attack/ — HotFlip and UAT on the built-in model, bad flags refused. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runScalpel } from "../cli/run-cli.js";

test("scalpel attack hotflip raises the target's perplexity and reports the flip", { timeout: 120_000 }, async () => {
  const r = await runScalpel(["attack", "hotflip", "--prompt", "The capital of Rouxveixia is", "--target", "Fumkrouth", "--budget", "1", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.flips.length, 1);
  assert.ok(out.pplAfter > out.pplBefore, `${out.pplBefore} → ${out.pplAfter}`);
  assert.notEqual(out.text, "The capital of Rouxveixia is");
});

test("scalpel attack uat searches a trigger over several examples; bad input is a usage error", { timeout: 120_000 }, async () => {
  const r = await runScalpel(["attack", "uat", "--prompt", "The capital of Rouxveixia is", "--target", "Fumkrouth", "--prompt", "In short , the profession of Brinvas Remzei is", "--target", "poet", "--length", "2", "--iterations", "1", "--candidates", "3", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.triggerIds.length, 2);
  assert.equal(out.records.length, 2);
  assert.ok(out.history.at(-1).loss >= out.history[0].loss);
  const bad = await runScalpel(["attack", "hotflip", "--prompt", "x"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /one --target per --prompt/);
  const typo = await runScalpel(["attack", "hotflip", "--budgt", "2"]);
  assert.match(typo.stderr, /did you mean '--budget'/i);
});
