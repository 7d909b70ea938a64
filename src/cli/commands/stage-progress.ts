/** Progress bars for a run's stages (one bar per stage that reports progress). */
import type { RunHooks } from "../../lab/runner.js";
import { Progress } from "../../lab/progress.js";

export function stageProgress(enabled: boolean): RunHooks {
  let bar: Progress | undefined;
  let barStage = "";
  return {
    onStage(stage, event) {
      if (event !== "done") return;
      if (bar && barStage === stage) bar.finish();
      bar = undefined;
    },
    onProgress(stage, done, total) {
      if (!enabled) return;
      if (!bar || barStage !== stage) {
        bar = new Progress({ label: stage, total });
        barStage = stage;
      }
      bar.update(done);
    },
  };
}
