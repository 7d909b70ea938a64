import { test } from "node:test";
import assert from "node:assert/strict";
import { ParzenEstimator, defaultWeights, univariateSigmas } from "../../src/analysis/search/parzen.js";
import { logGaussMass, logpdf, ppf } from "../../src/analysis/search/truncnorm.js";
import { logNdtr } from "../../src/analysis/special.js";
import { Rng } from "../../src/util/rng.js";

const close = (a: number, b: number, tol: number, what = "") => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);
const P = { priorWeight: 1, considerMagicClip: true, considerEndpoints: false, weights: defaultWeights };

test("log Φ and truncated-normal ppf/logpdf match scipy (special.log_ndtr, stats.truncnorm)", () => {
  const ln: [number, number][] = [[-40, -804.6084420137539], [-25, -316.63940800802027], [-3, -6.60772622151035], [0, -0.6931471805599453], [5, -2.8665161296376294e-7], [8, -6.220960574271742e-16]];
  for (const [a, v] of ln) close(logNdtr(a), v, Math.abs(v) * 1e-12 + 1e-20, `log_ndtr(${a})`);
  const pp: [number, number, number, number][] = [[0.3, -1, 2, -0.2424038178892269], [0.9, 0.5, 3, 1.8512240709778356], [0.01, -8, -5, -5.824364508623127], [0.5, -30, -29, -29.0238635120206], [0.7, 10, 12, 10.118538515603849]];
  for (const [q, a, b, v] of pp) close(ppf(q, a, b), v, 1e-9, `ppf(${q}, ${a}, ${b})`);
  close(logpdf(0.3, -1, 2, 0.5, 2), -1.4169194194401553, 1e-12, "logpdf 1");
  close(logpdf(-6, -8, -5, 0, 1), -3.853940137045731, 1e-9, "logpdf left tail");
  close(logpdf(11, 10, 12, 0, 1), -8.187653382459061, 1e-9, "logpdf right tail");
  close(Math.exp(logGaussMass(-1, 1)), 0.6826894921370859, 1e-14, "mass within 1σ");
});

test("default_weights: flat below 25 observations, linear ramp on the oldest above", () => {
  assert.deepEqual(defaultWeights(0), []);
  assert.deepEqual(defaultWeights(3), [1, 1, 1]);
  const w = defaultWeights(30); // numpy.linspace(1/30, 1, 5) then 25 ones
  assert.equal(w.length, 30);
  [0.03333333333333333, 0.275, 0.5166666666666667, 0.7583333333333333, 1].forEach((v, i) => close(w[i]!, v, 1e-12, `ramp ${i}`));
  assert.ok(w.slice(5).every((x) => x === 1));
});

test("bandwidths follow Optuna's neighbour rule with endpoints and magic clip", () => {
  // [0, 10], obs {1, 3}, prior μ 5: sorted with endpoints 0,1,3,5,10 -> gaps rule gives 2, 2 (ends
  // use inner gaps); magic clip min σ = 10 / min(100, 1 + 3) = 2.5.
  assert.deepEqual(univariateSigmas([1, 3], 0, 10, P), [2.5, 2.5]);
  // Without the clip: raw neighbour gaps.
  assert.deepEqual(univariateSigmas([1, 3], 0, 10, { ...P, considerMagicClip: false }), [2, 2]);
  // consider_endpoints: first kernel keeps max(1 − 0, 3 − 1) = 2, middle obs 3 gets max(2, 2) = 2.
  assert.deepEqual(univariateSigmas([1, 3], 0, 10, { ...P, considerMagicClip: false, considerEndpoints: true }), [2, 2]);
  assert.deepEqual(univariateSigmas([0.5, 9], 0, 10, { ...P, considerMagicClip: false, considerEndpoints: true }), [4.5, 4]);
});

