/**
 * scalpel's Parzen estimator against Optuna's own numbers (test/fixtures/optuna-golden.json, made
 * by scripts/optuna-golden/make-golden.py running Optuna's parzen_estimator.py from source, git
 * mirror of github.com/optuna/optuna): kernel means, bandwidths, mixture weights and log
 * densities, for every parameter kind, at 1e-9 relative tolerance.
 *
 * - Default (`priorInBandwidth: true`) = Optuna 4.8.0 (689c62dbf): the prior mean sits among the
 *   bandwidth neighbours (Optuna 4.7–4.8).
 * - `priorInBandwidth: false` = Optuna 4.9.0 (4db42e31c) and 5.0.0.dev (1d8ce7bb6, the mirror's
 *   HEAD): prior mean dropped from the bandwidth rule.
 * - Log-scale integers: discrete truncated log-normal kernel (mass of [x − ½, x + ½] on the log
 *   scale), which follows Optuna 5.x (commit 1d8ce7bb6) and every release since 4.7.0. Optuna ≤ 4.6
 *   treats log-scale integers as continuous on [log(low − ½), log(high + ½)] then rounds; its
 *   kernels (μ, σ) and its samples are the same, only its log_pdf differs (a log-space density
 *   instead of a mass). The 4.6.0 fixture pins exactly that: everything equals scalpel's except
 *   log_pdf for log-scale ints, which equals the continuous log-space density built below.
 * - Ties (repeated values): scalpel's argsort is stable; numpy's is for these small arrays, and with
 *   equal weights (n < 25) the mixture does not depend on which tied kernel gets which σ anyway.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { defaultWeights, ParzenEstimator, type Kernels1D } from "../../src/analysis/search/parzen.js";
import { logpdf as truncLogpdf } from "../../src/analysis/search/truncnorm.js";
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
  versions: { optuna_version: string; commit: string; revision: string; cases: Case[] }[];
};

function distribution(s: Spec): Distribution {
  if (s[0] === "cat") return { kind: "categorical", choices: Array.from({ length: s[1] }, (_, i) => i) };
  const [kind, low, high, step, log] = s;
  return kind === "int" ? { kind: "int", low, high, log, ...(step !== null && step !== 1 ? { step } : {}) } : { kind: "float", low, high, log, ...(step !== null ? { step } : {}) };
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
const closeAll = (a: readonly number[], b: readonly number[], what: string) => {
  assert.equal(a.length, b.length, `${what}: length`);
  a.forEach((x, i) => close(x, b[i]!, `${what}[${i}]`));
};

/** Optuna ≤ 4.6's log pdf: log-scale ints as continuous truncated normals in log space (no mass, no Jacobian). */
function continuousLogIntLogPdf(est: ParzenEstimator, points: Record<string, number[]>, space: Record<string, Distribution>): number[] {
  const names = Object.keys(space);
  return points[names[0]!]!.map((_, i) => {
    const terms = est.weights.map((w, j) => {
      let t = Math.log(w);
      for (const name of names) {
        const k = est.kernels[name]! as Kernels1D;
        const x = points[name]![i]!;
        if (k.kind === "categorical") t += Math.log(k.probs[j]![x]!);
        else {
          const mu = k.mus[j]!;
          const sigma = k.sigmas[j]!;
          assert.ok(k.log && k.step === 1, "only log-scale ints differ");
          t += truncLogpdf(Math.log(x), (k.adaptedLow - mu) / sigma, (k.adaptedHigh - mu) / sigma, mu, sigma);
        }
      }
      return t;
    });
    const m = Math.max(...terms);
    return m + Math.log(terms.reduce((s, t) => s + Math.exp(t - m), 0));
  });
}

const isLogInt = (c: Case) => Object.values(c.space).some((s) => s[0] === "int" && s[4]);
const continuousLogInt = (version: string) => /^4\.[0-6]\./.test(version);

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
      if (continuousLogInt(v.optuna_version) && isLogInt(c)) {
        // The documented difference: Optuna ≤ 4.6 gives a log-space density, scalpel a mass.
        closeAll(continuousLogIntLogPdf(est, c.points, space), c.log_pdf, `${c.name} log_pdf (≤ 4.6 continuous log-int)`);
        assert.ok(est.logPdf(c.points).some((x, i) => Math.abs(x - c.log_pdf[i]!) > 1e-3), `${c.name}: ≤ 4.6 should differ from the discrete kernel`);
      } else closeAll(est.logPdf(c.points), c.log_pdf, `${c.name} log_pdf`);
    }
  });
}

test("the golden file covers Optuna 4.6 (continuous log-int), 4.8 (the default), 4.9 and 5.0 (no prior mean in the bandwidth rule)", () => {
  assert.deepEqual(golden.versions.map((v) => v.optuna_version), ["4.6.0", "4.8.0", "4.9.0", "5.0.0.dev"]);
  assert.ok(golden.versions.every((v) => /^[0-9a-f]{40}$/.test(v.commit)));
  for (const v of golden.versions) assert.ok(v.cases.filter(isLogInt).length >= 2, `${v.optuna_version}: log-int cases`);
});
