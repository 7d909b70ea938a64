/**
 * Pools single-edit acceptance rows measured on disjoint case ranges (bench/editing-acceptance.ts
 * --from) into one row, as if one run had covered all the cases: single edits are independent, so
 * the per-case metrics are the same and only the aggregation differs.
 *
 *   mean = Σ nᵢ mᵢ / n,  std² = Σ nᵢ (sᵢ² + (mᵢ − mean)²) / n   (population std, as metrics.ts)
 *   S    = harmonic mean of the pooled ES, PS, NS (as aggregateMetrics)
 *
 * usage: node --import tsx bench/pool-acceptance.ts A.json B.json [...] [--label "ROME, single edits"]
 * Pools the first row of each file (each file one section); prints the pooled summary as JSON.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { withScore, type MetricSummary } from "../src/eval/editing/index.js";

type Summary = Record<string, MetricSummary>;
interface Row { label: string; method: string; mode: string; n: number; summary: { pre: Summary; post: Summary } }

const { values, positionals } = parseArgs({ allowPositionals: true, options: { label: { type: "string" } } });
if (positionals.length < 2) throw new Error("usage: pool-acceptance.ts A.json B.json [...] [--label L]");
const rows: Row[] = positionals.map((f) => (JSON.parse(readFileSync(f, "utf8")) as Row[])[0]!);
if (new Set(rows.map((r) => `${r.method}/${r.mode}`)).size !== 1 || rows.some((r) => r.mode !== "single")) {
  throw new Error(`pool-acceptance: rows must all be single edits of one method, got ${rows.map((r) => `${r.method}/${r.mode}`).join(", ")}`);
}

function pool(parts: Summary[]): Summary {
  const out: Summary = {};
  for (const name of Object.keys(parts[0]!)) {
    if (name === "score") continue;
    const ps = parts.map((p) => p[name]).filter((p): p is MetricSummary => p !== undefined);
    const n = ps.reduce((a, p) => a + p.n, 0);
    const mean = ps.reduce((a, p) => a + p.n * p.mean, 0) / n;
    const variance = ps.reduce((a, p) => a + p.n * (p.std ** 2 + (p.mean - mean) ** 2), 0) / n;
    out[name] = { mean, std: Math.sqrt(variance), n };
  }
  return withScore(out);
}

const n = rows.reduce((a, r) => a + r.n, 0);
const pooled = { label: values.label ?? `${rows[0]!.label} (pooled)`, method: rows[0]!.method, mode: "single", n, pooledFrom: positionals, summary: { pre: pool(rows.map((r) => r.summary.pre)), post: pool(rows.map((r) => r.summary.post)) } };
console.log(JSON.stringify([pooled], null, 2));
