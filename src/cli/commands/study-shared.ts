/** What `scalpel study`, `scalpel sweep` and `scalpel resume STUDY` share: driving a study with a progress bar and printing its result. */
import type { StudyResult, StudyRunOptions } from "../../lab/study/driver.js";
import { Progress } from "../../lab/progress.js";
import { fmt, printJson } from "./lab-shared.js";

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
  if (counts.running) console.log(`  unfinished trials remain: scalpel resume ${result.study}`);
}
