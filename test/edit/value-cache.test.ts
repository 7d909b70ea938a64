/**
 * The target-vector store (value-cache.ts): requests found there are read back exactly, the rest
 * optimised together; anything the optimisation reads (model weights, hyperparameters, templates,
 * the request) changes the key; a MEMIT batch on a warm store gives the cold run's patch.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { computeTargetVectors } from "../../src/edit/compute-value.js";
import { contextTemplates } from "../../src/edit/context-templates.js";
import type { StatsStore } from "../../src/edit/covariance.js";
import { memitDefaults } from "../../src/edit/hparams.js";
import { memitEdit } from "../../src/edit/memit.js";
import { cachedTargetVectors, type ValueCacheUse } from "../../src/edit/value-cache.js";
import { initEngine } from "../../src/tensor/engine.js";
import { FAST, REQUESTS, TINY, tinyModel } from "./tiny.js";

await initEngine();

const model = tinyModel();
const hp = { ...memitDefaults(model.config), ...FAST, vNumGradSteps: 6 };
const templates = (await contextTemplates(model, hp, 0, TINY)).flat();
const HOOK = "blocks.1.hook_resid_post";

function memoryStore(): StatsStore & { keys(): string[] } {
  const m = new Map<string, Uint8Array>();
  return {
    get: async (k) => m.get(k),
    put: async (k, d) => void m.set(k, d.slice()),
    delete: async (k) => void m.delete(k),
    keys: () => [...m.keys()],
  };
}

test("cached target vectors: stored ones come back bit for bit, only the missing requests are optimised", async () => {
  const store = memoryStore();
  const use: ValueCacheUse = { cached: -1, computed: -1 };
  const first = await cachedTargetVectors(model, REQUESTS.slice(0, 2), hp, templates, HOOK, { statsStore: store }, undefined, use);
  assert.deepEqual(use, { cached: 0, computed: 2 });
  assert.equal(store.keys().length, 2);
  assert.ok(store.keys().every((k) => /^value-[0-9a-f]{64}$/.test(k)), "safe, content-addressed file names");

  const seen = new Set<number>();
  const again = await cachedTargetVectors(model, REQUESTS, hp, templates, HOOK, { statsStore: store }, (i) => seen.add(i), use);
  assert.deepEqual(use, { cached: 2, computed: REQUESTS.length - 2 });
  assert.deepEqual([...seen].sort(), REQUESTS.slice(2).map((_, j) => j + 2), "observed steps carry the caller's request indices");
  for (const i of [0, 1]) {
    assert.deepEqual(again[i]!.target, first[i]!.target);
    assert.deepEqual(again[i]!.init, first[i]!.init);
    assert.deepEqual([again[i]!.loss, again[i]!.steps, again[i]!.nll], [first[i]!.loss, first[i]!.steps, first[i]!.nll]);
  }
  // The new request's vector is the one its own optimisation gives.
  const own = (await computeTargetVectors(model, [REQUESTS[2]!], hp, templates, HOOK))[0]!;
  const diff = Math.max(...own.target.map((v, j) => Math.abs(v - again[2]!.target[j]!)));
  assert.ok(diff < 1e-4, `computed request matches its own run (max diff ${diff})`);
});

test("cached target vectors: other hyperparameters, templates, targets, hook or weights miss", async () => {
  const store = memoryStore();
  const ctx = { statsStore: store };
  const use: ValueCacheUse = { cached: 0, computed: 0 };
  const one = [REQUESTS[0]!];
  await cachedTargetVectors(model, one, hp, templates, HOOK, ctx);
  const misses: [string, () => Promise<unknown>][] = [
    ["v_lr", () => cachedTargetVectors(model, one, { ...hp, vLr: hp.vLr * 2 }, templates, HOOK, ctx, undefined, use)],
    ["clamp", () => cachedTargetVectors(model, one, { ...hp, clampNormFactor: 1 }, templates, HOOK, ctx, undefined, use)],
    ["templates", () => cachedTargetVectors(model, one, hp, templates.slice(0, 1), HOOK, ctx, undefined, use)],
    ["target", () => cachedTargetVectors(model, [{ ...one[0]!, targetNew: "Zarn" }], hp, templates, HOOK, ctx, undefined, use)],
    ["hook", () => cachedTargetVectors(model, one, hp, templates, "blocks.0.hook_resid_post", ctx, undefined, use)],
    ["weights", () => cachedTargetVectors(tinyModel("llama", 8), one, hp, templates, HOOK, ctx, undefined, use)],
  ];
  for (const [what, run] of misses) {
    await run();
    assert.deepEqual(use, { cached: 0, computed: 1 }, `a different ${what} is not read from the store`);
  }
  // A layer set or λ is not part of the key: MEMIT's layers and AlphaEdit's solve reuse z*.
  await cachedTargetVectors(model, one, { ...hp, mom2UpdateWeight: 1 } as typeof hp, templates, HOOK, ctx, undefined, use);
  assert.deepEqual(use, { cached: 1, computed: 0 });
});

test("MEMIT on a warm store: the same patch as the cold run, z* read back (progress says so)", async () => {
  const store = memoryStore();
  const stages: string[] = [];
  const context = { statsStore: store, caches: TINY, onProgress: (s: string, done: number) => void stages.push(`${s}:${done}`) };
  const cold = await memitEdit(model, REQUESTS, hp, context);
  assert.ok(!stages.some((s) => s.includes("from cache")));
  const warm = await memitEdit(model, REQUESTS, hp, context);
  assert.ok(stages.includes(`memit z* from cache:${REQUESTS.length}`), stages.join(", "));
  for (const [name, d] of Object.entries(cold.deltas)) assert.deepEqual(warm.deltas[name]!.data, d.data, name);
});
