/** `scalpel run CONFIG`: validate, then run the experiment's stages, reusing finished ones. */
import type { Command } from "../command.js";
import { JSON_HELP, STORE_HELP, fmt, labFlags, onePositional, parseFlagsFor, printJson, withStore } from "./lab-shared.js";

export const run: Command = {
  name: "run",
  summary: "Run an experiment config (stages are cached by content hash)",
  usage: [
    "usage: scalpel run CONFIG [--store DIR] [--id RUN_ID] [--json]",
    "",
    "Validates CONFIG, then runs its stages in order. A stage whose inputs and config slice are",
    "unchanged is reused from the artifact store instead of recomputed. A study/sweep block is",
    "ignored here (use 'scalpel study' / 'scalpel sweep'); the base config runs once.",
    "",
    STORE_HELP,
    "  --id RUN_ID   use this run id (default: NAME-DATE-TIME-xxxx)",
    JSON_HELP,
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseFlagsFor("run", argv, { ...labFlags, id: { type: "string" } });
    const file = onePositional("run", positionals, "config file");
    const { loadExperiment } = await import("../../lab/config.js");
    const exp = await loadExperiment(file);
    const { startRun, newRunId } = await import("../../lab/experiment.js");
    const { stageProgress } = await import("./stage-progress.js");
    return withStore(values.store, async (store) => {
      const id = values.id ?? newRunId(exp.name);
      const hooks = stageProgress(!values.json);
      try {
        const outcome = await startRun(store, exp, hooks, id);
        if (values.json) printJson({ ok: true, ...outcome, store: store.dir });
        else {
          console.log(`run ${outcome.runId}: done (${outcome.stages.filter((st) => st.cached).length}/${outcome.stages.length} stages reused)`);
          for (const [k, v] of Object.entries(outcome.metrics)) console.log(`  ${k} = ${fmt(v)}`);
        }
        return 0;
      } catch (e) {
        if (values.json) {
          printJson({ ok: false, runId: id, error: (e as Error).message });
          return 1;
        }
        console.error(`run ${id} failed: ${(e as Error).message}\n  resume it with: scalpel resume ${id}${values.store ? ` --store ${values.store}` : ""}`);
        return 1;
      }
    });
  },
};
