/**
 * The store's tables. One SQLite file (.scalpel/scalpel.db) that any SQLite tool can open:
 *   configs        resolved configs by content hash
 *   runs           one row per run, with its manifest (seed, git, versions, machine, times)
 *   stages         each run's stages: status, the artifact they produced or reused
 *   artifacts      index of the content-addressed artifact directory, with the code version
 *                  (kind@version) that made each one
 *   metrics        summary values (step NULL) and series over steps
 *   case_results   one row per case: (run, stage, case) and every metric of that case as a JSON
 *                  object, e.g. json_extract(metrics, '$.efficacy'); the view case_metrics lists
 *                  the same numbers in long format (run, stage, case, metric, value)
 *   studies        searches and sweeps, with their resolved spec and the process driving them
 *   trials         one row per trial; attempt guards against stale workers after a resume
 *   trial_params, trial_intermediate_values   Optuna's trial model, one row per value
 */
export const SCHEMA_VERSION = 2;

export const DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS configs (
  hash TEXT PRIMARY KEY, kind TEXT NOT NULL, json TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL,
  config_hash TEXT NOT NULL REFERENCES configs(hash), source_file TEXT,
  seed INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'pruned')),
  study_id INTEGER REFERENCES studies(id), trial_number INTEGER,
  manifest TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, error TEXT);
CREATE TABLE IF NOT EXISTS artifacts (
  hash TEXT PRIMARY KEY, code TEXT NOT NULL, stage TEXT NOT NULL, path TEXT NOT NULL,
  bytes INTEGER NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stages (
  run_id TEXT NOT NULL REFERENCES runs(id), name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  artifact TEXT REFERENCES artifacts(hash), cached INTEGER NOT NULL DEFAULT 0,
  started_at TEXT, ended_at TEXT, error TEXT,
  PRIMARY KEY (run_id, name));
CREATE TABLE IF NOT EXISTS metrics (
  run_id TEXT NOT NULL REFERENCES runs(id), stage TEXT NOT NULL, name TEXT NOT NULL,
  step INTEGER, value REAL NOT NULL);
CREATE INDEX IF NOT EXISTS metrics_by_run ON metrics (run_id, name, step);
CREATE TABLE IF NOT EXISTS case_results (
  run_id TEXT NOT NULL REFERENCES runs(id), stage TEXT NOT NULL, case_id TEXT NOT NULL,
  metrics TEXT NOT NULL,
  PRIMARY KEY (run_id, stage, case_id));
CREATE TABLE IF NOT EXISTS studies (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, mode TEXT NOT NULL,
  config_hash TEXT NOT NULL REFERENCES configs(hash), spec TEXT NOT NULL,
  metric TEXT NOT NULL, direction TEXT NOT NULL CHECK (direction IN ('minimize', 'maximize')),
  seed INTEGER NOT NULL, status TEXT NOT NULL CHECK (status IN ('running', 'done')),
  source_file TEXT, manifest TEXT NOT NULL, created_at TEXT NOT NULL, ended_at TEXT,
  driver_host TEXT, driver_pid INTEGER);
CREATE TABLE IF NOT EXISTS trials (
  study_id INTEGER NOT NULL REFERENCES studies(id), number INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('running', 'complete', 'pruned', 'fail')),
  value REAL, seed INTEGER NOT NULL, run_id TEXT NOT NULL, attempt INTEGER NOT NULL,
  error TEXT, started_at TEXT NOT NULL, ended_at TEXT,
  PRIMARY KEY (study_id, number));
CREATE TABLE IF NOT EXISTS trial_params (
  study_id INTEGER NOT NULL, number INTEGER NOT NULL, name TEXT NOT NULL,
  value TEXT NOT NULL, distribution TEXT NOT NULL,
  PRIMARY KEY (study_id, number, name),
  FOREIGN KEY (study_id, number) REFERENCES trials(study_id, number));
CREATE TABLE IF NOT EXISTS trial_intermediate_values (
  study_id INTEGER NOT NULL, number INTEGER NOT NULL, step INTEGER NOT NULL, value REAL NOT NULL,
  PRIMARY KEY (study_id, number, step),
  FOREIGN KEY (study_id, number) REFERENCES trials(study_id, number));

`;

/** The long-format view over case_results; created after any migration (it reads the new columns). */
export const VIEWS = `
CREATE VIEW IF NOT EXISTS case_metrics AS
  SELECT c.run_id AS run_id, c.stage AS stage, c.case_id AS case_id, j.key AS metric, j.value AS value
  FROM case_results c, json_each(c.metrics) j;
`;

/**
 * Schema 1 kept case_results in long format (one row per case and metric). Schema 2 keeps one row
 * per case; the same numbers, grouped, in one transaction.
 */
export const MIGRATE_1_TO_2 = `
ALTER TABLE case_results RENAME TO case_results_v1;
CREATE TABLE case_results (
  run_id TEXT NOT NULL REFERENCES runs(id), stage TEXT NOT NULL, case_id TEXT NOT NULL,
  metrics TEXT NOT NULL,
  PRIMARY KEY (run_id, stage, case_id));
INSERT INTO case_results (run_id, stage, case_id, metrics)
  SELECT run_id, stage, case_id, json_group_object(metric, value) FROM case_results_v1 GROUP BY run_id, stage, case_id;
DROP TABLE case_results_v1;
`;
