/**
 * `scalpel train-default --variant`: the flag is checked before anything is built, and the help
 * names factworld-m's defaults. (The m-model's own smoke run takes minutes: see the issue-21 notes.)
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, "../../bin/scalpel.mjs");

test("an unknown --variant is a usage error; --help documents --variant m", async () => {
  await assert.rejects(run(process.execPath, [bin, "train-default", "--variant", "xl", "--out", "/nonexistent/x"]), (e: { stderr: string; code: number }) => {
    assert.notEqual(e.code, 0);
    assert.match(e.stderr, /--variant must be one of small, m/);
    return true;
  });
  const { stdout } = await run(process.execPath, [bin, "train-default", "--help"]);
  assert.match(stdout, /--variant V/);
  assert.match(stdout, /models\/factworld-m/);
});
