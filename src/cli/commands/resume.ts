/** `scalpel resume RUN|STUDY`: finish an interrupted run or study without redoing finished work. */
import type { Command } from "../command.js";
import { JSON_HELP, STORE_HELP, fmt, labFlags, onePositional, parseFlagsFor, printJson, withStore } from "./lab-shared.js";
import { printStudyResult, studyProgress } from "./study-shared.js";

export const resume: Command = {
  name: "resume",
  summary: "Finish an interrupted run or study (finished stages and trials are kept)",
  usage: [
    "usage: scalpel resume RUN_ID|STUDY_NAME [--store DIR] [--json]",
    "",
    "A study: trials left unfinished by a crash (even SIGKILL) are re-run with the same params and",
    "seed, then new trials are asked until the study is complete. A run: its stages are run again;",
    "those whose artifacts exist are reused. Nothing is duplicated.",
    "",
    STORE_HELP,
    JSON_HELP,
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseFlagsFor("resume", argv, labFlags);
    const target = onePositional("resume", positionals, "run id or study name");
    const { getStudy } = await import("../../lab/store/studies.js");
    return withStore(values.store, async (store) => {
      const study = getStudy(store.db, target);
      if (study) {
        const { driveStudy } = await import("../../lab/study/driver.js");
        const progress = studyProgress(study.name, Boolean(values.json));
        const result = await driveStudy(store, study, progress);
        progress.finish();
        printStudyResult(result, Boolean(values.json), store.dir);
        return result.counts.running > 0 ? 1 : 0;
      }
      const { resumeRun } = await import("../../lab/experiment.js");
      const { stageProgress } = await import("./stage-progress.js");
      const outcome = await resumeRun(store, target, stageProgress(!values.json));
      if (values.json) printJson({ ok: true, ...outcome, store: store.dir });
      else {
        console.log(`run ${outcome.runId}: done (${outcome.stages.filter((st) => st.cached).length}/${outcome.stages.length} stages reused)`);
        for (const [k, v] of Object.entries(outcome.metrics)) console.log(`  ${k} = ${fmt(v)}`);
      }
      return 0;
    });
  },
};
