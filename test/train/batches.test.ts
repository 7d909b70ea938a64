import assert from "node:assert/strict";
import { test } from "node:test";
import { UsageError } from "../../src/errors.js";
import { Batcher } from "../../src/train/batches.js";

const docs = [
  { tokens: [1, 10, 11, 12, 2] },
  { tokens: [1, 20, 21, 2], lossMask: [0, 0, 1, 1] },
  { tokens: [1, 30, 31, 32, 33, 2] },
];
// Stream (15 tokens): 1 10 11 12 2 | 1 20 21 2 | 1 30 31 32 33 2; seqLen 4 → rows start at 0, 4, 8
// (row r = stream[4r, 4r + 5)), floor((15 − 1) / 4) = 3 rows, the last token (2) is dropped.
const ROWS = [
  { inputs: [1, 10, 11, 12], targets: [10, 11, 12, 2], mask: [1, 1, 1, 1] },
  { inputs: [2, 1, 20, 21], targets: [1, 20, 21, 2], mask: [0, 0, 1, 1] },
  { inputs: [2, 1, 30, 31], targets: [1, 30, 31, 32], mask: [1, 1, 1, 1] },
];

test("packing: rows of seqLen + 1 with stride seqLen, targets shifted by one, per-token loss mask", () => {
  const b = new Batcher(docs, { seqLen: 4, seed: 5 });
  assert.equal(b.rows, 3);
  const seen = b.next(3);
  const got = seen.inputs.map((inputs, i) => ({ inputs, targets: seen.targets[i], mask: seen.mask[i] }));
  // One epoch visits every row exactly once, in a seeded order.
  const key = (r: { inputs: number[] }) => r.inputs.join(",");
  assert.deepEqual(got.map(key).sort(), ROWS.map(key).sort());
  for (const r of got) assert.deepEqual(r, ROWS.find((x) => key(x) === key(r)));
  assert.deepEqual(b.position, { epoch: 0, cursor: 3 });
});

test("order: same seed same batches, epochs reshuffle, a restored position continues exactly", () => {
  const a = new Batcher(docs, { seqLen: 4, seed: 5 });
  const all = Array.from({ length: 12 }, () => a.next(2).inputs);
  const b = new Batcher(docs, { seqLen: 4, seed: 5 });
  assert.deepEqual(Array.from({ length: 12 }, () => b.next(2).inputs), all);
  // Resume from the position after 5 batches in a fresh batcher.
  const c = new Batcher(docs, { seqLen: 4, seed: 5 });
  for (let i = 0; i < 5; i++) c.next(2);
  const d = new Batcher(docs, { seqLen: 4, seed: 5 });
  d.position = c.position;
  assert.deepEqual(Array.from({ length: 7 }, () => d.next(2).inputs), all.slice(5));
  // 8 epochs of 3 rows: orders are permutations and not all equal; another seed differs.
  const epochs = Array.from({ length: 8 }, (_, e) => all.flat().slice(3 * e, 3 * e + 3).map((r) => r[2]).join(","));
  assert.ok(new Set(epochs).size > 1, `every epoch had the same order: ${epochs}`);
  const e = new Batcher(docs, { seqLen: 4, seed: 6 });
  assert.notDeepEqual(Array.from({ length: 12 }, () => e.next(2).inputs), all);
  assert.notEqual(a.fingerprint(), new Batcher(docs.slice(1), { seqLen: 4, seed: 5 }).fingerprint());
});

test("user mistakes are typed errors", () => {
  assert.throws(() => new Batcher([{ tokens: [1, 2, 3] }], { seqLen: 4, seed: 0 }), (e: unknown) => e instanceof UsageError && e.code === "TOO_LITTLE_DATA");
  assert.throws(() => new Batcher([{ tokens: [1, 2, 3], lossMask: [1] }], { seqLen: 1, seed: 0 }), (e: unknown) => e instanceof UsageError && e.code === "LOSS_MASK_LENGTH");
  const b = new Batcher(docs, { seqLen: 4, seed: 0 });
  assert.throws(() => (b.position = { epoch: 0, cursor: 9 }), (e: unknown) => e instanceof UsageError && e.code === "BAD_DATA_POSITION");
});
