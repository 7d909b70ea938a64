/**
 * The demo's evaluation section (called by `scalpel demo`): the built-in model's accuracy on 50
 * fact-world questions with training templates and 50 with held-out paraphrases (greedy first
 * answer token, as `scalpel eval --tasks factworld-qa,factworld-paraphrase` computes it), one prompt
 * shown as the harness sends it, and a re-run answered entirely from the request cache.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { readFactQueries } from "../../data/benchmarks/readers.js";
import { MemoryRequestCache } from "../../eval/cache.js";
import { evaluate } from "../../eval/evaluate.js";
import { factQaTask } from "../../eval/tasks/factworld.js";
import type { Model } from "../../model/types.js";
import { BUILTIN_DATA_DIR } from "../default-model.js";

export async function evalDemoSection(model: Model, log: (line: string) => void, dataDir = BUILTIN_DATA_DIR): Promise<void> {
  const file = path.join(dataDir, "qa.json");
  if (!existsSync(file)) {
    log(`evaluation: the fact world's QA export (${file}) is missing; skipped`);
    return;
  }
  const queries = readFactQueries(file);
  // 50 of each kind, spread over the file so every relation shows up.
  const spread = (kind: "train" | "paraphrase") => {
    const all = queries.filter((q) => q.templates === kind);
    const step = Math.max(1, Math.floor(all.length / 50));
    return all.filter((_, i) => i % step === 0).slice(0, 50);
  };
  const tasks = [factQaTask(spread("train"), "train"), factQaTask(spread("paraphrase"), "paraphrase")];
  const cache = new MemoryRequestCache();
  const t0 = Date.now();
  const res = await evaluate(model, tasks, { cache, batchSize: 16, logSamples: true });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  log(`Evaluation harness (lm-eval semantics): greedy first answer token on fact-world questions, ${res.stats.unique} requests in ${secs} s`);
  for (const t of res.tasks) {
    const acc = t.metrics.acc!;
    log(`   ${t.task.padEnd(22)} acc ${(acc.value * 100).toFixed(1)}% ± ${(acc.stderr * 100).toFixed(1)} over ${t.n} questions`);
  }
  const miss = res.tasks[1]!.samples!.find((s) => s.metrics.acc === 0) ?? res.tasks[1]!.samples![0]!;
  log(`   a held-out-paraphrase prompt as sent: ${JSON.stringify(miss.prompt)} → target ${JSON.stringify(miss.target)} (${miss.metrics.acc ? "right" : "wrong"})`);
  const again = await evaluate(model, tasks, { cache });
  log(`   the same evaluation again: ${again.stats.cacheHits} of ${again.stats.unique} requests answered from the request cache, ${again.stats.computed} computed`);
}
