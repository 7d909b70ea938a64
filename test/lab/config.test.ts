import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConfigError } from "../../src/errors.js";
import { loadExperiment, parseExperiment } from "../../src/lab/config.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "scalpel-config-"));
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

test("a valid YAML config resolves with every default filled in", async () => {
  const exp = await loadExperiment(write("ok.yaml", "kind: optimize-function\nconfig:\n  function: rosenbrock\n  x0: 1.5\n"));
  assert.equal(exp.kind.name, "optimize-function");
  assert.equal(exp.name, "ok");
  assert.equal(exp.seed, 0);
  assert.equal(exp.mode, "run");
  assert.deepEqual(exp.config, {
    function: "rosenbrock", x0: 1.5, x1: 0, procedure: "converge", steps: 20, learning_rate: 0.001,
    gap: 10, noise: 0, fail_probability: 0, fail_on: null, step_delay_ms: 0,
  });
});

test("JSON configs are read too", async () => {
  const exp = await loadExperiment(write("ok.json", JSON.stringify({ kind: "optimize-function", seed: 4, config: { steps: 3 } })));
  assert.equal(exp.seed, 4);
  assert.equal(exp.config.steps, 3);
});

test("errors name the file, the field and the closest valid choice", async () => {
  const file = write("typo.yaml", "kind: optimize-function\nconfig:\n  function: Branin\n  stepz: 3\n");
  await assert.rejects(loadExperiment(file), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, new RegExp(`2 problems in ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    assert.match(e.message, /unknown key 'stepz' at config\.stepz — did you mean 'steps'\?/);
    assert.match(e.message, /config\.function: 'Branin' is not one of quadratic, rosenbrock, branin — did you mean 'branin'\?/);
    assert.equal(e.file, file);
    return true;
  });
});

test("an unknown kind suggests the registered one", () => {
  assert.throws(() => parseExperiment({ kind: "optimise-function" }, "x.yaml"), /did you mean 'optimize-function'/);
});

test("YAML syntax errors and duplicate keys are config errors, not crashes", async () => {
  await assert.rejects(loadExperiment(write("bad.yaml", "kind: optimize-function\nconfig: {steps: 3\n")), /invalid YAML/);
  await assert.rejects(loadExperiment(write("dup.yaml", "kind: optimize-function\nseed: 1\nseed: 2\n")), /invalid YAML/);
  await assert.rejects(loadExperiment(path.join(dir, "missing.yaml")), /cannot read config/);
});

test("study spaces must name real config fields with values those fields accept", () => {
  const base = { kind: "optimize-function", study: { space: {} as Record<string, unknown> } };
  base.study.space = { x9: { type: "float", low: 0, high: 1 } };
  assert.throws(() => parseExperiment(base, "s.yaml"), /unknown config field 'x9' at study\.space\.x9 .*did you mean 'x0'/);
  base.study.space = { steps: { type: "float", low: 0.5, high: 3 } };
  assert.throws(() => parseExperiment(base, "s.yaml"), /study\.space\.steps\.low: 0\.5 is not an integer/);
  base.study.space = { function: { type: "categorical", choices: ["branin", "rosenbrok"] } };
  assert.throws(() => parseExperiment(base, "s.yaml"), /'rosenbrok' is not one of .* did you mean 'rosenbrock'/);
});

test("a study block resolves to a spec with the kind's objective as default metric", () => {
  const exp = parseExperiment({
    kind: "optimize-function",
    name: "n",
    study: { n_trials: 7, sampler: "random", pruner: { type: "median", n_warmup_steps: 2 }, space: { x0: { type: "float", low: -1, high: 1, log: false } } },
  });
  assert.equal(exp.mode, "study");
  assert.deepEqual(exp.study, {
    name: "n", metric: "value", direction: "minimize", nTrials: 7, parallel: 1, executor: "auto", memoryPerWorkerMb: 512,
    sampler: { type: "random" }, pruner: { type: "median", n_startup_trials: 5, n_warmup_steps: 2, interval_steps: 1 },
    space: { x0: { kind: "float", low: -1, high: 1 } },
  });
});

test("a grid sweep becomes a grid study over categorical values with one trial per combination", () => {
  const exp = parseExperiment({ kind: "optimize-function", sweep: { type: "grid", values: { x0: [0, 1, 2], function: ["branin", "quadratic"] } } });
  assert.equal(exp.mode, "sweep");
  assert.equal(exp.study!.nTrials, 6);
  assert.equal(exp.study!.sampler.type, "grid");
  assert.deepEqual(exp.study!.space.function, { kind: "categorical", choices: ["branin", "quadratic"] });
  assert.throws(() => parseExperiment({ kind: "optimize-function", study: { space: {} }, sweep: { type: "grid", values: {} } }), /not both/);
});

test("search-space problems a sampler would hit later are caught by check", () => {
  const study = (space: unknown, sampler = "tpe") => parseExperiment({ kind: "optimize-function", study: { sampler, space } }, "s.yaml");
  assert.throws(() => study({ x0: { type: "float", low: 3, high: 1 } }), /low \(3\) is above high \(1\)/);
  assert.throws(() => study({ learning_rate: { type: "float", low: 0, high: 1, log: true } }), /log-scale range needs low > 0/);
  assert.throws(() => study({ x0: { type: "float", low: 0, high: 1 } }, "grid"), /grid search cannot enumerate a continuous or log-scale range/);
  assert.equal(study({ x0: { type: "float", low: 0, high: 1, step: 0.25 }, steps: { type: "int", low: 1, high: 3 } }, "grid").study!.sampler.type, "grid");
});
