import { test } from "node:test";
import assert from "node:assert/strict";
import { RandomSampler, sampleUniform } from "../../src/analysis/search/random.js";
import { GridSampler, SearchExhaustedError, gridValues } from "../../src/analysis/search/grid.js";
import { Rng } from "../../src/util/rng.js";
import { ConfigError } from "../../src/errors.js";
import type { FrozenTrial, SearchSpace } from "../../src/analysis/search/types.js";

test("RandomSampler respects bounds, steps, log scale and choices, per seed", () => {
  const space: SearchSpace = {
    f: { kind: "float", low: -1, high: 1 },
    lf: { kind: "float", low: 1e-4, high: 1, log: true },
    sf: { kind: "float", low: 0, high: 1, step: 0.1 },
    i: { kind: "int", low: 2, high: 20, step: 3 },
    li: { kind: "int", low: 1, high: 1000, log: true },
    c: { kind: "categorical", choices: ["a", "b", true, 3] },
  };
  const s = new RandomSampler({ seed: 9 });
  const draws = Array.from({ length: 3000 }, (_, i) => s.sample(space, [], "minimize", i));
  for (const p of draws) {
    assert.ok((p.f as number) >= -1 && (p.f as number) < 1);
    assert.ok((p.lf as number) >= 1e-4 && (p.lf as number) < 1);
    assert.ok([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1].some((v) => Math.abs(v - (p.sf as number)) < 1e-12));
    assert.ok([2, 5, 8, 11, 14, 17, 20].includes(p.i as number));
    assert.ok(Number.isInteger(p.li) && (p.li as number) >= 1 && (p.li as number) <= 1000);
    assert.ok(["a", "b", true, 3].includes(p.c as never));
  }
  // Log-uniform: about half the draws of lf lie below 1e-2 (the geometric midpoint).
  const below = draws.filter((p) => (p.lf as number) < 1e-2).length / draws.length;
  assert.ok(Math.abs(below - 0.5) < 0.04, `log-uniform fraction ${below}`);
  // Every step value of i is reachable, end points included with half-width bins.
  const ends = draws.filter((p) => p.i === 2).length / draws.length;
  assert.ok(Math.abs(ends - 1 / 7) < 0.03, `end bin ${ends}`);
  assert.deepEqual(s.sample(space, [], "minimize", 5), new RandomSampler({ seed: 9 }).sample(space, [], "minimize", 5));
  assert.equal(sampleUniform({ kind: "int", low: 4, high: 4 }, new Rng(1)), 4);
  assert.throws(() => s.sample({ x: { kind: "float", low: 0, high: 1, log: true } }, [], "minimize", 0), ConfigError);
});

test("GridSampler visits every point once in a seeded order, then reports exhaustion", () => {
  const grid = { lr: [0.1, 0.01], layers: [1, 2, 3] };
  const g = new GridSampler({ grid, seed: 4 });
  const history: FrozenTrial[] = [];
  for (let i = 0; i < 6; i++) {
    const params = g.sample({}, history, "minimize", i);
    history.push({ number: i, state: i % 2 ? "running" : "complete", params, value: 0, intermediate: new Map() });
  }
  const seen = history.map((t) => JSON.stringify([t.params.layers, t.params.lr]));
  assert.equal(new Set(seen).size, 6);
  assert.throws(() => g.sample({}, history, "minimize", 6), SearchExhaustedError);
  // Same seed, same order; another seed, another order.
  assert.deepEqual(new GridSampler({ grid, seed: 4 }).points(), g.points());
  const orders = [0, 1, 2, 3, 5].map((seed) => JSON.stringify(new GridSampler({ grid, seed }).points()));
  assert.ok(new Set(orders).size > 1);
  // Grid from a search space.
  assert.deepEqual(gridValues("x", { kind: "float", low: 0, high: 0.3, step: 0.1 }), [0, 0.1, 0.2, 0.3]);
  assert.deepEqual(gridValues("n", { kind: "int", low: 1, high: 7, step: 3 }), [1, 4, 7]);
  assert.equal(new GridSampler().size({ a: { kind: "categorical", choices: ["x", "y"] }, n: { kind: "int", low: 0, high: 2 } }), 6);
  assert.throws(() => gridValues("x", { kind: "float", low: 0, high: 1 }), /cannot enumerate/);
});
