import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { renderReport } from "../../src/lab/report/render.js";
import { writeReport } from "../../src/lab/report/write.js";
import { varianceImportance } from "../../src/lab/report/importance.js";
import type { ReportData, ReportTrial } from "../../src/lab/report/types.js";

/** A 12-trial study: value = (x − 1)² + [cat = "b"], y irrelevant; trials 3 and 7 pruned. */
function studyData(): ReportData {
  const trials: ReportTrial[] = [];
  for (let i = 0; i < 12; i++) {
    const x = -2 + i * 0.37;
    const cat = i % 3 === 0 ? "b" : "a";
    const y = (i * 7) % 5;
    const value = Number(((x - 1) ** 2 + (cat === "b" ? 1 : 0)).toFixed(4));
    const pruned = i === 3 || i === 7;
    const intermediate: [number, number][] = [0, 1, 2].slice(0, pruned ? 2 : 3).map((s) => [s, Number((value + 1 / (s + 1)).toFixed(4))]);
    trials.push({ number: i, state: pruned ? "pruned" : "complete", params: { x, y, cat }, value: pruned ? intermediate[1]![1] : value, intermediate });
  }
  return {
    title: "Study quad-42 <test>",
    kind: "study",
    config: { study: { sampler: { type: "tpe" }, n_trials: 12 }, seed: 42 },
    manifest: {
      seed: 42,
      git: { commit: "abc1234", dirty: true },
      versions: { scalpel: "0.1.0", node: "v20.20.2" },
      machine: { host: "n1", cpus: "2" },
      startedAt: "2026-11-22T06:00:00Z",
      finishedAt: "2026-11-22T06:05:00Z",
    },
    metrics: [
      { name: "best value", mean: 0.512, std: 0.034, n: 5, ciLow: 0.47, ciHigh: 0.55, ciMethod: "BCa bootstrap", definition: "min objective", version: "1" },
      { name: "steps", mean: 31.5, std: 2.25, n: 5 },
    ],
    trials,
    direction: "minimize",
    objective: "loss",
  };
}

const figures = (html: string) =>
  [...html.matchAll(/<figure>\n([\s\S]*?)\n<figcaption>(.*?)<\/figcaption>/g)].map((m) => ({ svg: m[1]!, title: m[2]! }));
const points = (svg: string) => (svg.match(/aria-roledescription="point"/g) ?? []).length;
const labels = (svg: string) => [...svg.matchAll(/aria-label="([^"]*)" role="graphics-symbol"/g)].map((m) => m[1]!);

