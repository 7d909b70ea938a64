import { test } from "node:test";
import assert from "node:assert/strict";
import { numpy as np } from "@jax-js/jax";
import { initEngine } from "../../src/tensor/engine.js";

test("initEngine starts the Wasm backend in Node without a navigator global and is idempotent", async () => {
  const device = await initEngine();
  assert.equal(device, "wasm");
  assert.equal(await initEngine("webgpu"), "wasm");
  const x = np.array([1, 2, 3]);
  assert.deepEqual([...(await x.mul(2).data())], [2, 4, 6]);
});
