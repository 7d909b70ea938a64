/** `scalpel sweep CONFIG`: create or continue the sweep described by CONFIG's `sweep:` block. */
import type { Command } from "../command.js";
import { JSON_HELP, STORE_HELP } from "./lab-shared.js";
import { runStudyCommand } from "./study-shared.js";

export const sweep: Command = {
  name: "sweep",
  summary: "Run a grid or random sweep from a config's sweep block",
  usage: [
    "usage: scalpel sweep CONFIG [--store DIR] [--json]",
    "",
    "Validates CONFIG, then runs the trials of its 'sweep:' block, each as a run of the config's kind",
    "with the trial's parameters applied. The study persists in the store: running the same",
    "command again (or 'scalpel resume NAME') continues it; a failed trial is recorded with its",
    "error and the study goes on. Trials run in parallel worker processes when parallel > 1.",
    "",
    STORE_HELP,
    JSON_HELP,
  ].join("\n"),
  run: (argv) => runStudyCommand("sweep", argv),
};
