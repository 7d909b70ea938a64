/** Train / validation / test splits: fixed by the seed, disjoint, covering every item. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { splitIndices } from "../../src/steer/splits.js";

test("splits are disjoint, complete, sized by the fractions and fixed by the seed", () => {
  for (const n of [0, 1, 7, 100, 1001]) {
    const s = splitIndices(n, 42);
    const all = [...s.train, ...s.val, ...s.test];
    assert.equal(new Set(all).size, all.length, "overlap");
    assert.deepEqual([...all].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
    assert.equal(s.train.length, Math.round(n * 0.6));
    assert.equal(s.val.length, Math.round(n * 0.2));
    assert.deepEqual(splitIndices(n, 42), s, "same seed, same split");
  }
  assert.notDeepEqual(splitIndices(100, 1).train, splitIndices(100, 2).train, "the seed matters");
  const custom = splitIndices(10, 3, { train: 0.5, val: 0.3, test: 0.2 });
  assert.deepEqual([custom.train.length, custom.val.length, custom.test.length], [5, 3, 2]);
  assert.throws(() => splitIndices(10, 1, { train: 0.5, val: 0.5, test: 0.5 }), /sum to 1/);
});
