/** End-to-end through `node bin/scalpel.mjs`: check, run, study, runs, resume, report. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const BIN = path.resolve(import.meta.dirname, "../../bin/scalpel.mjs");
const dir = mkdtempSync(path.join(os.tmpdir(), "scalpel-cli-"));
const store = path.join(dir, "store");
const cli = (...args: string[]) => {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
};
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

test("scalpel check: a config with typos fails fast with 'did you mean' for each, naming the file", () => {
  const file = write("typo.yaml", ["kind: optimize-function", "config:", "  function: Branin", "  learnig_rate: 0.1", "study:", "  sampler: tpee", "  space: {}"].join("\n"));
  const r = cli("check", file);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^scalpel check: 3 problems in .*typo\.yaml:/);
  assert.match(r.stderr, /unknown key 'learnig_rate' at config\.learnig_rate — did you mean 'learning_rate'\?/);
  assert.match(r.stderr, /config\.function: 'Branin' is not one of quadratic, rosenbrock, branin — did you mean 'branin'\?/);
  assert.match(r.stderr, /study\.sampler\.type: 'tpee' is not one of tpe, random, grid — did you mean 'tpe'\?/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, "no stack trace for a user mistake");
  // Speed is a benchmark's business, not a test's: logged only.
  console.log(`# scalpel check on a typo config: ${r.ms.toFixed(0)} ms wall (process start included)`);
});

test("scalpel check --json reports validity for scripts", () => {
  const bad = JSON.parse(cli("check", write("bad.json", '{"kind": "optimize-function", "config": {"stepz": 1}}'), "--json").stdout);
  assert.equal(bad.ok, false);
  assert.equal(bad.field, "config.stepz");
  assert.equal(bad.code, "CONFIG_INVALID");
  const good = JSON.parse(cli("check", write("good.json", '{"kind": "optimize-function", "config": {"steps": 1}}'), "--json").stdout);
  assert.equal(good.ok, true);
  assert.equal(good.config.procedure, "converge");
});

test("scalpel run twice: the second run reuses every stage", () => {
  const file = write("point.yaml", "kind: optimize-function\nname: point\nconfig: {function: quadratic, x0: 3, x1: 1, steps: 3}\n");
  const first = JSON.parse(cli("run", file, "--store", store, "--json").stdout);
  assert.equal(first.ok, true);
  assert.equal(first.metrics.value, (3 - 1) ** 2 + 2 * (1 - 2) ** 2);
  const second = cli("run", file, "--store", store);
  assert.equal(second.code, 0);
  assert.match(second.stdout, /done \(3\/3 stages reused\)/);
});

test("scalpel study, runs, resume and report work end to end, and the report's plots render", () => {
  const file = write(
    "study.yaml",
    [
      "kind: optimize-function",
      "name: e2e",
      "seed: 2",
      "config: {function: branin, steps: 6}",
      "study:",
      "  n_trials: 10",
      "  sampler: {type: tpe, n_startup_trials: 4}",
      "  pruner: {type: median, n_startup_trials: 3}",
      "  space:",
      "    x0: {type: float, low: -5, high: 10}",
      "    x1: {type: float, low: 0, high: 15}",
    ].join("\n"),
  );
  const study = JSON.parse(cli("study", file, "--store", store, "--json").stdout);
  assert.equal(study.counts.complete + study.counts.pruned, 10);
  const listed = JSON.parse(cli("runs", "--store", store, "--json").stdout);
  assert.deepEqual(listed.studies.map((s: { name: string; finished: number }) => [s.name, s.finished]), [["e2e", 10]]);
  assert.equal(listed.runs.length, 2, "the two point runs; trial runs are listed under their study");
  const detail = JSON.parse(cli("runs", "e2e", "--store", store, "--json").stdout);
  assert.equal(detail.trials.length, 10);
  assert.ok(detail.manifest.git && detail.manifest.versions.node);
  // Resuming a finished study does nothing and changes nothing.
  const again = JSON.parse(cli("resume", "e2e", "--store", store, "--json").stdout);
  assert.deepEqual(again.counts, study.counts);
  assert.deepEqual(again.best, study.best);

  const out = path.join(dir, "report");
  const rep = cli("report", "e2e", "--store", store, "--out", out);
  assert.equal(rep.code, 0, rep.stderr);
  const html = readFileSync(path.join(out, "report.html"), "utf8");
  const md = readFileSync(path.join(out, "report.md"), "utf8");
  const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
  assert.ok(svgs.length >= 3, `expected several plots, got ${svgs.length}`);
  for (const svg of svgs) assert.match(svg, /class="mark-(symbol|line|rect)[^"]*"[\s\S]*?<path/, "each plot draws data marks");
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, "self-contained: no scripts, no external resources");
  assert.match(md, /# Study e2e/);
  assert.match(md, new RegExp(`\\| ${study.best.number} \\| complete \\|`));
});

test("unknown commands and flags get a suggestion; unknown run ids too", () => {
  const flag = cli("study", "x.yaml", "--stroe", "s");
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /unknown flag --stroe\. Did you mean '--store'\?/);
  const missing = cli("resume", "e3e", "--store", store);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no run or study named 'e3e'.*did you mean 'e2e'\?/);
});
