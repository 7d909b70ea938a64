import { test } from "node:test";
import assert from "node:assert/strict";
import { differInOneParameter, holmAdjust, welchComparisons } from "../../src/lab/report/comparisons.js";
import { renderReport } from "../../src/lab/report/render.js";
import type { CaseDistribution, ReportData } from "../../src/lab/report/types.js";

const A = [0.12, 0.35, 0.41, 0.08, 0.27, 0.5];
const B = [0.55, 0.61, 0.48, 0.72, 0.66];
const C = [0.3, 0.9, 0.1, 0.7];

// Golden values from scipy 1.17.1, scipy.stats.ttest_ind(x, y, equal_var=False) → statistic, pvalue, df:
//   (A, B): t = -3.989039526699425,  p = 0.003910881289768578, df = 8.100097118432389
//   (A, C): t = -1.087984519309341,  p = 0.34034157718873237,  df = 3.8258316330549413
//   (B, C): t =  0.5552744283650209, p = 0.6139944060220154,   df = 3.315688141563367
// Holm over those three (by hand, m = 3): sorted p 0.00391·3 = 0.011732643869305732,
// 0.3403·2 = 0.6806831543774647, max(0.6806…, 0.6140·1) = 0.6806831543774647.
const GOLD = {
  AB: { t: -3.989039526699425, p: 0.003910881289768578, df: 8.100097118432389, holm: 0.011732643869305732 },
  AC: { t: -1.087984519309341, p: 0.34034157718873237, df: 3.8258316330549413, holm: 0.6806831543774647 },
  BC: { t: 0.5552744283650209, p: 0.6139944060220154, df: 3.315688141563367, holm: 0.6806831543774647 },
};

const close = (actual: number, expected: number, tol = 1e-9, what = "") =>
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);

test("holmAdjust: step-down with running max and cap at 1 (hand-computed)", () => {
  // m = 4, sorted 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → max 0.06.
  const adj = holmAdjust([0.01, 0.04, 0.03, 0.005]);
  [0.03, 0.06, 0.06, 0.02].forEach((e, i) => close(adj[i]!, e, 1e-12, `holm[${i}]`));
  // 0.5·2 = 1 (cap), then max(1, 0.6) = 1.
  assert.deepEqual(holmAdjust([0.6, 0.5]), [1, 1]);
  // One test: unadjusted; none: empty.
  assert.deepEqual(holmAdjust([0.2]), [0.2]);
  assert.deepEqual(holmAdjust([]), []);
});

test("welchComparisons: every pair in group order, scipy-golden Welch numbers, Holm within the metric", () => {
  const dists: CaseDistribution[] = [
    { metric: "bias", group: "A", values: A },
    { metric: "bias", group: "B", values: B },
    { metric: "bias", group: "C", values: C },
    { metric: "other", group: "A", values: [1, 2, 3] }, // one group only: nothing to test
  ];
  const { rows, skipped } = welchComparisons(dists);
  assert.deepEqual(rows.map((r) => `${r.metric}:${r.a}-${r.b}`), ["bias:A-B", "bias:A-C", "bias:B-C"]);
  assert.deepEqual(skipped, []);
  for (const [r, g] of [[rows[0]!, GOLD.AB], [rows[1]!, GOLD.AC], [rows[2]!, GOLD.BC]] as const) {
    close(r.t, g.t, 1e-9, "t");
    close(r.df, g.df, 1e-9, "df");
    close(r.p, g.p, 1e-7, "p");
    close(r.pHolm, g.holm, 1e-7, "pHolm");
  }
  const ab = rows[0]!;
  close(ab.meanA, 0.28833333333333333, 1e-12, "meanA");
  close(ab.meanB, 0.604, 1e-12, "meanB");
  close(ab.diff, ab.meanA - ab.meanB, 1e-12, "diff");
  assert.equal(ab.nA, 6);
  assert.equal(ab.nB, 5);
});

test("welchComparisons: skips too-small and zero-variance pairs, drops non-finite values", () => {
  const { rows, skipped, dropped } = welchComparisons([
    { metric: "m", group: "one", values: [0.5] },
    { metric: "m", group: "flat1", values: [1, 1, 1] },
    { metric: "m", group: "flat2", values: [2, 2, NaN] },
  ]);
  assert.equal(rows.length, 0);
  assert.deepEqual(
    skipped.map((s) => [s.a, s.b, s.reason]),
    [
      ["one", "flat1", "needs ≥ 2 values per group (have 1 and 3)"],
      ["one", "flat2", "needs ≥ 2 values per group (have 1 and 2)"],
      ["flat1", "flat2", "both groups have zero variance"],
    ],
  );
  assert.deepEqual(dropped, [{ metric: "m", group: "flat2", count: 1 }]);
  // One flat group against a varying one is a valid test (the flat side adds no variance).
  const one = welchComparisons([
    { metric: "m", group: "flat", values: [1, 1, 1] },
    { metric: "m", group: "x", values: A },
  ]);
  assert.equal(one.rows.length, 1);
  assert.ok(Number.isFinite(one.rows[0]!.t) && Number.isFinite(one.rows[0]!.p));
});

