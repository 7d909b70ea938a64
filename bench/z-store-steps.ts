/**
 * How far z* got, from the z* store itself: every entry keeps its final loss and step count
 * (value-cache.ts), so this tells requests that converged (loss < 5e-2, ROME's and MEMIT's early
 * stop) from requests that ran to v_num_grad_steps, without rerunning anything. Entries are
 * grouped by the hour they were written (UTC), which separates runs made one after the other;
 * `--since` keeps the entries written from that time on as one group.
 *
 *   node --import tsx bench/z-store-steps.ts [--dir .scalpel/edit-cache] [--d-model 256] [--since 2026-12-07T10:58Z]
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { decodeValueEntry } from "../src/edit/value-cache.js";
import { DEFAULT_STATS_DIR } from "../src/edit/stats-store-node.js";

const { values } = parseArgs({ options: { dir: { type: "string", default: DEFAULT_STATS_DIR }, "d-model": { type: "string", default: "256" }, since: { type: "string" } } });
const d = Number(values["d-model"]);
const since = values.since ? Date.parse(values.since) : Infinity;

const groups = new Map<string, { steps: number[]; loss: number[] }>();
for (const name of readdirSync(values.dir!).filter((f) => f.startsWith("value-"))) {
  const file = path.join(values.dir!, name);
  const entry = decodeValueEntry(new Uint8Array(readFileSync(file)), d);
  if (!entry) continue; // another model width
  const written = statSync(file).mtimeMs;
  const group = written >= since ? `since ${values.since}` : `${new Date(written).toISOString().slice(0, 13)}h`;
  const g = groups.get(group) ?? { steps: [], loss: [] };
  g.steps.push(entry.steps);
  g.loss.push(entry.loss);
  groups.set(group, g);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`z* entries of width ${d} in ${values.dir}, by when they were written\n`);
console.log("| written | entries | mean steps | max steps (entries there) | converged (loss < 0.05) | median loss |");
console.log("|---|---|---|---|---|---|");
for (const [group, { steps, loss }] of [...groups].sort()) {
  const most = Math.max(...steps);
  console.log(
    `| ${group} | ${steps.length} | ${(steps.reduce((a, b) => a + b, 0) / steps.length).toFixed(1)} | ${most} (${steps.filter((s) => s === most).length}) | ${loss.filter((l) => l < 5e-2).length} | ${median(loss).toFixed(3)} |`,
  );
}
