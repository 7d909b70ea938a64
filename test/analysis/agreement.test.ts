import { test } from "node:test";
import assert from "node:assert/strict";
import { cohenKappa, fleissKappa, krippendorffAlpha, ratingsToCounts } from "../../src/analysis/agreement.js";

const close = (a: number, b: number, tol: number, what = "") => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test("Cohen's kappa: Wikipedia's worked example (50 proposals, κ = 0.4)", () => {
  // https://en.wikipedia.org/wiki/Cohen%27s_kappa#Simple_example : A and B both Yes 20, A Yes B No 5,
  // A No B Yes 10, both No 15 -> p_o = 0.7, p_e = 0.5, κ = 0.4.
  const a: string[] = [];
  const b: string[] = [];
  const add = (n: number, p: string, q: string) => { for (let i = 0; i < n; i++) { a.push(p); b.push(q); } };
  add(20, "yes", "yes"); add(5, "yes", "no"); add(10, "no", "yes"); add(15, "no", "no");
  close(cohenKappa(a, b), 0.4, 1e-12, "kappa");
});

test("weighted Cohen's kappa (linear, quadratic) on a hand-computed table", () => {
  const a = [0, 1, 2, 2, 1, 0, 2, 1, 0, 2];
  const b = [0, 2, 2, 1, 1, 0, 2, 0, 1, 2];
  // Confusion O (rows a, cols b) = [[2,1,0],[1,1,1],[0,1,3]]; marginals 3,3,4 both ways, n = 10.
  // Unweighted: p_o = 0.6, p_e = 0.34, κ = 0.26/0.66.
  // Linear w = |i−j|: Σ w·O = 4, Σ w·E = 0.9+0.9+1.2+1.2+2·1.2+2·1.2 = 9, κ = 1 − 4/9.
  // Quadratic w = (i−j)²: Σ w·O = 4, Σ w·E = 4.2 + 4·2.4 = 13.8, κ = 1 − 4/13.8.
  close(cohenKappa(a, b), 0.26 / 0.66, 1e-12, "unweighted");
  close(cohenKappa(a, b, "linear"), 1 - 4 / 9, 1e-12, "linear");
  close(cohenKappa(a, b, "quadratic"), 1 - 4 / 13.8, 1e-12, "quadratic");
});

test("Fleiss' kappa: Wikipedia's worked example (10 subjects, 14 raters, κ ≈ 0.210)", () => {
  // https://en.wikipedia.org/wiki/Fleiss%27_kappa#Worked_example : P̄ = 0.378, P̄e = 0.213, κ = 0.210.
  const table = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
  ];
  close(fleissKappa(table), 0.21, 0.0005, "kappa");
  assert.throws(() => fleissKappa([[1, 2], [1, 1]]), /same number of ratings/);
  const { counts } = ratingsToCounts([["a", "a", "b"], ["b", "b", "b"]]);
  assert.deepEqual(counts, [[2, 1], [0, 3]]);
});

test("Krippendorff's alpha: the 2011 worked example (4 observers, 12 units, missing values)", () => {
  // Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011), section C:
  // nominal α = 0.743, ordinal α = 0.815, interval α = 0.849, ratio α = 0.797.
  const _ = null;
  const data = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
    [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
  ];
  close(krippendorffAlpha(data, "nominal"), 0.743, 0.0005, "nominal");
  close(krippendorffAlpha(data, "ordinal"), 0.815, 0.0005, "ordinal");
  close(krippendorffAlpha(data, "interval"), 0.849, 0.0005, "interval");
  close(krippendorffAlpha(data, "ratio"), 0.797, 0.0005, "ratio");
});

test("Krippendorff's alpha: section A binary example (α = 0.095) and perfect agreement", () => {
  // 2011 paper, section A: two observers, 10 units, binary data; α_nominal = 0.095.
  const data = [
    [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
    [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],
  ];
  close(krippendorffAlpha(data, "nominal"), 0.095, 0.0005, "binary");
  close(krippendorffAlpha([["a", "b", "c"], ["a", "b", "c"]]), 1, 1e-12, "perfect");
});
