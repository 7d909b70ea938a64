/** Runs, their configs, stages, metrics and per-case results in the store. */
import { hashValue, canonicalJson } from "../hash.js";
import type { Manifest } from "../manifest.js";
import { nowIso, type DB } from "./store.js";

export type RunStatus = "running" | "done" | "failed" | "pruned";

export interface RunRow {
  id: string;
  name: string;
  kind: string;
  config_hash: string;
  source_file: string | null;
  seed: number;
  status: RunStatus;
  study_id: number | null;
  trial_number: number | null;
  manifest: string;
  started_at: string;
  ended_at: string | null;
  error: string | null;
}

export interface MetricPoint {
  stage: string;
  name: string;
  step: number | null;
  value: number;
}

/** One case's metrics from one stage: one row of case_results. */
export interface CaseResult {
  stage: string;
  caseId: string;
  metrics: Record<string, number>;
}

/** Save a resolved config by content hash (idempotent); returns the hash. */
export function putConfig(db: DB, kind: string, config: unknown): string {
  const hash = hashValue({ kind, config });
  db.prepare("INSERT OR IGNORE INTO configs (hash, kind, json, created_at) VALUES (?, ?, ?, ?)").run(hash, kind, canonicalJson(config), nowIso());
  return hash;
}

export function getConfig(db: DB, hash: string): unknown {
  const row = db.prepare("SELECT json FROM configs WHERE hash = ?").get(hash) as { json: string } | undefined;
  return row ? JSON.parse(row.json) : undefined;
}

/** Create the run row, or mark an existing one running again (resume keeps the original manifest); never duplicates. */
export function upsertRun(
  db: DB,
  run: { id: string; name: string; kind: string; configHash: string; sourceFile?: string; seed: number; studyId?: number; trialNumber?: number; manifest: Manifest },
): void {
  db.prepare(
    `INSERT INTO runs (id, name, kind, config_hash, source_file, seed, status, study_id, trial_number, manifest, started_at)
     VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET status = 'running', ended_at = NULL, error = NULL`,
  ).run(run.id, run.name, run.kind, run.configHash, run.sourceFile ?? null, run.seed, run.studyId ?? null, run.trialNumber ?? null, JSON.stringify(run.manifest), run.manifest.startedAt);
}

export function getRun(db: DB, id: string): RunRow | undefined {
  return db.prepare("SELECT * FROM runs WHERE id = ?").get(id) as RunRow | undefined;
}

export function listRuns(db: DB, opts: { standalone?: boolean; limit?: number } = {}): RunRow[] {
  const where = opts.standalone ? "WHERE study_id IS NULL" : "";
  return db.prepare(`SELECT * FROM runs ${where} ORDER BY started_at DESC LIMIT ?`).all(opts.limit ?? 1000) as RunRow[];
}

export function finishRun(db: DB, id: string, status: RunStatus, error?: string): void {
  const row = getRun(db, id);
  const manifest = row ? { ...JSON.parse(row.manifest), endedAt: nowIso() } : undefined;
  db.prepare("UPDATE runs SET status = ?, ended_at = ?, error = ?, manifest = COALESCE(?, manifest) WHERE id = ?").run(
    status,
    nowIso(),
    error ?? null,
    manifest ? JSON.stringify(manifest) : null,
    id,
  );
}

export function markStageRunning(db: DB, runId: string, stage: string): void {
  db.prepare(
    `INSERT INTO stages (run_id, name, status, started_at) VALUES (?, ?, 'running', ?)
     ON CONFLICT (run_id, name) DO UPDATE SET status = 'running', started_at = excluded.started_at, ended_at = NULL, error = NULL, artifact = NULL, cached = 0`,
  ).run(runId, stage, nowIso());
}

export function markStageFailed(db: DB, runId: string, stage: string, error: string): void {
  db.prepare("UPDATE stages SET status = 'failed', ended_at = ?, error = ? WHERE run_id = ? AND name = ?").run(nowIso(), error, runId, stage);
}

/**
 * A stage's completion, its metrics and its case results commit together in one transaction:
 * a crash leaves either all of them or none, and a re-run replaces rather than duplicates.
 */
export function commitStage(
  db: DB,
  runId: string,
  stage: string,
  artifact: { hash: string; code: string; path: string; bytes: number },
  cached: boolean,
  metrics: MetricPoint[],
  cases: CaseResult[],
): void {
  db.transaction(() => {
    db.prepare("INSERT OR IGNORE INTO artifacts (hash, code, stage, path, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)").run(
      artifact.hash,
      artifact.code,
      stage,
      artifact.path,
      artifact.bytes,
      nowIso(),
    );
    db.prepare("DELETE FROM metrics WHERE run_id = ? AND stage = ?").run(runId, stage);
    db.prepare("DELETE FROM case_results WHERE run_id = ? AND stage = ?").run(runId, stage);
    const m = db.prepare("INSERT INTO metrics (run_id, stage, name, step, value) VALUES (?, ?, ?, ?, ?)");
    for (const p of metrics) m.run(runId, stage, p.name, p.step, p.value);
    const c = db.prepare("INSERT OR REPLACE INTO case_results (run_id, stage, case_id, metrics) VALUES (?, ?, ?, ?)");
    for (const r of cases) c.run(runId, stage, r.caseId, JSON.stringify(r.metrics));
    db.prepare(
      `INSERT INTO stages (run_id, name, status, artifact, cached, started_at, ended_at) VALUES (?, ?, 'done', ?, ?, ?, ?)
       ON CONFLICT (run_id, name) DO UPDATE SET status = 'done', artifact = excluded.artifact, cached = excluded.cached, ended_at = excluded.ended_at, error = NULL`,
    ).run(runId, stage, artifact.hash, cached ? 1 : 0, nowIso(), nowIso());
  })();
}

export interface StageRow {
  run_id: string;
  name: string;
  status: string;
  artifact: string | null;
  cached: number;
  started_at: string | null;
  ended_at: string | null;
  error: string | null;
}

export function listStages(db: DB, runId: string): StageRow[] {
  return db.prepare("SELECT * FROM stages WHERE run_id = ? ORDER BY started_at").all(runId) as StageRow[];
}

/** Summary metrics (no step) of a run, by name. */
export function summaryMetrics(db: DB, runId: string): Record<string, number> {
  const rows = db.prepare("SELECT name, value FROM metrics WHERE run_id = ? AND step IS NULL").all(runId) as { name: string; value: number }[];
  return Object.fromEntries(rows.map((r) => [r.name, r.value]));
}

export function metricSeries(db: DB, runId: string): { stage: string; name: string; step: number; value: number }[] {
  return db.prepare("SELECT stage, name, step, value FROM metrics WHERE run_id = ? AND step IS NOT NULL ORDER BY name, step").all(runId) as never;
}

/** A run's per-case metrics in long format (one row per case and metric), from the case_metrics view. */
export function caseResults(db: DB, runId: string): { stage: string; case_id: string; metric: string; value: number }[] {
  return db.prepare("SELECT stage, case_id, metric, value FROM case_metrics WHERE run_id = ? ORDER BY stage, case_id, metric").all(runId) as never;
}
