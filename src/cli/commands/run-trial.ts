/** `scalpel run-trial`: the worker side of a study — runs one trial attempt and records it. Started by executors, not by hand. */
import type { Command } from "../command.js";
import { UsageError } from "../../errors.js";
import { parseFlagsFor } from "./lab-shared.js";

export const runTrialCommand: Command = {
  name: "run-trial",
  hidden: true,
  summary: "(internal) Run one trial of a stored study; used by executors' worker processes",
  usage: [
    "usage: scalpel run-trial --store DIR --study NAME --trial N --attempt K",
    "",
    "Runs attempt K of trial N and records its state and value in the store. Exits 0 when the",
    "trial was recorded (complete, pruned or failed), 1 when this attempt was superseded.",
  ].join("\n"),
  async run(argv) {
    const { values } = parseFlagsFor("run-trial", argv, {
      store: { type: "string" },
      study: { type: "string" },
      trial: { type: "string" },
      attempt: { type: "string" },
    });
    const int = (name: "trial" | "attempt") => {
      const n = Number(values[name]);
      if (!Number.isInteger(n) || n < 0) throw new UsageError("USAGE", `scalpel run-trial: --${name} must be a whole number, got '${values[name] ?? ""}'`);
      return n;
    };
    if (!values.study) throw new UsageError("USAGE", "scalpel run-trial: --study is required");
    const { watchParent } = await import("../../lab/executors/local.js");
    const { removeOwnScratch } = await import("../../lab/artifacts.js");
    const { withStore } = await import("./lab-shared.js");
    const { requireStudy } = await import("../../lab/store/studies.js");
    const { runTrial, StaleAttempt } = await import("../../lab/study/trial.js");
    await import("../../lab/study/builtin-search.js");
    return withStore(values.store, async (store) => {
      // Orphaned (the driver was killed): leave no half-written stage output behind.
      watchParent(() => removeOwnScratch(store.artifactsDir));
      try {
        const outcome = await runTrial(store, requireStudy(store.db, values.study!), int("trial"), int("attempt"));
        console.log(JSON.stringify(outcome));
        return 0;
      } catch (e) {
        if (e instanceof StaleAttempt) {
          console.error(e.message);
          return 1;
        }
        throw e;
      }
    });
  },
};
