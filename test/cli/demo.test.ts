import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, "../../bin/scalpel.mjs");

test("scalpel demo runs the whole tour and its numbers are consistent", async () => {
  const store = await mkdtemp(path.join(tmpdir(), "scalpel-demo-"));
  try {
    const { stdout } = await run(process.execPath, [bin, "demo", "--store", store], { timeout: 120_000 });
    for (const section of ["1. A Hugging Face checkpoint", "2. Forward with hooks", "3. Intervene", "4. Differentiate", "5. Generate", "6. Experiment engine"]) {
      assert.match(stdout, new RegExp(section.replace(/[.]/g, "\\.")), `missing section: ${section}`);
    }
    // The gradient printed must agree with its own finite-difference check.
    const m = /\|∇\| = ([\d.]+); central finite difference along ∇ gives ([\d.]+)/.exec(stdout);
    assert.ok(m, "gradient line missing");
    assert.ok(Math.abs(Number(m[1]) - Number(m[2])) <= 0.01 * Number(m[1]) + 1e-4, `gradient ${m[1]} vs finite difference ${m[2]}`);
    // Adding the unembedding direction of "mat" must raise its probability.
    const p = /P\("mat"\) ([\d.]+)% → ([\d.]+)%/.exec(stdout);
    assert.ok(p && Number(p[2]) > Number(p[1]), "the intervention should raise P(mat)");
    const html = await readFile(path.join(store, "reports", "demo-branin-tpe", "report.html"), "utf8");
    assert.match(html, /<svg/);
    // A second run reuses the checkpoint and the finished study.
    const again = await run(process.execPath, [bin, "demo", "--store", store], { timeout: 120_000 });
    assert.match(again.stdout, /reusing/);
  } finally {
    await rm(store, { recursive: true, force: true });
  }
});
