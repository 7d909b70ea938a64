/**
 * The activation cache: keyed by content, a second request runs no forward pass (counted), the
 * stored rows equal a fresh in-memory collection, rows stream back in batches, any change of
 * model, patch, items, positions, hooks or tokenisation settings is a different key, and an
 * interrupted write (no meta.json) is recomputed.
 */
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { activationKey, cachedActivations } from "../../src/steer/activation-cache-node.js";
import type { Model } from "../../src/model/types.js";
import { residHook, steeringPatch } from "../../src/steer/apply.js";
import { collectActivations, MemorySink, type CollectItem } from "../../src/steer/collect.js";
import { readF32 } from "../../src/tensor/own.js";
import { tinySteerModel } from "./helpers.js";

/** The same model, counting its forward passes. */
function counting(model: Model): { model: Model; count: () => number } {
  let n = 0;
  const wrapped = Object.create(model) as Model;
  wrapped.forward = (tokens, options) => {
    n++;
    return model.forward(tokens, options);
  };
  return { model: wrapped, count: () => n };
}

test("second request is free, rows match, streaming works, keys change with their inputs", async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "scalpel-act-"));
  const base = tinySteerModel();
  const tok = base.tokenizer;
  const texts = ["User : the cat is good ?", "the dog sat on the mat", "one two three", "Answer : ( A )", "the cat"];
  const items: CollectItem[] = texts.map((t, i) => ({
    tokens: tok.encode(t).ids,
    select: i === 0 ? { kind: "all" } : i === 1 ? { kind: "mean", from: 1, to: 4 } : i === 3 ? { kind: "at", pos: 4 } : { kind: "last" },
  }));
  const hooks = [residHook(0), residHook(2), "blocks.1.mlp.hook_post"];
  const { model, count } = counting(base);
  const req = { model, dataset: "demo", items, hooks, tokenization: { addSpecialTokens: true }, batchSize: 2 };

  const first = await cachedActivations(root, req);
  assert.equal(first.hit, false);
  assert.equal(first.passes, 3);
  assert.equal(count(), 3);
  const second = await cachedActivations(root, req);
  assert.equal(second.hit, true);
  assert.equal(second.passes, 0);
  assert.equal(count(), 3, "the second request ran a forward pass");

  const sink = new MemorySink();
  await collectActivations(base, items, hooks, sink, { batchSize: 2 }); // same batches: same padding, bitwise-equal rows
  const nRows = items[0]!.tokens.length + 4;
  assert.equal(second.store.meta.rows, nRows);
  assert.deepEqual(second.store.meta.itemStart, [0, items[0]!.tokens.length, items[0]!.tokens.length + 1, items[0]!.tokens.length + 2, items[0]!.tokens.length + 3]);
  for (const h of hooks) {
    const mem = sink.matrix(h);
    const disk = await second.store.readAll(h);
    assert.deepEqual(disk, mem.data, h);
    const streamed: number[] = [];
    for await (const b of second.store.batches(h, 3)) {
      assert.ok(b.count <= 3);
      streamed.push(...b.rows);
    }
    assert.deepEqual(Float32Array.from(streamed), mem.data);
  }
  assert.equal(second.store.width("blocks.1.mlp.hook_post"), 64);

  // Independent check: item 3's row ("at" position 4) is that position of a plain single-sequence forward.
  const plain = base.forward([items[3]!.tokens], { cache: [residHook(2)] }).cache[residHook(2)]!;
  const ref = (await readF32(plain)).subarray(4 * 32, 5 * 32);
  const start3 = second.store.meta.itemStart[3]!;
  const got3 = await second.store.readRows(residHook(2), start3, 1);
  for (let k = 0; k < 32; k++) assert.ok(Math.abs(got3[k]! - ref[k]!) < 1e-4, `row of item 3 [${k}]`);

  // Mean over a span is the mean of the "all" rows of the same tokens (item 1 collected with "all").
  const all = new MemorySink();
  await collectActivations(base, [{ tokens: items[1]!.tokens, select: { kind: "all" } }], [residHook(0)], all);
  const rows = all.matrix(residHook(0)).data;
  const d = 32;
  const got = sink.matrix(residHook(0)).data.subarray(items[0]!.tokens.length * d, (items[0]!.tokens.length + 1) * d);
  for (let k = 0; k < d; k++) assert.ok(Math.abs(got[k]! - (rows[d + k]! + rows[2 * d + k]! + rows[3 * d + k]!) / 3) < 1e-5);

  // Every input of the key matters.
  const key = (await activationKey(req)).key;
  const other = tinySteerModel(4);
  const patch = steeringPatch({ vectors: { [residHook(0)]: new Float32Array(32).fill(0.5) }, alpha: 1, positions: "all", info: { method: "test" } });
  const variants = [
    { ...req, model: other },
    { ...req, patch },
    { ...req, items: items.slice(1) },
    { ...req, items: items.map((it, i) => (i === 2 ? { ...it, select: { kind: "all" as const } } : it)) },
    { ...req, hooks: hooks.slice(1) },
    { ...req, tokenization: { addSpecialTokens: false } },
    { ...req, dataset: "other" },
  ];
  const keys = await Promise.all(variants.map(async (v) => (await activationKey(v)).key));
  assert.equal(new Set([key, ...keys]).size, variants.length + 1);

  // A patched request computes on the patched model: its rows differ at the patched hook.
  const patched = await cachedActivations(root, { ...req, patch });
  assert.equal(patched.hit, false);
  const p0 = await patched.store.readAll(residHook(0));
  const b0 = await second.store.readAll(residHook(0));
  for (let k = 0; k < 32; k++) assert.ok(Math.abs(p0[k]! - b0[k]! - 0.5) < 1e-5);

  // An interrupted write (meta.json missing) is recomputed.
  await fs.rm(path.join(root, key, "meta.json"));
  const again = await cachedActivations(root, req);
  assert.equal(again.hit, false);
  assert.ok(again.passes > 0);

  other.dispose();
  base.dispose();
  await fs.rm(root, { recursive: true, force: true });
});
