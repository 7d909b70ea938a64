/** What `scalpel study`, `scalpel sweep` and `scalpel resume STUDY` share: driving a study with a progress bar and printing its result. */
import type { StudyResult, StudyRunOptions } from "../../lab/study/driver.js";
import { Progress } from "../../lab/progress.js";
import { UsageError } from "../../errors.js";
import { fmt, labFlags, onePositional, parseFlagsFor, printJson, withStore } from "./lab-shared.js";

export function studyProgress(label: string, json: boolean): Pick<StudyRunOptions, "onProgress"> & { finish(): void } {
  let bar: Progress | undefined;
  return {
    onProgress(finished, total, best) {
      if (json) return;
      bar ??= new Progress({ label, total });
      bar.update(finished, best === undefined ? "" : `best ${fmt(best)}`);
    },
    finish: () => bar?.finish(),
  };
}

export function printStudyResult(result: StudyResult, json: boolean, storeDir: string): void {
  if (json) {
    printJson({ ok: true, ...result, store: storeDir });
    return;
  }
  const { counts } = result;
  console.log(
    `${result.mode} ${result.study}: ${counts.complete} complete, ${counts.pruned} pruned, ${counts.fail} failed` +
      `${counts.running ? `, ${counts.running} unfinished` : ""} of ${result.nTrials} (${result.executor}, ${result.workers} worker${result.workers > 1 ? "s" : ""}, ${result.totalSteps} steps)`,
  );
  if (result.best) console.log(`  best: trial ${result.best.number} value ${fmt(result.best.value)} params ${JSON.stringify(result.best.params)}`);
  if (result.final) {
    const f = result.final;
    const shown = Object.entries(f.metrics).map(([k, v]) => `${k} ${fmt(v)}`).join(", ");
    console.log(`  final (${f.description}; trial ${f.trial}'s configuration, run ${f.runId}): ${shown}`);
  }
  if (counts.running) console.log(`  unfinished trials remain: scalpel resume ${result.study}`);
}

/**
 * The body of `scalpel study` and `scalpel sweep` (a sweep is a study with a grid or random sampler
 * and no pruner): validate CONFIG, check it has the right block, run or continue it.
 */
export async function runStudyCommand(mode: "study" | "sweep", argv: string[]): Promise<number> {
  const { values, positionals } = parseFlagsFor(mode, argv, labFlags);
  const file = onePositional(mode, positionals, "config file");
  const { loadExperiment } = await import("../../lab/config.js");
  const exp = await loadExperiment(file);
  if (exp.mode !== mode) {
    const other = exp.mode === "run" ? "scalpel run" : `scalpel ${exp.mode}`;
    throw new UsageError("WRONG_MODE", `${file} has no '${mode}:' block`, { file, fix: `add a '${mode}:' block, or use '${other} ${file}'` });
  }
  const { runStudy } = await import("../../lab/study/driver.js");
  return withStore(values.store, async (store) => {
    const progress = studyProgress(exp.study!.name, Boolean(values.json));
    const result = await runStudy(store, exp, progress);
    progress.finish();
    printStudyResult(result, Boolean(values.json), store.dir);
    return result.counts.running > 0 ? 1 : 0;
  });
}
