/** A store written by schema 1 (long-format case_results) opens as schema 2 with the same numbers, one row per case. */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { openStore } from "../../src/lab/store/store.js";
import { caseResults } from "../../src/lab/store/runs.js";

test("schema 1 case_results are migrated to one row per case on open", () => {
  const dir = mkdtempSync(join(tmpdir(), "scalpel-migrate-"));
  const s1 = openStore(dir);
  // Turn the fresh store back into a schema-1 one holding two cases of one run.
  s1.db.exec(`DROP VIEW case_metrics; DROP TABLE case_results;
    CREATE TABLE case_results (run_id TEXT NOT NULL, stage TEXT NOT NULL, case_id TEXT NOT NULL, metric TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY (run_id, stage, case_id, metric));
    INSERT INTO configs VALUES ('h', 'edit', '{}', 'now');
    INSERT INTO runs (id, name, kind, config_hash, seed, status, manifest, started_at) VALUES ('r', 'r', 'edit', 'h', 0, 'done', '{}', 'now');
    INSERT INTO case_results VALUES ('r', 'edits', 'c1', 'efficacy_score', 1), ('r', 'edits', 'c1', 'locality', 0.5), ('r', 'edits', 'c2', 'efficacy_score', 0);
    UPDATE meta SET value = '1' WHERE key = 'schema_version';`);
  s1.close();
  const s2 = openStore(dir);
  try {
    assert.equal((s2.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string }).value, "2");
    const rows = s2.db.prepare("SELECT case_id, metrics FROM case_results ORDER BY case_id").all() as { case_id: string; metrics: string }[];
    assert.deepEqual(rows.map((r) => [r.case_id, JSON.parse(r.metrics)]), [["c1", { efficacy_score: 1, locality: 0.5 }], ["c2", { efficacy_score: 0 }]]);
    assert.deepEqual(caseResults(s2.db, "r").map((r) => [r.case_id, r.metric, r.value]), [["c1", "efficacy_score", 1], ["c1", "locality", 0.5], ["c2", "efficacy_score", 0]]);
  } finally {
    s2.close();
  }
});
