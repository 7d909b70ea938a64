/** The command registry: add one line per command file. */
import type { Command } from "../command.js";
import { check } from "./check.js";
import { run } from "./run.js";
import { resume } from "./resume.js";
import { study } from "./study.js";
import { sweep } from "./sweep.js";
import { runs } from "./runs.js";
import { runTrialCommand } from "./run-trial.js";
import { report } from "./report.js";
import { forwardCommand } from "./forward.js";
import { generateCommand } from "./generate.js";
import { inspectCommand } from "./inspect.js";

export const commands: Command[] = [
  check,
  run,
  resume,
  study,
  sweep,
  runs,
  runTrialCommand,
  report,
  forwardCommand,
  generateCommand,
  inspectCommand,
];
