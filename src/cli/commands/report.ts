/** `scalpel report RUN|STUDY`: a self-contained HTML page and a Markdown summary from the store. */
import path from "node:path";
import type { Command } from "../command.js";
import { JSON_HELP, STORE_HELP, labFlags, onePositional, parseFlagsFor, printJson, withStore } from "./lab-shared.js";

export const report: Command = {
  name: "report",
  summary: "Write an HTML report (plots, tables, manifest) and a Markdown summary of a run or study",
  usage: [
    "usage: scalpel report RUN_ID|STUDY_NAME [--store DIR] [--out DIR] [--json]",
    "",
    "Reads the run or study from the store and writes report.html (self-contained: inline SVG plots,",
    "no scripts or external resources) and report.md.",
    "",
    STORE_HELP,
    "  --out DIR     where to write (default: STORE/reports/NAME)",
    JSON_HELP,
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseFlagsFor("report", argv, { ...labFlags, out: { type: "string" } });
    const target = onePositional("report", positionals, "run id or study name");
    const { reportData } = await import("../../lab/store/report-data.js");
    const { writeReport } = await import("../../lab/report/write.js");
    return withStore(values.store, async (store) => {
      const data = reportData(store, target);
      const out = values.out ?? path.join(store.dir, "reports", target.replace(/[^A-Za-z0-9._-]/g, "_"));
      const files = await writeReport(data, out);
      if (values.json) printJson({ ok: true, ...files });
      else console.log(`wrote ${files.html}\n      ${files.markdown}`);
      return 0;
    });
  },
};
