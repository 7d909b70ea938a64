/**
 * examples/: every config there validates (`scalpel check` exits 0), and a misspelled key in
 * each is refused before any compute — fast, with the closest valid key suggested.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runScalpel } from "../cli/run-cli.js";

const EXAMPLES = join(import.meta.dirname, "../../examples");
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml")).sort();
let dir = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "scalpel-examples-"));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("examples/ holds one config per research pipeline", () => {
  for (const name of ["branin-tpe.yaml", "edit-counterfact.yaml", "eval-before-after.yaml", "monotone-robustness.yaml", "monotone-robustness-slurm.yaml", "sequential-zsre.yaml", "steer-gsm8k.yaml", "lifelong-act-ratio.yaml", "lifelong-reasoning.yaml", "lifelong-similarity.yaml", "lifelong-baselines.yaml", "delta-transcoder.yaml", "editing-pitfalls.yaml"]) {
    assert.ok(files.includes(name), `examples/${name} exists`);
  }
});

for (const file of files) {
  test(`scalpel check examples/${file} exits 0`, async () => {
    const r = await runScalpel(["check", join(EXAMPLES, file)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /: ok — kind /);
  });

  // Not timed: speed belongs to benchmarks, and a timed assertion fails on a loaded machine (it did, under a training run).
  test(`a misspelled key in examples/${file} is refused by check with a suggestion`, async () => {
    // Misspell the first key under config: by swapping its last two letters.
    const text = readFileSync(join(EXAMPLES, file), "utf8");
    const m = /^config:\n {2}([a-z_0-9]+):/m.exec(text);
    assert.ok(m, "the example has a config: block");
    const key = m[1]!;
    const typo = key.slice(0, -2) + key.at(-1) + key.at(-2);
    const bad = join(dir, file);
    await writeFile(bad, text.replace(/^config:\n {2}[a-z_0-9]+:/m, `config:\n  ${typo}:`));
    const r = await runScalpel(["check", bad]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`unknown key '${typo}'.*did you mean '${key}'`, "i"));
  });
}
