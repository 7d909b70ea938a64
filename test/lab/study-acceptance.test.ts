/**
 * Acceptance: through the study runner (store, trials, stages), 50 TPE trials on Branin beat
 * random search's median best value over 10 seeds.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseExperiment } from "../../src/lab/config.js";
import { openStore } from "../../src/lab/store/store.js";
import { runStudy } from "../../src/lab/study/driver.js";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
};

async function bestValue(sampler: unknown, seed: number): Promise<number> {
  const store = openStore(mkdtempSync(path.join(os.tmpdir(), "scalpel-accept-")));
  const exp = parseExperiment({
    kind: "optimize-function",
    name: "branin",
    seed,
    config: { function: "branin", steps: 1 },
    study: { n_trials: 50, sampler, space: { x0: { type: "float", low: -5, high: 10 }, x1: { type: "float", low: 0, high: 15 } } },
  });
  const result = await runStudy(store, exp);
  store.close();
  assert.equal(result.counts.complete, 50);
  return result.best!.value;
}

test("50 TPE trials beat random search's median best value on Branin over 10 seeds", { timeout: 600_000 }, async () => {
  const tpe: number[] = [];
  const random: number[] = [];
  for (let seed = 0; seed < 10; seed++) {
    tpe.push(await bestValue({ type: "tpe", n_startup_trials: 10 }, seed));
    random.push(await bestValue("random", seed));
  }
  const [mt, mr] = [median(tpe), median(random)];
  console.log(`# median best over 10 seeds: TPE ${mt.toFixed(4)}, random ${mr.toFixed(4)} (optimum 0.3979)`);
  assert.ok(mt < mr, `TPE ${mt} should beat random ${mr}`);
});
