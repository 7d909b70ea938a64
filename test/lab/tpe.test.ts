import { test } from "node:test";
import assert from "node:assert/strict";
import { TPESampler, splitTrials, defaultGamma } from "../../src/analysis/search/tpe.js";
import { RandomSampler } from "../../src/analysis/search/random.js";
import { median } from "../../src/analysis/descriptive.js";
import type { Direction, FrozenTrial, Sampler, SearchSpace, TrialParams } from "../../src/analysis/search/types.js";

/** Minimal in-memory ask/tell loop: ask the sampler, evaluate, tell (append a complete trial). */
function optimize(sampler: Sampler, space: SearchSpace, f: (p: TrialParams) => number, nTrials: number, direction: Direction = "minimize"): FrozenTrial[] {
  const history: FrozenTrial[] = [];
  for (let i = 0; i < nTrials; i++) {
    const params = sampler.sample(space, history, direction, i);
    history.push({ number: i, state: "complete", params, value: f(params), intermediate: new Map() });
  }
  return history;
}
const best = (h: FrozenTrial[], dir: Direction = "minimize") => (dir === "minimize" ? Math.min : Math.max)(...h.map((t) => t.value!));

// Branin (Dixon & Szegő 1978), global minimum 0.397887 at (−π, 12.275), (π, 2.275), (9.42478, 2.475).
const branin = (p: TrialParams) => {
  const x = p.x as number;
  const y = p.y as number;
  const a = 1, b = 5.1 / (4 * Math.PI ** 2), c = 5 / Math.PI, r = 6, s = 10, t = 1 / (8 * Math.PI);
  return a * (y - b * x * x + c * x - r) ** 2 + s * (1 - t) * Math.cos(x) + s;
};
const braninSpace: SearchSpace = { x: { kind: "float", low: -5, high: 10 }, y: { kind: "float", low: 0, high: 15 } };

test("acceptance: 50 TPE trials on Branin beat random search's median best over 10 seeds", () => {
  const seeds = Array.from({ length: 10 }, (_, i) => i);
  const tpe = seeds.map((seed) => best(optimize(new TPESampler({ seed }), braninSpace, branin, 50)));
  const rnd = seeds.map((seed) => best(optimize(new RandomSampler({ seed }), braninSpace, branin, 50)));
  const mt = median(tpe);
  const mr = median(rnd);
  console.log(`Branin, 50 trials, 10 seeds: TPE median best ${mt.toFixed(4)}, random median best ${mr.toFixed(4)} (optimum 0.3979)`);
  assert.ok(mt < mr, `TPE ${mt} should beat random ${mr}`);
  assert.ok(mt >= 0.397887 - 1e-6);
});

test("acceptance: mixed space (log float, int, categorical), maximize, TPE beats random", () => {
  const space: SearchSpace = {
    lr: { kind: "float", low: 1e-5, high: 1, log: true },
    layers: { kind: "int", low: 1, high: 12 },
    act: { kind: "categorical", choices: ["relu", "tanh", "gelu"] },
  };
  // Peak at lr = 1e-3, layers = 7, act = gelu.
  const f = (p: TrialParams) => -((Math.log10(p.lr as number) + 3) ** 2) - 0.1 * ((p.layers as number) - 7) ** 2 + (p.act === "gelu" ? 1 : 0);
  const seeds = Array.from({ length: 10 }, (_, i) => 100 + i);
  const tpe = median(seeds.map((seed) => best(optimize(new TPESampler({ seed }), space, f, 50, "maximize"), "maximize")));
  const rnd = median(seeds.map((seed) => best(optimize(new RandomSampler({ seed }), space, f, 50, "maximize"), "maximize")));
  console.log(`mixed space, maximize: TPE median best ${tpe.toFixed(4)}, random ${rnd.toFixed(4)} (optimum 1)`);
  assert.ok(tpe > rnd, `TPE ${tpe} should beat random ${rnd}`);
});

test("TPE is deterministic per seed and random during the startup trials", () => {
  const a = optimize(new TPESampler({ seed: 3 }), braninSpace, branin, 15).map((t) => t.params);
  const b = optimize(new TPESampler({ seed: 3 }), braninSpace, branin, 15).map((t) => t.params);
  assert.deepEqual(a, b);
  const c = optimize(new TPESampler({ seed: 4 }), braninSpace, branin, 15).map((t) => t.params);
  assert.notDeepEqual(a, c);
  // Startup: identical to RandomSampler with the same seed for the first 10 trials.
  const r = optimize(new RandomSampler({ seed: 3 }), braninSpace, branin, 10).map((t) => t.params);
  assert.deepEqual(a.slice(0, 10), r);
  assert.notDeepEqual(a.slice(10), optimize(new RandomSampler({ seed: 3 }), braninSpace, branin, 15).map((t) => t.params).slice(10));
});

test("split: complete trials by value, then pruned by (deepest step, value), each half by number", () => {
  const mk = (number: number, state: FrozenTrial["state"], value?: number, inter: [number, number][] = []): FrozenTrial => ({
    number, state, value, params: {}, intermediate: new Map(inter),
  });
  const trials = [
    mk(0, "complete", 5), mk(1, "complete", 1), mk(2, "pruned", undefined, [[0, 0.1], [1, 0.2]]),
    mk(3, "complete", 3), mk(4, "pruned", undefined, [[0, 0.05]]), mk(5, "pruned", undefined, []),
    mk(6, "pruned", undefined, [[0, 0.3], [1, NaN]]),
  ];
  // gamma = 5: complete 1 (#1), 3 (#3), 5 (#0); then pruned at step 1: #2 (0.2) before #6 (NaN -> +inf).
  // Same split as optuna 5.0.0's _split_trials(study, trials, 5) on these trials: [0,1,2,3,6] / [4,5].
  const [below, above] = splitTrials(trials, 5, "minimize");
  assert.deepEqual(below.map((t) => t.number), [0, 1, 2, 3, 6]);
  assert.deepEqual(above.map((t) => t.number), [4, 5]);
  const [b2] = splitTrials(trials, 2, "maximize");
  assert.deepEqual(b2.map((t) => t.number), [0, 3]);
  assert.equal(defaultGamma(50), 5);
  assert.equal(defaultGamma(1000), 25);
});
