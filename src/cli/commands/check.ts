/** `scalpel check CONFIG`: validate an experiment config without running anything. */
import type { Command } from "../command.js";
import { ScalpelError } from "../../errors.js";
import { JSON_HELP, onePositional, parseFlagsFor, printJson } from "./lab-shared.js";

export const check: Command = {
  name: "check",
  summary: "Validate an experiment config (YAML/JSON) without running it",
  usage: [
    "usage: scalpel check CONFIG [--json] [--print]",
    "",
    "Validates CONFIG against its experiment kind's schema: unknown keys and misspelled values are",
    "errors naming the closest valid choice. Exits 0 when valid, 1 otherwise.",
    "",
    "  --print       print the resolved config (every default filled in)",
    JSON_HELP,
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseFlagsFor("check", argv, { json: { type: "boolean" }, print: { type: "boolean" } });
    const file = onePositional("check", positionals, "config file");
    const { loadExperiment } = await import("../../lab/config.js");
    try {
      const exp = await loadExperiment(file);
      if (values.json) {
        printJson({ ok: true, file, kind: exp.kind.name, name: exp.name, mode: exp.mode, seed: exp.seed, config: exp.config, study: exp.study ?? null });
        return 0;
      }
      const what = exp.study ? `${exp.mode} '${exp.study.name}' (${exp.study.nTrials} trials, sampler ${exp.study.sampler.type}, pruner ${exp.study.pruner.type})` : "a single run";
      console.log(`${file}: ok — kind ${exp.kind.name}, ${what}`);
      if (values.print) {
        const YAML = (await import("yaml")).default;
        console.log(YAML.stringify({ kind: exp.kind.name, name: exp.name, seed: exp.seed, config: exp.config, ...(exp.study ? { study: exp.study } : {}) }).trimEnd());
      }
      return 0;
    } catch (e) {
      if (values.json && e instanceof ScalpelError) {
        printJson({ ok: false, file, code: e.code, field: e.field ?? null, message: e.message });
        return 1;
      }
      throw e;
    }
  },
};
