import { test } from "node:test";
import assert from "node:assert/strict";
import { formatDuration, Progress, renderBar } from "../../src/lab/progress.js";

test("the bar shows done/total, percent and an ETA from the average pace so far", () => {
  assert.equal(renderBar("study", 5, 20, 10_000, 10), "study [###-------] 5/20 25% ETA 30s");
  assert.equal(renderBar("study", 0, 20, 1_000, 10), "study [----------] 0/20 0% ETA --");
  assert.equal(renderBar("x", 3, 3, 500, 4, "best 0.4"), "x [####] 3/3 100% ETA 0s best 0.4");
});

test("durations read naturally", () => {
  assert.equal(formatDuration(59_400), "59s");
  assert.equal(formatDuration(61_000), "1m01s");
  assert.equal(formatDuration(3_720_000), "1h02m");
  assert.equal(formatDuration(Number.NaN), "--");
});

test("Progress draws only where enabled (a TTY), so logs and --json stay clean", () => {
  const written: string[] = [];
  const stream = { isTTY: false, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
  const off = new Progress({ label: "a", total: 2, stream });
  off.update(1);
  off.finish();
  assert.equal(written.length, 0);
  const on = new Progress({ label: "a", total: 2, stream, enabled: true });
  on.update(2);
  on.finish();
  assert.ok(written.some((w) => w.includes("a [") && w.includes("2/2 100%")));
  assert.equal(written.at(-1), "\n");
});
