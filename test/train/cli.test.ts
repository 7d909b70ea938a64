import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { trainCommand } from "../../src/cli/commands/train.js";
import { UsageError } from "../../src/errors.js";
import { loadModel, saveModel } from "../../src/model/load.js";
import { tinyModel } from "./fixture.js";

test("scalpel train: text file in, loadable trained checkpoint out; resume continues; bad data is a typed error", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "scalpel-train-cli-"));
  const base = path.join(dir, "base");
  const m = tinyModel();
  await saveModel(m, base);
  const lines = Array.from({ length: 30 }, (_, i) => Array.from({ length: 10 }, (_, k) => `w${(i + k * 7) % 45}`).join(" "));
  const data = path.join(dir, "data.txt");
  writeFileSync(data, lines.join("\n") + "\n");
  const out = path.join(dir, "out");
  const args = ["--model", base, "--data", data, "--out", out, "--steps", "4", "--batch", "4", "--seq-len", "16", "--checkpoint-every", "2", "--lr", "1e-2"];
  await trainCommand.run(args);
  assert.ok(existsSync(path.join(out, "model.safetensors")));
  assert.ok(existsSync(path.join(out, "checkpoints", "step-00000004", "optimizer.safetensors")));
  const trained = await loadModel(out);
  assert.deepEqual(Object.keys(trained.params).sort(), Object.keys(m.params).sort());
  trained.dispose();
  // Resuming a finished run trains nothing more and still writes the model.
  await trainCommand.run([...args, "--resume"]);
  await assert.rejects(trainCommand.run([...args.slice(0, 10), "--steps", "6", "--resume"]), (e: unknown) => (e as { code?: string }).code === "RESUME_CONFIG_MISMATCH");
  const jsonl = path.join(dir, "bad.jsonl");
  writeFileSync(jsonl, '{"text": "w1 w2"}\n{"txt": "w3"}\n');
  await assert.rejects(trainCommand.run(["--model", base, "--data", jsonl, "--out", out]), (e: unknown) => e instanceof UsageError && e.code === "DATA_JSONL" && /line 2/.test(e.message));
  await assert.rejects(trainCommand.run(["--model", base, "--data", path.join(dir, "nope.txt"), "--out", out]), (e: unknown) => e instanceof UsageError && e.code === "DATA_FILE_UNREADABLE");
  m.dispose();
  rmSync(dir, { recursive: true, force: true });
});
