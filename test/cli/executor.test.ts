/**
 * `scalpel eval` routes forward-only work to the native executor by default (bin/scalpel.mjs);
 * SCALPEL_EXECUTOR=jax keeps it on jax-js. Both give the same results on the built-in model:
 * a loglikelihood task and a generation task.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { BUILTIN_MODEL_DIR } from "../../src/data/builtin-node.js";
import { runScalpel } from "./run-cli.js";

/** Every number in `a` equals the one at the same place in `b` within `tol`; everything else is equal. */
function close(a: unknown, b: unknown, tol: number, at = "$"): void {
  if (typeof a === "number" && typeof b === "number") return assert.ok(Math.abs(a - b) <= tol, `${at}: ${a} vs ${b}`);
  if (Array.isArray(a) && Array.isArray(b)) {
    assert.equal(a.length, b.length, `${at}: length`);
    return a.forEach((x, i) => close(x, b[i], tol, `${at}[${i}]`));
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    for (const k of Object.keys(a)) if (!/seconds|time|date|_at$/i.test(k)) close((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], tol, `${at}.${k}`);
    return;
  }
  assert.deepEqual(a, b, at);
}

test("scalpel eval: the native executor and jax-js give the same results", { skip: !existsSync(path.join(BUILTIN_MODEL_DIR, "model.safetensors")) && "the built-in model is not trained" }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "scalpel-executor-"));
  const args = (out: string) => ["eval", "--tasks", "factworld-qa,factworld-arithmetic", "--limit", "12", "--no-cache", "--out", path.join(dir, out)];
  const [native, jax] = [await runScalpel(args("native.json")), await runScalpel(args("jax.json"), undefined, { SCALPEL_EXECUTOR: "jax" })];
  assert.equal(native.code, 0, native.stderr);
  assert.equal(jax.code, 0, jax.stderr);
  const read = (f: string) => JSON.parse(readFileSync(path.join(dir, f), "utf8")) as { results: unknown };
  close(read("native.json").results, read("jax.json").results, 1e-4);
});
