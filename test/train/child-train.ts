/**
 * Child process for the kill-and-resume test (not a test file): trains the tiny model into the
 * folder given as argv[2], slowly (a pause after each step, through the evaluate callback) so
 * the parent can SIGKILL it mid-run.
 */
import { train } from "../../src/train/loop.js";
import { KILL_CONFIG, tinyDocs, tinyModel } from "./fixture.js";

const dir = process.argv[2]!;
await train({
  model: tinyModel(),
  documents: tinyDocs(),
  config: { ...KILL_CONFIG, evalEvery: 1 },
  checkpointDir: dir,
  log: (e) => process.stdout.write(`step ${e.step} ${e.loss}\n`),
  evaluate: () => new Promise((r) => setTimeout(() => r({}), 150)),
});
