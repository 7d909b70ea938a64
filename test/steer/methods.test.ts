/**
 * Golden tests of the methods on worked examples computed by hand (or by an independent route):
 * CAA and mean-difference vectors, the PCA vector, logistic-regression probes, ROC AUC, and DAC's
 * truncated KL and α rule.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { dacAlpha, topPSet, truncatedKL } from "../../src/steer/dac.js";
import { accuracy, choleskySolve, fitProbe, probeDirection, probeScores, rocAuc, sigmoid } from "../../src/steer/probe.js";
import { caaVector, meanDifferenceVector, pcaVector } from "../../src/steer/vectors.js";

const M = (rows: number[][]) => ({ data: Float32Array.from(rows.flat()), rows: rows.length, cols: rows[0]!.length });
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

test("CAA = mean of paired differences; mean difference of groups", () => {
  // p − n = (2,0), (0,2), (1,1) → mean (1,1).
  close(caaVector(M([[3, 1], [1, 4], [2, 2]]), M([[1, 1], [1, 2], [1, 1]])), [1, 1]);
  close(meanDifferenceVector(M([[2, 0], [4, 2]]), M([[0, 0], [0, 0], [3, 3]])), [2, 0]);
  assert.throws(() => caaVector(M([[1, 1]]), M([[1, 1], [2, 2]])), /paired/);
});

test("PCA vector: leading component of the differences, oriented and scaled along their mean", () => {
  // Differences (3,1), (1,−1), (2,0)+(0,0)… chosen: d = (4,0),(0,0),(2,1),(2,−1): mean (2,0);
  // centred: (2,0),(−2,0),(0,1),(0,−1): covariance diag(8,2) → u = ±e1; v = (d̄·u)u = (2,0).
  const pos = M([[4, 0], [0, 0], [2, 1], [2, -1]]);
  const neg = M([[0, 0], [0, 0], [0, 0], [0, 0]]);
  close(pcaVector(pos, neg), [2, 0], 1e-9);
  // Rotated 45°: differences along (1,1)/√2 with spread; mean (1,1) → v = (1,1).
  const s = Math.SQRT1_2;
  const pos2 = M([[1 + 3 * s * s * 2, 1 + 3 * s * s * 2], [1 - 3, 1 - 3], [1 + 0.1, 1 - 0.1], [1 - 0.1, 1 + 0.1]]);
  close(pcaVector(pos2, M([[0, 0], [0, 0], [0, 0], [0, 0]])), [1, 1], 1e-6);
});

test("logistic regression: the two-point problem solved by bisection, and zero gradient on random data", () => {
  // x = −1 (y 0), x = +1 (y 1), C = 1: standardised x = ±1, b = 0 by symmetry, and w solves
  // w = 2 σ(−w) (gradient of ½w² + Σ log(1+e^{−y'(w x)}) = 0).
  let lo = 0;
  let hi = 2;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (mid - 2 * sigmoid(-mid) > 0) hi = mid;
    else lo = mid;
  }
  const p = fitProbe(M([[-1], [1]]), [0, 1]);
  assert.ok(Math.abs(p.w[0]! - lo) < 1e-9, `${p.w[0]} vs ${lo}`);
  assert.ok(Math.abs(p.b) < 1e-12);
  // Random 3-d data: the gradient of the (standardised) objective vanishes at the fit — checked in
  // activation space, where the objective's gradient w.r.t. (w, b) is (Σ r_i x_i ∘ …) after mapping.
  const rows: number[][] = [];
  const y: number[] = [];
  let s = 7;
  const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
  for (let i = 0; i < 60; i++) {
    const lab = i % 2;
    rows.push([rnd() + lab * 0.8, 3 * rnd() - lab, rnd() * 0.1 + 5]);
    y.push(lab);
  }
  const X = M(rows);
  const q = fitProbe(X, y, { C: 2 });
  // Check on the float32 values the fit saw.
  rows.forEach((r, i) => r.forEach((_, k) => (r[k] = X.data[i * 3 + k]!)));
  // Standardised gradient: w_std_k + C Σ (p_i − y_i) z_ik = 0, with w_std_k = w_k · sd_k.
  const mu = [0, 1, 2].map((k) => rows.reduce((a, r) => a + r[k]!, 0) / rows.length);
  const sd = [0, 1, 2].map((k) => Math.sqrt(rows.reduce((a, r) => a + (r[k]! - mu[k]!) ** 2, 0) / rows.length));
  const sc = probeScores(q, X);
  for (let k = 0; k < 3; k++) {
    let g = q.w[k]! * sd[k]!;
    rows.forEach((r, i) => (g += 2 * (sigmoid(sc[i]!) - y[i]!) * ((r[k]! - mu[k]!) / sd[k]!)));
    assert.ok(Math.abs(g) < 1e-8, `gradient ${k}: ${g}`);
  }
  let gb = 0;
  rows.forEach((_, i) => (gb += sigmoid(sc[i]!) - y[i]!));
  assert.ok(Math.abs(gb) < 1e-8);
  assert.ok(accuracy(sc, y) > 0.7);
  // The probe direction points from class 0 to class 1 and has the mean difference's length along it.
  const dir = probeDirection(q, X, y);
  const diff = [0, 1, 2].map((k) => rows.filter((_, i) => y[i] === 1).reduce((a, r) => a + r[k]!, 0) / 30 - rows.filter((_, i) => y[i] === 0).reduce((a, r) => a + r[k]!, 0) / 30);
  const nrm = Math.hypot(...dir);
  const u = [...dir].map((x) => x / nrm);
  assert.ok(Math.abs(nrm - diff.reduce((a, x, k) => a + x * u[k]!, 0)) < 1e-5);
  close(choleskySolve(Float64Array.from([4, 2, 2, 3]), Float64Array.from([2, 1]), 2), [0.5, 0], 1e-12);
});

test("ROC AUC: sklearn's documented example and ties", () => {
  assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75); // sklearn.metrics.roc_auc_score docs
  assert.equal(rocAuc([0.5, 0.5], [0, 1]), 0.5);
  assert.equal(rocAuc([1, 2, 3], [0, 1, 1]), 1);
  assert.ok(Number.isNaN(rocAuc([1, 2], [1, 1])));
});

test("DAC: top-p set, truncated KL (torch batchmean on the nucleus union), α rule", () => {
  // p = softmax(log [0.5, 0.3, 0.15, 0.05]) = those probabilities; keep until the cumulative sum first exceeds top_p.
  const lp = [0.5, 0.3, 0.15, 0.05].map(Math.log);
  assert.deepEqual([...topPSet(lp, 0.7)].sort(), [0, 1]); // 0.5, then 0.8 > 0.7
  assert.deepEqual([...topPSet(lp, 0.5)].sort(), [0, 1]); // 0.5 is not > 0.5: one more
  assert.deepEqual([...topPSet(lp, 0.4)], [0]);
  // Worked example: P nucleus(0.7) = {0,1}; Q = [0.1, 0.2, 0.6, 0.1]: nucleus {2, 1} (0.6, 0.8).
  // Union S = {0,1,2}; P̃ = (0.5, 0.3, 0.15)/0.95, Q̃ = (0.1, 0.2, 0.6)/0.9; KL/|S|.
  const lq = [0.1, 0.2, 0.6, 0.1].map(Math.log);
  const P = [0.5, 0.3, 0.15].map((x) => x / 0.95);
  const Q = [0.1, 0.2, 0.6].map((x) => x / 0.9);
  const want = P.reduce((a, p, i) => a + p * Math.log(p / Q[i]!), 0) / 3;
  assert.ok(Math.abs(truncatedKL(lp, lq, 0.7) - want) < 1e-12);
  assert.equal(truncatedKL(lp, lp, 0.95), 0);
  assert.equal(dacAlpha(0.7, 2), 0.7);
  assert.equal(dacAlpha(3.1, 2), 2);
  assert.equal(dacAlpha(-0.1, 2), 0);
  assert.equal(dacAlpha(0.7, -0.5), -0.5);
  assert.equal(dacAlpha(0.7, 0), 0);
});
