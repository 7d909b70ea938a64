import { test } from "node:test";
import assert from "node:assert/strict";
import { numpy as np } from "@jax-js/jax";
import { initEngine } from "../../src/tensor/engine.js";

// jax-js's Wasm allocator keeps freed blocks per exact size and bumps a new block for any size it
// has not freed before; our patch (patches/@jax-js+jax+*.patch) merges free blocks before the heap
// grows. Without it a loop whose buffer sizes keep changing (MEMIT's z* as requests finish) ran
// into the 4 GiB limit with most of the heap free.
test("the Wasm heap reuses freed memory for buffers of new sizes instead of growing to the 4 GiB limit", async () => {
  await initEngine();
  const MiB = 1 << 20;
  const source = new Float32Array((70 * MiB) / 4);
  // 72 buffers of 64 MiB + i × 64 KiB, each freed before the next: 4.6 GiB in all.
  for (let i = 0; i < 72; i++) {
    const a = np.array(source.subarray(0, (64 * MiB + i * 64 * 1024) / 4));
    if (i % 24 === 0) assert.equal((await a.ref.slice([0, 4]).data()).length, 4);
    a.dispose();
  }
  const b = np.array([1, 2, 3]);
  assert.deepEqual([...(await b.mul(2).data())], [2, 4, 6]);
});
