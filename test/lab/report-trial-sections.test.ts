/**
 * A study's report carries its trials' own report sections: a sweep stacks every trial's tables
 * (same columns → one table, rows prefixed by trial and parameters); a search shows its best
 * trial's. Figures come from the best trial.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseExperiment } from "../../src/lab/config.js";
import { registerKind } from "../../src/lab/kinds/registry.js";
import type { ExperimentKind } from "../../src/lab/kinds/types.js";
import { renderReport } from "../../src/lab/report/render.js";
import { writeReportSection } from "../../src/lab/report/section.js";
import { stackTrialTables } from "../../src/lab/report/trial-sections.js";
import { s } from "../../src/lab/schema/schema.js";
import { reportData } from "../../src/lab/store/report-data.js";
import { openStore } from "../../src/lab/store/store.js";
import { runStudy } from "../../src/lab/study/driver.js";

const pitfalls = (method: string, rows: string[][]) => ({ title: `${method}: pitfalls`, header: ["measure", "pre", "post"], rows, note: "pre/post per case." });

test("tables with the same columns stack into one, rows prefixed by trial and the parameters that vary", () => {
  const tables = stackTrialTables([
    { number: 1, params: { method: "memit", probe: "P21", seed: 0 }, sections: [{ tables: [pitfalls("memit", [["probe.correct", "1", "0.97"]])], figures: [] }] },
    {
      number: 0,
      params: { method: "ft", probe: "P21", seed: 0 },
      sections: [{ tables: [pitfalls("ft", [["probe.correct", "1", "0.56"], ["p_diff", "0.99", "0.05"]]), { title: "timing", header: ["stage", "s"], rows: [["edit", "12"]] }], figures: [] }],
    },
  ]);
  assert.deepEqual(tables, [
    {
      title: "Trials' section tables (1 of 2; 2 trials)",
      header: ["Trial", "method", "measure", "pre", "post"],
      rows: [
        ["0", "ft", "probe.correct", "1", "0.56"],
        ["0", "ft", "p_diff", "0.99", "0.05"],
        ["1", "memit", "probe.correct", "1", "0.97"],
      ],
      note: "pre/post per case.",
    },
    { title: "timing, every trial (1 trial)", header: ["Trial", "stage", "s"], rows: [["0", "edit", "12"]] },
  ]);
  assert.deepEqual(stackTrialTables([{ number: 0, params: {}, sections: [] }]), []);
  // Two tables of one trial with the same columns: their titles become a column.
  const two = stackTrialTables([{ number: 4, params: { method: "ft" }, sections: [{ tables: [pitfalls("a", [["m", "1", "2"]]), pitfalls("b", [["m", "3", "4"]])], figures: [] }] }]);
  assert.deepEqual(two.map((t) => [t.header, t.rows]), [[["Trial", "Table", "measure", "pre", "post"], [["4", "a: pitfalls", "m", "1", "2"], ["4", "b: pitfalls", "m", "3", "4"]]]]);
});

// A kind whose one stage writes a section: a table with its x and x², and a figure.
const sectionedKind: ExperimentKind<{ x: number }> = {
  name: "test-sectioned",
  version: "1",
  description: "writes a report section",
  schema: s.object({ x: s.int().default(1) }),
  objective: { metric: "square", direction: "minimize" },
  stages: [
    {
      name: "square",
      after: [],
      uses: (c) => c.x,
      run: async (ctx) => {
        ctx.metric("square", ctx.config.x ** 2);
        const spec = { data: { values: [{ x: ctx.config.x }] }, mark: "point" as const, encoding: { x: { field: "x", type: "quantitative" as const } } };
        await writeReportSection(ctx.dir, { tables: [{ title: "squares", header: ["x", "x²"], rows: [[String(ctx.config.x), String(ctx.config.x ** 2)]] }], figures: [{ title: "where x is", spec }] });
        return ctx.config.x ** 2;
      },
    },
  ],
};
registerKind(sectionedKind);

test("a sweep's report stacks every trial's section tables and shows the best trial's figures", async () => {
  const store = openStore(mkdtempSync(path.join(os.tmpdir(), "scalpel-trial-sections-")));
  try {
    await runStudy(store, parseExperiment({ kind: "test-sectioned", name: "sq", sweep: { type: "grid", values: { x: [3, -1, 2] } } }));
    const data = reportData(store, "sq");
    const [section] = data.sections!;
    assert.equal(section!.tables.length, 1);
    const table = section!.tables[0]!;
    assert.deepEqual(table.header, ["Trial", "x", "x", "x²"]);
    assert.deepEqual(table.rows.map((r) => r.slice(2)).sort(), [["-1", "1"], ["2", "4"], ["3", "9"]]);
    for (const r of table.rows) assert.equal(r[1], r[2], "each row's parameter column is its own trial's x");
    // Best = smallest square: x = -1, whose figure alone is shown.
    assert.deepEqual(section!.figures.map((f) => f.title), [`Trial ${table.rows.find((r) => r[1] === "-1")![0]} (x=-1): where x is`]);
    assert.match(section!.figures[0]!.svg, /<svg/);
    const { markdown } = await renderReport(data);
    assert.match(markdown, /## squares, every trial \(3 trials\)/);
  } finally {
    store.close();
  }
});

test("a search's report shows only its best trial's sections", async () => {
  const store = openStore(mkdtempSync(path.join(os.tmpdir(), "scalpel-trial-sections-")));
  try {
    await runStudy(store, parseExperiment({ kind: "test-sectioned", name: "sq-search", study: { n_trials: 4, sampler: "random", space: { x: { type: "int", low: -5, high: 5 } } } }));
    const data = reportData(store, "sq-search");
    const best = Math.min(...data.trials!.map((t) => t.value!));
    const rows = data.sections![0]!.tables[0]!.rows;
    assert.equal(rows.length, 1);
    assert.equal(Number(rows[0]!.at(-1)), best);
  } finally {
    store.close();
  }
});
