/**
 * A killed `scalpel eval` resumes from its request cache: a real child process is SIGKILLed in the
 * middle of a run; the next run answers every request the first one finished from the cache (the
 * count of cache hits equals the entries on disk, and only the rest are computed), and its numbers
 * equal those of an uninterrupted run.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { saveModel } from "../../src/model/load.js";
import { tinyModel, WORDS } from "./tiny-model.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const BIN = path.join(ROOT, "bin/scalpel.mjs");

function cacheEntries(file: string): number {
  if (!existsSync(file)) return 0;
  let n = 0;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line === "") continue;
    try {
      JSON.parse(line);
      n++;
    } catch {
      // a torn last line: not an entry
    }
  }
  return n;
}

function runEval(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, "eval", ...args, "--json"], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { results: Record<string, { metrics: Record<string, { value: number }> }>; stats: { base: { unique: number; cacheHits: number; computed: number } } };
}

test("SIGKILL mid-run, then resume: finished requests come from the cache, the rest are computed once", { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "scalpel-eval-resume-"));
  const modelDir = path.join(dir, "model");
  const m = tinyModel(5, 64);
  await saveModel(m, modelDir);
  m.dispose();
  // 600 two-choice questions of varied length (so each is its own row).
  const docs = Array.from({ length: 600 }, (_, i) => ({ q: Array.from({ length: 3 + (i % 11) }, (_, k) => WORDS[(i * 7 + k * 13) % 30]).join(" ") + ` ${i % 13}`, label: i % 2 }));
  writeFileSync(path.join(dir, "data.jsonl"), docs.map((d) => JSON.stringify(d)).join("\n"));
  writeFileSync(path.join(dir, "task.yaml"), 'name: yn\nkind: multiple_choice\ndataset: data.jsonl\ndoc_to_text: "{{q}} ?"\ndoc_to_choice: ["yes", "no"]\ndoc_to_target: "{{label}}"\n');
  const cache = path.join(dir, "cache.jsonl");
  const args = ["--model", modelDir, "--tasks", path.join(dir, "task.yaml"), "--cache", cache];

  // One row per forward pass while it is killed, so the cache grows in many small steps.
  const child = spawn(process.execPath, [BIN, "eval", ...args, "--batch-size", "1"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const outcome = await new Promise<{ signal: NodeJS.Signals | null; code: number | null }>((resolve) => {
    const poll = setInterval(() => {
      if (cacheEntries(cache) >= 40) {
        clearInterval(poll);
        child.kill("SIGKILL");
      }
    }, 10);
    child.on("exit", (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal });
    });
  });
  assert.equal(outcome.signal, "SIGKILL", `the run was killed mid-flight (exit ${outcome.code}): ${stderr}`);
  const done = cacheEntries(cache);
  assert.ok(done >= 40 && done < 1200, `${done} of 1200 requests were finished before the kill`);

  const resumed = runEval(args);
  const s = resumed.stats.base;
  assert.equal(s.unique, 1200);
  assert.equal(s.cacheHits, done, "every request finished before the kill is answered from the cache");
  assert.equal(s.computed, 1200 - done, "only the others are computed");

  const again = runEval(args);
  assert.equal(again.stats.base.computed, 0);
  assert.equal(again.stats.base.cacheHits, 1200);

  const fresh = runEval([...args.filter((a, i) => a !== "--cache" && args[i - 1] !== "--cache"), "--no-cache"]);
  assert.equal(fresh.stats.base.computed, 1200);
  assert.deepEqual(resumed.results.yn!.metrics, fresh.results.yn!.metrics, "the resumed run's numbers equal an uninterrupted run's");
});
