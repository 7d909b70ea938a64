/** Exact t-SNE and PCA: perplexity calibration, the KL gradient, cluster separation, known principal axes. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { conditionalP, jointP, klDivergence, squaredDistances, tsne } from "../../src/analysis/tsne.js";
import { pca } from "../../src/analysis/pca.js";
import { Rng } from "../../src/util/rng.js";

const close = (a: number, b: number, tol: number, what = "") => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test("conditional P row: with the found β, p_j|i = softmax(−β D_ij) and its perplexity is the requested one", () => {
  // Point 0 has neighbours at squared distances 1 and 3 (points on a line: 0, 1, √3 along x).
  const X = [[0, 0], [1, 0], [0, Math.sqrt(3)]];
  const D = squaredDistances(X);
  close(D[1]!, 1, 1e-12, "D01");
  close(D[2]!, 3, 1e-12, "D02");
  const perplexity = 1.5;
  const { P, betas } = conditionalP(D, 3, perplexity);
  // Hand solution for row 0: two probabilities p, 1−p with entropy ln 1.5 (nats), p > 1/2 (the
  // nearer point); found by bisection on H(p) = −p ln p − (1−p) ln(1−p), then p = 1/(1+e^(−2β)).
  let lo = 0.5, hi = 1 - 1e-15;
  const H = (p: number) => -p * Math.log(p) - (1 - p) * Math.log(1 - p);
  for (let k = 0; k < 200; k++) {
    const mid = (lo + hi) / 2;
    if (H(mid) > Math.log(perplexity)) lo = mid; else hi = mid;
  }
  const p = (lo + hi) / 2; // ≈ 0.8742
  const beta = Math.log(p / (1 - p)) / (3 - 1);
  close(P[0]!, 0, 0, "diagonal");
  close(P[1]!, p, 1e-5, "p_1|0");
  close(P[2]!, 1 - p, 1e-5, "p_2|0");
  close(betas[0]!, beta, 1e-4, "β_0");
  // Directly from the returned β: the softmax row and its perplexity exp(H).
  const e1 = Math.exp(-betas[0]! * 1), e2 = Math.exp(-betas[0]! * 3);
  close(P[1]!, e1 / (e1 + e2), 1e-12, "row = softmax(−βD)");
  const ent = -[P[1]!, P[2]!].reduce((s, q) => s + q * Math.log(q), 0);
  close(Math.exp(ent), perplexity, 1.5e-5, "perplexity");
  // Joint P = (p_j|i + p_i|j) / 2n, symmetric, sums to 1.
  const J = jointP(P, 3);
  close(J[1]!, (P[1]! + P[3]!) / 6, 1e-15, "P_01");
  close(J[3]!, J[1]!, 0, "symmetric");
  close(J.reduce((s, v) => s + v, 0), 1, 1e-12, "sums to 1");
});

test("KL gradient equals a central finite-difference gradient (2-D and 3-D embeddings)", () => {
  const rng = new Rng(5);
  const n = 7;
  const X = Array.from({ length: n }, () => Array.from({ length: 4 }, () => rng.normal()));
  const P = jointP(conditionalP(squaredDistances(X), n, 3).P, n);
  for (const dim of [2, 3]) {
    const Y = Float64Array.from({ length: n * dim }, () => rng.normal());
    const { grad } = klDivergence(P, Y, n, dim);
    const h = 1e-6;
    for (let a = 0; a < Y.length; a++) {
      const yp = Y.slice(); yp[a]! += h;
      const ym = Y.slice(); ym[a]! -= h;
      const fd = (klDivergence(P, yp, n, dim).kl - klDivergence(P, ym, n, dim).kl) / (2 * h);
      close(grad[a]!, fd, 1e-6 + 1e-5 * Math.abs(fd), `dim ${dim} ∂KL/∂y[${a}]`);
    }
  }
});

function clusters(seed: number, perCluster: number, dimIn: number) {
  const rng = new Rng(seed);
  const centres = [0, 1, 2].map((c) => Array.from({ length: dimIn }, (_, k) => (k === c ? 10 : 0)));
  const rows: number[][] = [];
  const labels: number[] = [];
  centres.forEach((m, c) => {
    for (let i = 0; i < perCluster; i++) {
      rows.push(m.map((x) => x + rng.normal()));
      labels.push(c);
    }
  });
  return { rows, labels };
}

function nnAgreement(Y: Float64Array[], labels: number[]): number {
  let agree = 0;
  Y.forEach((y, i) => {
    let best = -1, bd = Infinity;
    Y.forEach((z, j) => {
      if (i === j) return;
      const d = y.reduce((s, v, k) => s + (v - z[k]!) ** 2, 0);
      if (d < bd) { bd = d; best = j; }
    });
    if (labels[best] === labels[i]) agree++;
  });
  return agree / Y.length;
}

test("three well-separated Gaussian clusters stay separated (seeded, deterministic; random and PCA init)", () => {
  const { rows, labels } = clusters(11, 20, 6);
  for (const init of ["random", "pca"] as const) {
    const a = tsne(rows, { perplexity: 10, maxIter: 400, init, seed: 3 });
    const b = tsne(rows, { perplexity: 10, maxIter: 400, init, seed: 3 });
    assert.deepEqual(a.embedding, b.embedding, `${init}: deterministic`);
    assert.ok(a.iterations > 250 && a.iterations <= 400, `${init}: iterations ${a.iterations}`);
    const agree = nnAgreement(a.embedding, labels);
    assert.ok(agree >= 0.95, `${init}: nearest-neighbour label agreement ${agree}`);
    assert.ok(Number.isFinite(a.kl) && a.kl > 0 && a.kl < 1, `${init}: KL ${a.kl}`);
  }
});

test("t-SNE input errors name the option", () => {
  const { rows } = clusters(1, 3, 3);
  assert.throws(() => tsne(rows, { perplexity: 30 }), /perplexity \(30\) must be positive and less than the number of points \(9\)/);
  assert.throws(() => tsne(rows, { perplexity: 2, maxIter: 100 }), /maxIter/);
  assert.throws(() => tsne([[1, 2], [1]], { perplexity: 1 }), /row 1 has 1 values/);
});

test("PCA recovers known principal axes, variances and ratios", () => {
  // Points on axes u = (3,4)/5 and v = (−4,3)/5 with coordinates a (variance 4·…) and b, then shifted.
  const u = [0.6, 0.8], v = [-0.8, 0.6];
  const coords = [[2, 1], [-2, 1], [2, -1], [-2, -1], [0, 0]];
  const rows = coords.map(([a, b]) => [5 + a! * u[0]! + b! * v[0]!, -1 + a! * u[1]! + b! * v[1]!]);
  const r = pca(rows, 2);
  // Variance along u: (4·4)/(5−1) = 4; along v: (4·1)/4 = 1; ratios 0.8, 0.2.
  close(r.explainedVariance[0]!, 4, 1e-12, "λ1");
  close(r.explainedVariance[1]!, 1, 1e-12, "λ2");
  close(r.explainedVarianceRatio[0]!, 0.8, 1e-12, "ratio 1");
  close(r.explainedVarianceRatio[1]!, 0.2, 1e-12, "ratio 2");
  close(r.mean[0]!, 5, 1e-12, "mean x");
  // Sign convention: largest-magnitude entry positive → +u and −v.
  close(r.components[0]![0]!, 0.6, 1e-12, "u_x"); close(r.components[0]![1]!, 0.8, 1e-12, "u_y");
  close(r.components[1]![0]!, 0.8, 1e-12, "v_x"); close(r.components[1]![1]!, -0.6, 1e-12, "v_y");
  r.projection.forEach((p, i) => {
    close(p[0]!, coords[i]![0]!, 1e-12, `z${i}1`);
    close(p[1]!, -coords[i]![1]!, 1e-12, `z${i}2`);
  });
  // A 3-D cloud flat in z: one component keeps ratio 1 minus the rest.
  const k1 = pca(rows.map((r2) => [...r2, 0]), 1);
  close(k1.explainedVarianceRatio[0]!, 0.8, 1e-12, "3-D ratio");
  assert.throws(() => pca(rows, 3), /k must be an integer in 1…2/);
});