test("study report: plots hold every trial, tables hold the numbers, HTML is self-contained", async () => {
  const data = studyData();
  const { html, markdown } = await renderReport(data);

  // Self-contained: no URLs, scripts, external references.
  assert.doesNotMatch(html, /https?:\/\//);
  assert.doesNotMatch(html, /<script|<link|<img|src=|url\(/i);
  assert.match(html, /Content-Security-Policy/);
  assert.match(html, /Study quad-42 &lt;test&gt;/); // escaped

  const figs = figures(html);
  const byTitle = (t: string) => figs.find((f) => f.title === t)?.svg ?? assert.fail(`no figure '${t}' in ${figs.map((f) => f.title)}`);

  // History: one symbol per trial with a value (complete and pruned), values readable in labels.
  const hist = byTitle("Study history");
  assert.equal(points(hist), 12);
  const histLabels = labels(hist);
  for (const t of data.trials!) assert.ok(histLabels.some((l) => l.includes(`trial: ${t.number};`) && l.includes(`loss: ${t.value};`)), `trial ${t.number} in ${histLabels[0]}`);
  // Best-so-far line drawn as a path.
  assert.match(hist, /role-mark[^>]*aria-roledescription="line mark container"|mark-line/);

  // Metric vs parameter: complete trials only (10), one plot per parameter.
  const vx = byTitle("loss vs x");
  assert.equal(points(vx), 10);
  const xLabels = labels(vx);
  // Trial 0: x = −2, cat = "b": (x − 1)² + 1 = 10 (vega formats negatives with U+2212).
  assert.ok(xLabels.some((l) => l.includes("x: \u22122; loss: 10")), xLabels.join(" / "));
  assert.equal(points(byTitle("loss vs cat")), 10);
  assert.equal(points(byTitle("loss vs y")), 10);

  // Curves over steps: 10 × 3 + 2 × 2 intermediate values.
  assert.equal(points(byTitle("intermediate value over steps")), 34);

  // Importance bars: one per parameter, method named in the page.
  const imp = byTitle("Parameter importance");
  assert.equal((imp.match(/aria-roledescription="bar"/g) ?? []).length, 3);
  assert.match(html, /variance-based first-order importance/);
  assert.match(html, /not fANOVA/);

  // Metrics chart: 2 points with CI rules.
  assert.equal(points(byTitle("Metrics")), 2);

  // Markdown: metric table with ± and CI, manifest, trials.
  assert.match(markdown, /\| best value \| 0\.512 ± 0\.034 \| 5 \| 95% \[0\.47, 0\.55\] \(BCa bootstrap\) \| min objective v1 \|/);
  assert.match(markdown, /\| steps \| 31\.5 ± 2\.25 \| 5 \|/);
  assert.match(markdown, /\| git commit \| abc1234 \(dirty\) \|/);
  assert.match(markdown, /\| seed \| 42 \|/);
  for (const t of data.trials!) assert.match(markdown, new RegExp(`\\| ${t.number} \\| ${t.state} \\| ${String(Number(t.value!.toPrecision(4))).replace(".", "\\.")} \\|`));
  // Best trial: the smallest complete value.
  const best = data.trials!.filter((t) => t.state === "complete").reduce((b, t) => (t.value! < b.value! ? t : b));
  assert.match(markdown.split("## Best trial")[1]!.split("##")[0]!, new RegExp(`\\| ${best.number} \\| complete \\|`));
  assert.match(markdown, /```json\n\{\n {2}"study"/);
});

test("run report: metric table and curves, no study sections", async () => {
  const data: ReportData = {
    title: "run r1",
    kind: "run",
    config: { method: "rome" },
    manifest: { seed: 1 },
    metrics: [{ name: "efficacy", mean: 0.9, std: 0.05, n: 3, ciLow: 0.85, ciHigh: 0.95 }],
    series: [0, 1, 2, 3].flatMap((s) => [
      { metric: "loss", step: s, value: 2 / (s + 1), group: "seed 0" },
      { metric: "loss", step: s, value: 2.2 / (s + 1), group: "seed 1" },
    ]),
  };
  const { html, markdown } = await renderReport(data);
  const figs = figures(html);
  assert.deepEqual(figs.map((f) => f.title), ["Metrics", "loss over steps"]);
  assert.equal(points(figs[1]!.svg), 8);
  assert.ok(labels(figs[1]!.svg).some((l) => l.includes("loss: 0.55")), "2.2 / 4 = 0.55 appears");
  assert.doesNotMatch(markdown, /## Trials/);
  assert.match(markdown, /\| efficacy \| 0\.9 ± 0\.05 \| 3 \| 95% \[0\.85, 0\.95\] \|/);
  assert.doesNotMatch(html, /https?:\/\//);
});

test("variance importance ranks the parameter that drives the objective first", () => {
  const trials: ReportTrial[] = Array.from({ length: 40 }, (_, i) => {
    const a = i % 10;
    const noise = Math.floor(i / 10); // balanced design: independent of a
    return { number: i, state: "complete", params: { a, noise }, value: a * a + 0.01 * noise };
  });
  const imp = varianceImportance(trials);
  assert.equal(imp[0]!.param, "a");
  assert.ok(imp[0]!.importance > 0.99, JSON.stringify(imp));
  assert.ok(Math.abs(imp.reduce((s, i) => s + i.importance, 0) - 1) < 1e-12);
});

test("writeReport writes report.html and report.md atomically", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "scalpel-report-"));
  try {
    const files = await writeReport(studyData(), dir);
    assert.match(readFileSync(files.html, "utf8"), /^<!doctype html>/);
    assert.match(readFileSync(files.markdown, "utf8"), /^# Study quad-42/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("summarizeMetric: mean ± std, t interval (R t.test) and seeded BCa interval", async () => {
  const { summarizeMetric } = await import("../../src/lab/report/summarize.js");
  const g1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
  // R: t.test(sleep$extra[1:10]) -> mean 0.75, 95% CI -0.5297804 2.0297804.
  const t = summarizeMetric("extra", g1, { ci: "t" });
  assert.equal(t.n, 10);
  assert.ok(Math.abs(t.mean - 0.75) < 1e-12);
  assert.ok(Math.abs(t.std! - 1.7890096577591625) < 1e-12);
  assert.ok(Math.abs(t.ciLow! - -0.5297804) < 1e-6 && Math.abs(t.ciHigh! - 2.0297804) < 1e-6, `${t.ciLow} ${t.ciHigh}`);
  const b = summarizeMetric("extra", g1, { seed: 3, nResamples: 2000 });
  assert.ok(b.ciLow! < 0.75 && 0.75 < b.ciHigh!);
  assert.match(b.ciMethod!, /BCa bootstrap \(2000 resamples, seed 3\)/);
  assert.deepEqual(summarizeMetric("extra", g1, { seed: 3, nResamples: 2000 }), b);
  const flat = summarizeMetric("c", [2, 2, 2]);
  assert.deepEqual([flat.ciLow, flat.ciHigh], [2, 2]);
  assert.equal(summarizeMetric("one", [5]).std, undefined);
});
