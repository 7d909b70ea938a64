/**
 * scalpel's Parzen estimator against Optuna's own numbers (test/fixtures/optuna-golden.json, made
 * by scripts/optuna-golden/make-golden.py running Optuna's parzen_estimator.py from source):
 * kernel means, bandwidths, mixture weights and log densities, for every parameter kind.
 *
 * - The default (`priorInBandwidth: true`) is Optuna 4.7–4.8: the prior mean sits among the
 *   bandwidth neighbours, log-scale integers get the discrete truncated log-normal kernel.
 * - `priorInBandwidth: false` is Optuna ≥ 4.9 / 5.0 (prior mean dropped from the bandwidth rule).
 * Optuna ≤ 4.6 treated log-scale integers as continuous on [log(low − ½), log(high + ½)] and
 * rounded samples; scalpel does not reproduce that (see src/analysis/search/parzen.ts).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { defaultWeights, ParzenEstimator } from "../../src/analysis/search/parzen.js";
import type { Distribution } from "../../src/analysis/search/types.js";

type Spec = ["float" | "int", number, number, number | null, boolean] | ["cat", number];
interface Case {
  name: string;
  observations: Record<string, number[]>;
  space: Record<string, Spec>;
  points: Record<string, number[]>;
  weights: number[];
  kernels: Record<string, { mus?: number[]; sigmas?: number[]; probs?: number[][] }>;
  log_pdf: number[];
}
const golden = JSON.parse(readFileSync(new URL("../fixtures/optuna-golden.json", import.meta.url), "utf8")) as {
  versions: { optuna_version: string; commit: string; cases: Case[] }[];
};

function distribution(s: Spec): Distribution {
  if (s[0] === "cat") return { kind: "categorical", choices: Array.from({ length: s[1] }, (_, i) => i) };
  const [kind, low, high, step, log] = s;
  return kind === "int" ? { kind: "int", low, high, log } : { kind: "float", low, high, log, ...(step !== null ? { step } : {}) };
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
const closeAll = (a: readonly number[], b: readonly number[], what: string) => {
  assert.equal(a.length, b.length, `${what}: length`);
  a.forEach((x, i) => close(x, b[i]!, `${what}[${i}]`));
};

for (const v of golden.versions) {
  const priorInBandwidth = !/^(5\.|4\.(9|\d\d))/.test(v.optuna_version);
  test(`Parzen estimator = Optuna ${v.optuna_version} (${v.commit.slice(0, 9)}) with priorInBandwidth ${priorInBandwidth}: bandwidths, weights, log densities`, () => {
    for (const c of v.cases) {
      const space = Object.fromEntries(Object.entries(c.space).map(([k, s]) => [k, distribution(s)]));
      const est = new ParzenEstimator(c.observations, space, { priorWeight: 1, considerMagicClip: true, considerEndpoints: false, weights: defaultWeights, priorInBandwidth });
      closeAll(est.weights, c.weights, `${c.name} weights`);
      for (const [k, want] of Object.entries(c.kernels)) {
        const got = est.kernels[k]!;
        if (got.kind === "categorical") want.probs!.forEach((row, j) => closeAll(got.probs[j]!, row, `${c.name} ${k} probs ${j}`));
        else {
          closeAll(got.mus, want.mus!, `${c.name} ${k} mus`);
          closeAll(got.sigmas, want.sigmas!, `${c.name} ${k} sigmas`);
        }
      }
      closeAll(est.logPdf(c.points), c.log_pdf, `${c.name} log_pdf`);
    }
  });
}

test("the golden file covers the default (Optuna 4.8) and the Optuna 5 rule", () => {
  assert.deepEqual(golden.versions.map((v) => v.optuna_version), ["4.8.0", "5.0.0.dev"]);
});
