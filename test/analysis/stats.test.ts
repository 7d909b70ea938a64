import { test } from "node:test";
import assert from "node:assert/strict";
import { mean, std, sem, formatMeanStd, percentile } from "../../src/analysis/descriptive.js";
import { welchTTest, pairedTTest, studentTTest } from "../../src/analysis/ttest.js";

const close = (a: number, b: number, tol: number, what = "") => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

// Student's sleep data (Cushny & Peebles 1905), R datasets::sleep: extra hours of sleep under two
// drugs for the same 10 patients. R's documented outputs:
//   t.test(extra ~ group, data = sleep)                -> t = -1.8608, df = 17.776, p-value = 0.07939,
//                                                         95% CI -3.3654832  0.2054832
//   t.test(extra ~ group, data = sleep, paired = TRUE) -> t = -4.0621, df = 9, p-value = 0.002833,
//                                                         95% CI -2.4598858 -0.7001142
const g1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
const g2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

test("descriptive statistics", () => {
  close(mean(g1), 0.75, 1e-12, "mean");
  // numpy.std(g1, ddof=1) = 1.7890096577591625
  close(std(g1), 1.7890096577591625, 1e-12, "std");
  close(sem(g1), 1.7890096577591625 / Math.sqrt(10), 1e-12, "sem");
  assert.equal(formatMeanStd(0.75, 1.789, 10), "0.75 ± 1.79 (n=10)");
  close(percentile([1, 2, 3, 4], 25), 1.75, 1e-12, "percentile"); // numpy.percentile([1,2,3,4], 25)
});

test("Welch's t-test matches R's t.test on the sleep data", () => {
  const r = welchTTest(g1, g2);
  close(r.t, -1.8608134674868526, 1e-10, "t");
  close(r.df, 17.776473516178488, 1e-9, "df");
  close(r.p, 0.0793941401873583, 1e-8, "p");
  close(r.ci[0], -3.3654832307117104, 1e-7, "ci low");
  close(r.ci[1], 0.20548323071171137, 1e-7, "ci high");
});

test("paired t-test matches R's t.test(paired = TRUE) on the sleep data", () => {
  const r = pairedTTest(g1, g2);
  close(r.t, -4.062127683382037, 1e-10, "t");
  assert.equal(r.df, 9);
  close(r.p, 0.002832890197384273, 1e-9, "p");
  close(r.ci[0], -2.459885763276983, 1e-7, "ci low");
  close(r.ci[1], -0.7001142367230175, 1e-7, "ci high");
});

test("Student's pooled t-test on the sleep data (scipy.stats.ttest_ind equal_var=True)", () => {
  const r = studentTTest(g1, g2);
  close(r.t, -1.8608134674868524, 1e-10, "t");
  assert.equal(r.df, 18);
  close(r.p, 0.07918671421593822, 1e-8, "p");
});

test("Welch's t-test matches Wikipedia's worked example 1 (t = -2.46, ν ≈ 25.0, p = 0.021)", () => {
  // https://en.wikipedia.org/wiki/Welch%27s_t-test#Examples ; scipy gives t = -2.455356398286006,
  // df = 24.988529290231416, p = 0.021378001462866992.
  const A1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
  const A2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
  const r = welchTTest(A1, A2);
  close(r.t, -2.455356398286006, 1e-10, "t");
  close(r.df, 24.988529290231416, 1e-9, "df");
  close(r.p, 0.021378001462866992, 1e-8, "p");
});

test("t-tests reject bad input", () => {
  assert.throws(() => pairedTTest([1, 2], [1]), /equal length/);
  assert.throws(() => welchTTest([1], [1, 2]), /at least 2/);
  assert.throws(() => mean([1, NaN]), /finite/);
});
