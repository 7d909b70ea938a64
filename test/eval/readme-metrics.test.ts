/**
 * src/eval/README.md lists every editing metric (with its source and known difference) and every
 * built-in task: a metric or task added without a line there fails here.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { METRICS } from "../../src/eval/editing/metrics.js";
import { builtinTaskNames } from "../../src/eval/registry-node.js";

const readme = readFileSync(new URL("../../src/eval/README.md", import.meta.url), "utf8");

test("the eval README names every editing metric and every built-in task", () => {
  for (const m of Object.keys(METRICS)) assert.ok(readme.includes(`\`${m}\``), `README lists ${m}`);
  for (const { name } of builtinTaskNames()) {
    const listed = readme.includes(`\`${name}\``) || (name.startsWith("caa-") && readme.includes("`caa-<behaviour>`"));
    assert.ok(listed, `README lists task ${name}`);
  }
});