test("continuous mixture density equals the hand-built truncated-normal mixture", () => {
  // Kernels: N(1, 2.5), N(3, 2.5), prior N(5, 10), all truncated to [0, 10], weights 1/3 each.
  // Reference: log Σ_k w_k scipy.stats.truncnorm.pdf(x, (0−μ)/σ, (10−μ)/σ, μ, σ).
  const pe = new ParzenEstimator({ x: [1, 3] }, { x: { kind: "float", low: 0, high: 10 } }, P);
  assert.deepEqual(pe.weights, [1 / 3, 1 / 3, 1 / 3]);
  const lp = pe.logPdf({ x: [0.5, 2.0, 7.5] });
  close(lp[0]!, -1.9138131335697883, 1e-10, "x=0.5");
  close(lp[1]!, -1.809208497807922, 1e-10, "x=2");
  close(lp[2]!, -3.0292271430353797, 1e-10, "x=7.5");
});

test("integer mixture integrates each kernel over [x − ½, x + ½]", () => {
  // int [0, 4]: domain widened to [−0.5, 4.5]; obs {1, 2}, prior μ 2; gaps give σ = 1, 1, clipped
  // to 5 / 4 = 1.25; prior σ = 5. Reference: Σ_k w_k (Φ((x+½−μ)/σ) − Φ((x−½−μ)/σ)) / mass([−½, 4½]).
  const pe = new ParzenEstimator({ n: [1, 2] }, { n: { kind: "int", low: 0, high: 4 } }, P);
  const lp = pe.logPdf({ n: [0, 2, 4] });
  close(lp[0]!, -1.6984505096691491, 1e-10, "n=0");
  close(lp[1]!, -1.3295569863900516, 1e-10, "n=2");
  close(lp[2]!, -2.264376594716937, 1e-10, "n=4");
  // The pmf sums to 1 over the 5 integers.
  const all = pe.logPdf({ n: [0, 1, 2, 3, 4] }).reduce((s, v) => s + Math.exp(v), 0);
  close(all, 1, 1e-12, "pmf sums to 1");
});

test("categorical kernels: prior_weight/(n+1) smoothing, exact probabilities", () => {
  // choices a,b,c; obs a,a,c; 4 kernels; rows (1.25,.25,.25)/1.75 ×2, (.25,.25,1.25)/1.75, uniform prior.
  // P(a) = (5/7 + 5/7 + 1/7 + 1/3)/4 = 10/21, P(b) = 4/21, P(c) = 1/3.
  const pe = new ParzenEstimator({ c: [0, 0, 2] }, { c: { kind: "categorical", choices: ["a", "b", "c"] } }, P);
  const p = pe.logPdf({ c: [0, 1, 2] }).map(Math.exp);
  close(p[0]!, 10 / 21, 1e-12, "a");
  close(p[1]!, 4 / 21, 1e-12, "b");
  close(p[2]!, 1 / 3, 1e-12, "c");
  // Sampling follows those probabilities.
  const rng = new Rng(3);
  const s = pe.sample(rng, 21000).c!;
  const freq = [0, 1, 2].map((k) => s.filter((v) => v === k).length / s.length);
  close(freq[0]!, 10 / 21, 0.015, "freq a");
  close(freq[2]!, 1 / 3, 0.015, "freq c");
});

test("samples stay in the domain, on the step grid, and follow the density", () => {
  const rng = new Rng(11);
  const pe = new ParzenEstimator(
    { x: [0.01, 0.1], k: [2, 8], s: [0.5, 1.5] },
    { x: { kind: "float", low: 1e-3, high: 1, log: true }, k: { kind: "int", low: 1, high: 10 }, s: { kind: "float", low: 0, high: 2, step: 0.25 } },
    P,
  );
  const smp = pe.sample(rng, 2000);
  assert.ok(smp.x!.every((v) => v >= 1e-3 && v <= 1));
  assert.ok(smp.k!.every((v) => Number.isInteger(v) && v >= 1 && v <= 10));
  assert.ok(smp.s!.every((v) => Math.abs(v / 0.25 - Math.round(v / 0.25)) < 1e-12 && v >= 0 && v <= 2));
  // Mean of log x close to the mixture's analytic mean is hard; check the mode region instead:
  // more mass near the observations (log 0.01, log 0.1) than at the far end (x > 0.5).
  const near = smp.x!.filter((v) => v > 0.005 && v < 0.2).length;
  const far = smp.x!.filter((v) => v > 0.5).length;
  assert.ok(near > 3 * far, `near ${near} far ${far}`);
});