function study(caseDistributions: CaseDistribution[]): ReportData {
  const metrics = (mean: number) => [{ name: "bias", mean, std: 0.1, n: 3 }];
  return {
    title: "Study pitfalls",
    kind: "study",
    config: {},
    manifest: {},
    metrics: [],
    configurations: [
      { params: { method: "ft" }, n: 3, metrics: metrics(0.3) },
      { params: { method: "memit" }, n: 3, metrics: metrics(0.6) },
    ],
    caseDistributions,
  };
}

const TITLE = "Welch t-tests between configurations (per-case values)";

test("renderReport: a study with two configurations shows the Welch table in Markdown and HTML", async () => {
  const { markdown, html } = await renderReport(
    study([
      { metric: "bias", group: "method=ft", values: A },
      { metric: "bias", group: "method=memit", values: B },
      { metric: "lonely", group: "method=ft", values: [0.1] },
      { metric: "lonely", group: "method=memit", values: [0.2, 0.3] },
    ]),
  );
  assert.ok(markdown.includes(`## ${TITLE}`), markdown);
  assert.ok(markdown.includes("| Metric | A | B | Mean A | Mean B | Diff | t | df | p | p (Holm) |"));
  // fmt: 4 significant digits for means / diff / t, 3 for df and p-values.
  assert.ok(markdown.includes("| bias | method=ft (n=6) | method=memit (n=5) | 0.2883 | 0.604 | -0.3157 | -3.989 | 8.1 | 0.00391 | 0.00391 |"), markdown);
  assert.match(markdown, /Not tested: lonely: method=ft vs method=memit \(needs ≥ 2 values per group \(have 1 and 2\)\)\./);
  assert.doesNotMatch(markdown.slice(markdown.indexOf(TITLE)), /NaN/);
  assert.ok(html.includes(`<h2>${TITLE}</h2>`));
  assert.ok(html.includes("<td>-3.989</td><td>8.1</td><td>0.00391</td>"));
});

test("renderReport: no Welch table with one configuration, nothing testable, or a run report", async () => {
  const single = await renderReport(study([{ metric: "bias", group: "method=ft", values: A }]));
  assert.ok(!single.markdown.includes(TITLE) && !single.html.includes(TITLE));
  const untestable = await renderReport(study([{ metric: "bias", group: "method=ft", values: [1] }, { metric: "bias", group: "method=memit", values: [2] }]));
  assert.ok(!untestable.markdown.includes(TITLE));
  const run = await renderReport({ ...study([{ metric: "bias", group: "edit", values: A }, { metric: "bias", group: "pre", values: B }]), kind: "run" });
  assert.ok(!run.markdown.includes(TITLE));
});

test("one-factor contrasts: only configurations that differ in one parameter are compared; filters skip metrics", () => {
  assert.equal(differInOneParameter("method=ft, probe=P21", "method=memit, probe=P21"), true);
  assert.equal(differInOneParameter("method=ft, probe=P21", "method=memit, probe=P103"), false);
  assert.equal(differInOneParameter("lr=0.1", "lr=0.2"), true);
  const d = (metric: string, group: string, values: number[]) => ({ metric, group, values });
  const dists = [
    d("m", "method=ft, probe=P21", [1, 2, 3]),
    d("m", "method=memit, probe=P21", [2, 3, 4]),
    d("m", "method=memit, probe=P103", [5, 6, 8]),
    d("m.pre", "method=ft, probe=P21", [1, 2, 3]),
    d("m.pre", "method=memit, probe=P21", [1, 2, 4]),
  ];
  const all = welchComparisons(dists);
  assert.equal(all.rows.length, 4, "three pairs of m, one of m.pre");
  const some = welchComparisons(dists, { metrics: (m) => !m.endsWith(".pre"), pairs: differInOneParameter });
  assert.deepEqual(some.rows.map((r) => [r.a, r.b]), [["method=ft, probe=P21", "method=memit, probe=P21"], ["method=memit, probe=P21", "method=memit, probe=P103"]]);
});

test("groups constant up to rounding (a batch's shared edit time) are not tested", () => {
  const a = [149.49, 149.49 + 2.8e-14, 149.49 - 2.8e-14];
  const b = [119.2, 119.2, 119.2 + 1.4e-14];
  const r = welchComparisons([{ metric: "edit_seconds", group: "method=memit", values: a }, { metric: "edit_seconds", group: "method=ft", values: b }]);
  assert.equal(r.rows.length, 0);
  assert.match(r.skipped[0]!.reason, /zero variance/);
});
