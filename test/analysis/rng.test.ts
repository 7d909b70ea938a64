import { test } from "node:test";
import assert from "node:assert/strict";
import { Rng, deriveSeed } from "../../src/util/rng.js";
import { mean, std } from "../../src/analysis/descriptive.js";

test("xoshiro128** matches the reference C implementation from state {1,2,3,4}", () => {
  // Reference vector: prng.di.unimi.it xoshiro128starstar.c seeded s = {1, 2, 3, 4}.
  const r = Rng.fromState(1, 2, 3, 4);
  assert.deepEqual(Array.from({ length: 6 }, () => r.nextUint32()), [11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
});

test("same seed, same numbers; different seeds differ", () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const xa = Array.from({ length: 10 }, () => a.random());
  assert.deepEqual(xa, Array.from({ length: 10 }, () => b.random()));
  assert.notDeepEqual(xa, Array.from({ length: 10 }, () => c.random()));
  assert.equal(deriveSeed(7, 3), deriveSeed(7, 3));
  assert.notEqual(deriveSeed(7, 3), deriveSeed(7, 4));
  assert.notEqual(deriveSeed(7, 3), deriveSeed(8, 3));
});

test("uniform, int and normal have the right moments", () => {
  const r = new Rng(1);
  const u = Array.from({ length: 20000 }, () => r.random());
  assert.ok(u.every((x) => x >= 0 && x < 1));
  assert.ok(Math.abs(mean(u) - 0.5) < 0.01);
  const z = Array.from({ length: 20000 }, () => r.normal());
  assert.ok(Math.abs(mean(z)) < 0.03, `mean ${mean(z)}`);
  assert.ok(Math.abs(std(z) - 1) < 0.03, `std ${std(z)}`);
  const counts = [0, 0, 0];
  for (let i = 0; i < 30000; i++) counts[r.int(3)]!++;
  for (const c of counts) assert.ok(Math.abs(c - 10000) < 400, `counts ${counts}`);
  const perm = r.shuffle([0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual([...perm].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
});
