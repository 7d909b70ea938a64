/**
 * The edit stream's checkpoint in a stage folder: a "compose" stream keeps one patch file per
 * editor call; a "memory" editor's single patch (its whole memory) is written under the call count
 * and older memories are removed, so the saved state never names a newer memory than it describes.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { StreamProgress } from "../../src/edit/protocol.js";
import { streamCheckpoint } from "../../src/lab/kinds/edit-stream-checkpoint.js";
import type { StageContext } from "../../src/lab/kinds/types.js";
import type { WeightPatch } from "../../src/model/patch.js";

const dirs: string[] = [];
after(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function stage(): Promise<StageContext<unknown>> {
  const dir = await mkdtemp(join(tmpdir(), "scalpel-stream-ckpt-"));
  dirs.push(dir);
  const state = join(dir, "state.json");
  return {
    checkpoint: {
      dir,
      read: async <T>() => (existsSync(state) ? (JSON.parse(await readFile(state, "utf8")) as T) : undefined),
      write: async (s: unknown) => writeFile(state, JSON.stringify(s)),
    },
  } as unknown as StageContext<unknown>;
}

const patch = (v: number): WeightPatch => ({ type: "weights", info: { method: "t" }, deltas: { "blocks.0.mlp.W_out": { shape: [1, 2], data: new Float32Array([v, v]) } } });
const progress = (groupsDone: number, patches: WeightPatch[]): StreamProgress => ({ groupsDone, applied: groupsDone, patches, pre: [], results: [], editSecondsOf: [], editTotal: 0, evalTotal: 0 });

test("compose streams keep a file per call; memory streams keep the latest memory only", async () => {
  const compose = await stage();
  const c = streamCheckpoint(compose, () => {});
  await c.save(progress(1, [patch(1)]));
  await c.save(progress(2, [patch(1), patch(2)]));
  assert.deepEqual(readdirSync(compose.checkpoint.dir).filter((f) => f.endsWith(".safetensors")).sort(), ["step-0.safetensors", "step-1.safetensors"]);
  const back = await c.load();
  assert.deepEqual(back!.patches.map((p) => (p as WeightPatch).deltas["blocks.0.mlp.W_out"]!.data[0]), [1, 2]);

  const memory = await stage();
  let resumedAt = -1;
  const m = streamCheckpoint(memory, (n) => (resumedAt = n));
  await m.save(progress(2, [patch(2)]));
  await m.save(progress(3, [patch(3)]));
  assert.deepEqual(readdirSync(memory.checkpoint.dir).filter((f) => f.endsWith(".safetensors")), ["memory-3.safetensors"]);
  const mem = await m.load();
  assert.equal(resumedAt, 3);
  assert.equal(mem!.groupsDone, 3);
  assert.equal((mem!.patches[0] as WeightPatch).deltas["blocks.0.mlp.W_out"]!.data[0], 3);
});
