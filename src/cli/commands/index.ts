/**
 * The command registry: name → loader. Commands load lazily so that a quick command (`scalpel check`)
 * does not pay for importing the model and tensor stack. Add one line per command file.
 */
import type { Command } from "../command.js";

export const commands: Record<string, () => Promise<Command>> = {
  "check": async () => (await import("./check.js")).check,
  "run": async () => (await import("./run.js")).run,
  "resume": async () => (await import("./resume.js")).resume,
  "study": async () => (await import("./study.js")).study,
  "sweep": async () => (await import("./sweep.js")).sweep,
  "runs": async () => (await import("./runs.js")).runs,
  "run-trial": async () => (await import("./run-trial.js")).runTrialCommand,
  "report": async () => (await import("./report.js")).report,
  "forward": async () => (await import("./forward.js")).forwardCommand,
  "generate": async () => (await import("./generate.js")).generateCommand,
  "inspect": async () => (await import("./inspect.js")).inspectCommand,
  "demo": async () => (await import("./demo.js")).demoCommand,
  "eval": async () => (await import("./eval.js")).evalCommand,
  "train": async () => (await import("./train.js")).trainCommand,
  "edit": async () => (await import("./edit.js")).editCommand,
  "edit-eval": async () => (await import("./edit-eval.js")).editEvalCommand,
  "trace": async () => (await import("./trace.js")).traceCommand,
  "train-default": async () => (await import("./train-default.js")).trainDefaultCommand,
  "steer": async () => (await import("./steer.js")).steerCommand,
  "steer-sweep": async () => (await import("./steer-sweep.js")).steerSweepCommand,
  "attack": async () => (await import("./attack.js")).attackCommand,
  "lora": async () => (await import("./lora.js")).loraCommand,
  "mend": async () => (await import("./mend.js")).mendCommand,
  "sae": async () => (await import("./sae.js")).saeCommand,
  "lab": async () => (await import("./lab.js")).labCommand,
  "agreement": async () => (await import("./agreement.js")).agreementCommand,
};
