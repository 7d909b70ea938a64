/** `scalpel study CONFIG`: create or continue the study described by CONFIG's `study:` block. */
import type { Command } from "../command.js";
import { UsageError } from "../../errors.js";
import { JSON_HELP, STORE_HELP, labFlags, onePositional, parseFlagsFor, withStore } from "./lab-shared.js";
import { printStudyResult, studyProgress } from "./study-shared.js";

export const study: Command = {
  name: "study",
  summary: "Run a hyper-parameter search (TPE/random/grid, pruning) from a config's study block",
  usage: [
    "usage: scalpel study CONFIG [--store DIR] [--json]",
    "",
    "Validates CONFIG, then runs the trials of its 'study:' block, each as a run of the config's kind",
    "with the trial's parameters applied. The study persists in the store: running the same",
    "command again (or 'scalpel resume NAME') continues it; a failed trial is recorded with its",
    "error and the study goes on. Trials run in parallel worker processes when parallel > 1.",
    "",
    STORE_HELP,
    JSON_HELP,
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseFlagsFor("study", argv, labFlags);
    const file = onePositional("study", positionals, "config file");
    const { loadExperiment } = await import("../../lab/config.js");
    const exp = await loadExperiment(file);
    if (exp.mode !== "study") {
      const other = exp.mode === "run" ? "scalpel run" : `scalpel ${exp.mode}`;
      throw new UsageError("WRONG_MODE", `${file} has no 'study:' block`, { file, fix: `add a 'study:' block, or use '${other} ${file}'` });
    }
    const { runStudy } = await import("../../lab/study/driver.js");
    return withStore(values.store, async (store) => {
      const progress = studyProgress(exp.study!.name, Boolean(values.json));
      const result = await runStudy(store, exp, progress);
      progress.finish();
      printStudyResult(result, Boolean(values.json), store.dir);
      return result.counts.running > 0 ? 1 : 0;
    });
  },
};