test("log densities equal Optuna 5.0.0's _ParzenEstimator.log_pdf (bandwidths without the prior mean)", () => {
  // Reference: optuna 5.0.0, _ParzenEstimator(obs, space, _ParzenEstimatorParameters(prior_weight=1.0,
  // consider_magic_clip=True, consider_endpoints=False, weights=default_weights, multivariate=False))
  // .log_pdf(points); Optuna 5 no longer puts the prior mean among the bandwidth neighbours.
  const P5 = { ...P, priorInBandwidth: false };
  const cases: [string, Record<string, number[]>, Record<string, import("../../src/analysis/search/types.js").Distribution>, Record<string, number[]>, number[]][] = [
    ["continuous", { x: [1, 3] }, { x: { kind: "float", low: 0, high: 10 } }, { x: [0.5, 2.0, 7.5] }, [-1.9138131335697883, -1.8092084978079224, -3.0292271430353797]],
    ["int", { n: [1, 2] }, { n: { kind: "int", low: 0, high: 4 } }, { n: [0, 2, 4] }, [-1.6984505096691487, -1.3295569863900516, -2.2643765947169365]],
    ["log float", { x: [0.01, 0.1, 0.003, 0.5, 0.02] }, { x: { kind: "float", low: 1e-3, high: 1, log: true } }, { x: [0.002, 0.05, 0.9] }, [-2.054881865975779, -1.881194627289063, -2.2960507444029252]],
    ["float with step", { s: [0.5, 1.5, 0.25, 2.0] }, { s: { kind: "float", low: 0, high: 2, step: 0.25 } }, { s: [0, 0.75, 2.0] }, [-2.240650031054256, -2.2751990383018437, -2.1020499547959437]],
    ["log int", { k: [1, 10, 100, 3] }, { k: { kind: "int", low: 1, high: 1000, log: true } }, { k: [1, 7, 500] }, [-1.618235463553424, -3.7190356303766823, -8.914683945398226]],
    ["product of float and categorical", { x: [1, 3], c: [1, 0] }, { x: { kind: "float", low: 0, high: 10 }, c: { kind: "categorical", choices: [true, false] } }, { x: [2.0, 8.0], c: [0, 1] }, [-2.575633604106154, -3.9363175369075165]],
    ["no observations (prior only)", { x: [] }, { x: { kind: "float", low: 0, high: 10 } }, { x: [2.0] }, [-2.3066072925030965]],
  ];
  // 30 observations: default_weights ramps the 5 oldest.
  const o30 = Array.from({ length: 30 }, (_, i) => Math.round((-5 + (10 * ((i * 7919) % 997)) / 997) * 1000) / 1000);
  cases.push(["30 observations (weight ramp)", { x: o30 }, { x: { kind: "float", low: -5, high: 5 } }, { x: [-4.0, 0.0, 2.5] }, [-2.6677546931914438, -2.069295065826217, -2.076060225619938]]);
  for (const [name, obs, space, pts, want] of cases) {
    const got = new ParzenEstimator(obs, space, P5).logPdf(pts);
    want.forEach((w, i) => close(got[i]!, w, 1e-9, `${name} [${i}]`));
  }
  const cat = new ParzenEstimator({ c: [0, 0, 2] }, { c: { kind: "categorical", choices: ["a", "b", "c"] } }, P5).logPdf({ c: [0, 1, 2] }).map(Math.exp);
  [0.47619047619047616, 0.19047619047619047, 0.3333333333333333].forEach((w, i) => close(cat[i]!, w, 1e-12, `categorical ${i}`));
});
