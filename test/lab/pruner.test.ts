import { test } from "node:test";
import assert from "node:assert/strict";
import { MedianPruner, PercentilePruner, isFirstInIntervalStep } from "../../src/analysis/search/pruner.js";
import { TPESampler } from "../../src/analysis/search/tpe.js";
import type { Direction, FrozenTrial, Pruner, SearchSpace } from "../../src/analysis/search/types.js";

const done = (number: number, curve: number[]): FrozenTrial => ({
  number, state: "complete", params: {}, value: curve[curve.length - 1], intermediate: new Map(curve.map((v, s) => [s, v])),
});
const running = (number: number, curve: [number, number][]): FrozenTrial => ({ number, state: "running", params: {}, intermediate: new Map(curve) });

// Every verdict below was cross-checked with optuna 5.0.0: pruner.prune(study, create_trial(...)) on a
// study holding the same complete trials gives the same True/False.
test("median pruner: startup trials, median at the step, best-so-far, direction", () => {
  // Five complete trials; at step 2 they reported 1, 2, 3, 4, 5 -> median 3.
  const hist = [1, 2, 3, 4, 5].map((v, i) => done(i, [10, 10 - v, v]));
  const p = new MedianPruner();
  // Best so far = min(9, 4) = 4 > 3 -> prune.
  assert.equal(p.shouldPrune(running(9, [[0, 9], [1, 8], [2, 4]]), 2, hist, "minimize"), true);
  // Best so far uses earlier steps: 2.5 at step 1 <= 3 -> keep, even though step 2 reported 4.
  assert.equal(p.shouldPrune(running(9, [[0, 9], [1, 2.5], [2, 4]]), 2, hist, "minimize"), false);
  // Equal to the median is not worse -> keep.
  assert.equal(p.shouldPrune(running(9, [[2, 3]]), 2, hist, "minimize"), false);
  // Maximize: best = max -> 2.5 < median 3 -> prune; 3.5 -> keep.
  assert.equal(p.shouldPrune(running(9, [[2, 2.5]]), 2, hist, "maximize"), true);
  assert.equal(p.shouldPrune(running(9, [[2, 3.5]]), 2, hist, "maximize"), false);
  // Only four complete trials: below n_startup_trials = 5 -> never prune.
  assert.equal(p.shouldPrune(running(9, [[2, 100]]), 2, hist.slice(0, 4), "minimize"), false);
  assert.equal(new MedianPruner({ nStartupTrials: 4 }).shouldPrune(running(9, [[2, 100]]), 2, hist.slice(0, 4), "minimize"), true);
  // No complete trial reported at that step -> no verdict.
  assert.equal(p.shouldPrune(running(9, [[7, 100]]), 7, hist, "minimize"), false);
  // All-NaN intermediate values -> prune (Optuna).
  assert.equal(p.shouldPrune(running(9, [[2, NaN]]), 2, hist, "minimize"), true);
});

test("warm-up, interval and n_min_trials follow Optuna's rules", () => {
  const hist = [1, 2, 3, 4, 5].map((v, i) => done(i, [v, v, v, v, v, v]));
  const warm = new MedianPruner({ nWarmupSteps: 3 });
  assert.equal(warm.shouldPrune(running(9, [[0, 50], [1, 50], [2, 50]]), 2, hist, "minimize"), false);
  assert.equal(warm.shouldPrune(running(9, [[0, 50], [1, 50], [2, 50], [3, 50]]), 3, hist, "minimize"), true);
  // interval 2 after warm-up 1: checks at steps 1, 3, 5.
  const iv = new MedianPruner({ nWarmupSteps: 1, intervalSteps: 2 });
  const curve = (n: number) => Array.from({ length: n + 1 }, (_, s) => [s, 50] as [number, number]);
  assert.deepEqual([1, 2, 3, 4, 5].map((s) => iv.shouldPrune(running(9, curve(s)), s, hist, "minimize")), [true, false, true, false, true]);
  // A skipped report: steps 0 then 4 with interval 3 -> pruning step 3 was passed without a check -> check now.
  assert.equal(isFirstInIntervalStep(4, [0, 4], 0, 3), true);
  assert.equal(isFirstInIntervalStep(5, [0, 4, 5], 0, 3), false);
  const minT = new MedianPruner({ nMinTrials: 6 });
  assert.equal(minT.shouldPrune(running(9, [[0, 50]]), 0, hist, "minimize"), false);
  // Percentile 25 keeps only the best quarter: 25th percentile of 1..5 is 2.
  assert.equal(new PercentilePruner(25).shouldPrune(running(9, [[0, 2.5]]), 0, hist, "minimize"), true);
  assert.equal(new PercentilePruner(25).shouldPrune(running(9, [[0, 2]]), 0, hist, "minimize"), false);
});

/** Learning curves: loss at step s = q(x) + 2/(s + 1); trials run 20 steps unless pruned. */
function study(pruner: Pruner | null, seed: number, direction: Direction = "minimize") {
  const space: SearchSpace = { x: { kind: "float", low: -3, high: 3 } };
  const sampler = new TPESampler({ seed });
  const history: FrozenTrial[] = [];
  let steps = 0;
  for (let i = 0; i < 40; i++) {
    const params = sampler.sample(space, history, direction, i);
    const t: FrozenTrial = { number: i, state: "running", params, intermediate: new Map() };
    history.push(t);
    const x = params.x as number;
    for (let s = 0; s < 20; s++) {
      const v = (x - 1) ** 2 + 2 / (s + 1);
      t.intermediate.set(s, v);
      steps++;
      t.value = v;
      if (pruner?.shouldPrune(t, s, history, direction)) {
        t.state = "pruned";
        break;
      }
    }
    if (t.state === "running") t.state = "complete";
  }
  const best = Math.min(...history.filter((t) => t.state === "complete").map((t) => t.value!));
  return { steps, best, pruned: history.filter((t) => t.state === "pruned").length };
}

test("acceptance: a median-pruned study uses fewer steps than an unpruned one", () => {
  const pruned = study(new MedianPruner(), 1);
  const full = study(null, 1);
  console.log(`40 trials × 20 steps: pruned study ${pruned.steps} steps (${pruned.pruned} pruned), unpruned ${full.steps}; best ${pruned.best.toFixed(4)} vs ${full.best.toFixed(4)}`);
  assert.equal(full.steps, 800);
  assert.ok(pruned.steps < full.steps * 0.8, `pruned ${pruned.steps}`);
  assert.ok(pruned.pruned > 0);
  assert.ok(pruned.best < 0.2, `pruned study still finds a good x: ${pruned.best}`);
});
