/**
 * Child process for the covariance resume test (not a test file): collects layer 1's statistics of
 * the tiny model into the store at argv[2], one checkpoint per batch, pausing after each batch so
 * the parent can kill it mid-way.
 */
import { collectMom2 } from "../../src/edit/covariance.js";
import { nodeStatsStore } from "../../src/edit/stats-store-node.js";
import { initEngine } from "../../src/tensor/engine.js";
import { tinyCorpus, tinyModel } from "./tiny.js";

await initEngine();
const model = tinyModel();
await collectMom2(model, {
  layer: 1,
  texts: tinyCorpus(),
  batchSize: 8,
  checkpointEvery: 1,
  store: nodeStatsStore(process.argv[2]!),
  onProgress: (_s, done, total) => {
    process.stdout.write(`progress ${done}/${total}\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 150);
  },
});
process.stdout.write("finished\n");
