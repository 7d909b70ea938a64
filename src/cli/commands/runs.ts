/** `scalpel runs [ID]`: list the studies and runs in the store, or show one in detail. */
import type { Command } from "../command.js";
import { JSON_HELP, STORE_HELP, fmt, labFlags, parseFlagsFor, printJson, withStore } from "./lab-shared.js";

export const runs: Command = {
  name: "runs",
  summary: "List studies and runs in the store, or show one (manifest, stages, metrics)",
  usage: [
    "usage: scalpel runs [RUN_ID|STUDY_NAME] [--store DIR] [--json]",
    "",
    "Without an argument: every study (trial counts, best value) and every standalone run.",
    "With one: its manifest (seed, git commit, versions, machine, times), resolved config,",
    "stages (reused or computed) and summary metrics; for a study, its trials.",
    "",
    STORE_HELP,
    JSON_HELP,
  ].join("\n"),
  async run(argv) {
    const { values, positionals } = parseFlagsFor("runs", argv, labFlags);
    const { describeStore, describeTarget } = await import("../../lab/store/describe.js");
    return withStore(values.store, async (store) => {
      if (positionals.length === 0) {
        const d = describeStore(store);
        if (values.json) return void printJson(d);
        if (d.studies.length === 0 && d.runs.length === 0) console.log(`(no studies or runs in ${store.dir})`);
        for (const s of d.studies) {
          console.log(`study ${s.name}  [${s.status}] ${s.kind}  trials ${s.finished}/${s.nTrials} (${s.counts.complete} complete, ${s.counts.pruned} pruned, ${s.counts.fail} failed)  best ${fmt(s.best ?? undefined)}`);
        }
        for (const r of d.runs) console.log(`run   ${r.id}  [${r.status}] ${r.kind}  ${Object.entries(r.metrics).map(([k, v]) => `${k}=${fmt(v)}`).join(" ")}`);
        return 0;
      }
      const detail = describeTarget(store, positionals[0]!);
      if (values.json) return void printJson(detail);
      const YAML = (await import("yaml")).default;
      console.log(YAML.stringify(detail).trimEnd());
      return 0;
    });
  },
};
