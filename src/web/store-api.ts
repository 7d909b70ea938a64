/**
 * The lab's read-only JSON API over a results store, mounted by the server at /api/store.
 *
 * Read-only twice over: the database is opened with SQLite's readonly flag (so no statement can
 * write, whatever a route does) and every route is a GET built from the store's own query
 * functions. A runner or study may be writing the same store while the lab serves it; WAL mode
 * lets both go on, and each request sees the latest committed state.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { Hono, type Context } from "hono";
import { ScalpelError } from "../errors.js";
import { renderReport } from "../lab/report/render.js";
import { SCHEMA_VERSION } from "../lab/store/ddl.js";
import { studyOverview } from "../lab/store/describe.js";
import { reportData } from "../lab/store/report-data.js";
import { getConfig, getRun, listRuns, listStages, metricSeries, summaryMetrics, type RunRow } from "../lab/store/runs.js";
import { StoreError, type DB, type Store } from "../lab/store/store.js";
import { getStudy, listStudies, listTrials, loadFrozenTrials, studySpec, type StudyRow } from "../lab/store/studies.js";
import { suggest } from "../lab/suggest.js";
import type { ParamValue, TrialState } from "../analysis/search/types.js";
import type { StudySpec } from "../lab/study/spec.js";

// ---- Response shapes (the browser view imports these as types, so both sides agree) ----

export interface StudySummary {
  id: number;
  name: string;
  kind: string;
  mode: string;
  metric: string;
  direction: "minimize" | "maximize";
  status: "running" | "done";
  n_trials: number;
  counts: Record<TrialState, number>;
  /** Best objective over complete trials; null before one completes. */
  best: number | null;
  created_at: string;
  ended_at: string | null;
}

export interface TrialInfo {
  number: number;
  state: TrialState;
  value: number | null;
  params: Record<string, ParamValue>;
  /** [step, value] pairs in step order. */
  intermediate: [number, number][];
  run_id: string;
  seed: number;
  attempt: number;
  error: string | null;
  started_at: string;
  ended_at: string | null;
}

export interface StudyDetail {
  study: StudySummary & { seed: number; source_file: string | null };
  spec: StudySpec;
  config: unknown;
  manifest: unknown;
  trials: TrialInfo[];
}

export interface RunSummary {
  id: string;
  name: string;
  kind: string;
  status: RunRow["status"];
  seed: number;
  /** The study's name when the run is one of its trials (or its final evaluation). */
  study: string | null;
  trial_number: number | null;
  started_at: string;
  ended_at: string | null;
  error: string | null;
  metrics: Record<string, number>;
}

export interface RunDetail {
  run: RunSummary & { source_file: string | null };
  config: unknown;
  manifest: unknown;
  stages: { name: string; status: string; cached: boolean; artifact: string | null; started_at: string | null; ended_at: string | null; error: string | null }[];
  metrics: Record<string, number>;
  series: { stage: string; name: string; step: number; value: number }[];
  /** How many per-case rows the run has (fetch them from /runs/:id/cases). */
  case_count: number;
}

export interface CasePage {
  total: number;
  offset: number;
  limit: number;
  cases: { case_id: string; stage: string; metrics: Record<string, number> }[];
}

/** Every error response: what went wrong and what to do about it. */
export interface ApiError {
  error: string;
  fix?: string;
}

// ---- Opening ----

/**
 * Open DIR/scalpel.db for reading only. Unlike openStore it never creates the folder, the
 * database or its tables and never migrates: a lab pointed at the wrong folder must say so, not
 * leave an empty store behind.
 */
export function openStoreReadOnly(dir: string): Store {
  const abs = path.resolve(dir);
  const file = path.join(abs, "scalpel.db");
  if (!existsSync(file)) {
    throw new StoreError("STORE_MISSING", `no results store in ${abs} (there is no scalpel.db)`, {
      file: abs,
      fix: "pass the folder that 'scalpel run' or 'scalpel study' wrote (default ./.scalpel) with --store DIR",
    });
  }
  let db: DB;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    // A runner may hold the write lock for a moment (a checkpoint); wait rather than fail a page load.
    db.pragma("busy_timeout = 5000");
  } catch (e) {
    throw new StoreError("STORE_OPEN", `cannot open the store: ${(e as Error).message}`, { file: abs, fix: "check that the file is readable and is a scalpel store" });
  }
  checkSchema(db, abs);
  return { dir: abs, db, artifactsDir: path.join(abs, "artifacts"), resources: new Map(), close: () => db.close() };
}

/** A store of another schema version cannot be read here: migrating would need a write. */
function checkSchema(db: DB, abs: string): void {
  let version: number | undefined;
  try {
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
    version = row && Number(row.value);
  } catch {
    version = undefined; // no meta table: not a scalpel store
  }
  if (version === SCHEMA_VERSION) return;
  db.close();
  if (version === undefined) throw new StoreError("STORE_NOT_SCALPEL", `${abs}/scalpel.db is not a scalpel results store`, { file: abs, fix: "pass the folder a scalpel run wrote with --store DIR" });
  throw new StoreError("STORE_VERSION", `store schema version ${version}; this lab reads version ${SCHEMA_VERSION} only`, {
    file: abs,
    fix: version < SCHEMA_VERSION ? `run 'scalpel runs --store ${abs}' once to migrate it, then start the lab again` : "upgrade scalpel",
  });
}

// ---- Routes ----

/** A client mistake: answered with its status and {error, fix} instead of a 500. */
class ApiFailure extends ScalpelError {
  constructor(
    readonly status: 400 | 404,
    /** The message without ScalpelError's ". Fix: …" suffix: the fix travels in its own field. */
    readonly reason: string,
    fix: string,
  ) {
    super(status === 404 ? "NOT_FOUND" : "BAD_QUERY", reason, { fix });
  }
}

const LIST_HINT = "list them with GET /api/store/studies and /api/store/runs, or 'scalpel runs'";

export function storeRoutes(store: Store): Hono {
  const db = store.db;
  const app = new Hono();

  app.get("/studies", (c) => c.json({ studies: listStudies(db).map((s) => studySummary(store, s)) }));

  app.get("/studies/:name", (c) => c.json(studyDetail(store, requireStudyRow(db, c.req.param("name")))));

  app.get("/runs", (c) => {
    const limit = intQuery(c, "limit", 100, 1, 10_000);
    const standalone = boolQuery(c, "standalone", false);
    const names = studyNames(db);
    return c.json({ runs: listRuns(db, { limit, standalone }).map((r) => runSummary(db, r, names)) });
  });

  app.get("/runs/:id", (c) => c.json(runDetail(db, requireRun(db, c.req.param("id")))));

  app.get("/runs/:id/cases", (c) => {
    const run = requireRun(db, c.req.param("id"));
    const offset = intQuery(c, "offset", 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = intQuery(c, "limit", 100, 1, 1000);
    return c.json(casePage(db, run.id, offset, limit));
  });

  app.get("/report/:target", async (c) => {
    const target = c.req.param("target");
    if (!getStudy(db, target) && !getRun(db, target)) throw notFound("run or study", target, [...listStudies(db).map((s) => s.name), ...listRuns(db).map((r) => r.id)]);
    const { html } = await renderReport(reportData(store, target));
    return c.html(html);
  });

  app.notFound((c) => c.json<ApiError>({ error: `no such route: ${c.req.method} ${c.req.path}`, fix: "the store API has GET /studies, /studies/:name, /runs, /runs/:id, /runs/:id/cases and /report/:target" }, 404));

  app.onError((e, c) => {
    if (e instanceof ApiFailure) return c.json<ApiError>({ error: e.reason, fix: e.fix }, e.status);
    console.error(e);
    return c.json<ApiError>({ error: e.message }, 500);
  });
  return app;
}

function notFound(what: string, name: string, known: readonly string[]): ApiFailure {
  return new ApiFailure(404, `no ${what} named '${name}' in this store${suggest(name, known)}`, LIST_HINT);
}

function requireStudyRow(db: DB, name: string): StudyRow {
  const row = getStudy(db, name);
  if (!row) throw notFound("study", name, listStudies(db).map((s) => s.name));
  return row;
}

function requireRun(db: DB, id: string): RunRow {
  const row = getRun(db, id);
  if (!row) throw notFound("run", id, listRuns(db).map((r) => r.id));
  return row;
}

/** A non-negative integer query parameter within [min, max]; absent gives the default. */
function intQuery(c: Context, name: string, fallback: number, min: number, max: number): number {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ApiFailure(400, `query parameter ${name}=${raw} is not an integer from ${min} to ${max}`, `pass ${name}=N with ${min} ≤ N ≤ ${max}`);
  return n;
}

function boolQuery(c: Context, name: string, fallback: boolean): boolean {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new ApiFailure(400, `query parameter ${name}=${raw} is not a boolean`, `pass ${name}=true or ${name}=false`);
}

// ---- Shaping rows into responses ----

function studySummary(store: Store, s: StudyRow): StudySummary {
  const o = studyOverview(store, s);
  return {
    id: s.id,
    name: s.name,
    kind: s.kind,
    mode: s.mode,
    metric: s.metric,
    direction: s.direction,
    status: s.status,
    n_trials: o.nTrials,
    counts: o.counts,
    best: o.best,
    created_at: s.created_at,
    ended_at: s.ended_at,
  };
}

function studyDetail(store: Store, s: StudyRow): StudyDetail {
  const db = store.db;
  // Params and intermediate values in bulk (three queries), not one query per trial.
  const frozen = new Map(loadFrozenTrials(db, s.id).map((t) => [t.number, t]));
  const trials = listTrials(db, s.id).map((t): TrialInfo => {
    const f = frozen.get(t.number);
    return {
      number: t.number,
      state: t.state,
      value: t.value,
      params: f?.params ?? {},
      intermediate: f ? [...f.intermediate].sort((a, b) => a[0] - b[0]) : [],
      run_id: t.run_id,
      seed: t.seed,
      attempt: t.attempt,
      error: t.error,
      started_at: t.started_at,
      ended_at: t.ended_at,
    };
  });
  return {
    study: { ...studySummary(store, s), seed: s.seed, source_file: s.source_file },
    spec: studySpec(s),
    config: getConfig(db, s.config_hash),
    manifest: JSON.parse(s.manifest),
    trials,
  };
}

const studyNames = (db: DB) => new Map(listStudies(db).map((s) => [s.id, s.name]));

function runSummary(db: DB, r: RunRow, names: Map<number, string>): RunSummary {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    status: r.status,
    seed: r.seed,
    study: r.study_id === null ? null : (names.get(r.study_id) ?? null),
    trial_number: r.trial_number,
    started_at: r.started_at,
    ended_at: r.ended_at,
    error: r.error,
    metrics: summaryMetrics(db, r.id),
  };
}

function runDetail(db: DB, r: RunRow): RunDetail {
  return {
    run: { ...runSummary(db, r, studyNames(db)), source_file: r.source_file },
    config: getConfig(db, r.config_hash),
    manifest: JSON.parse(r.manifest),
    stages: listStages(db, r.id).map((st) => ({
      name: st.name,
      status: st.status,
      cached: Boolean(st.cached),
      artifact: st.artifact,
      started_at: st.started_at,
      ended_at: st.ended_at,
      error: st.error,
    })),
    metrics: summaryMetrics(db, r.id),
    series: metricSeries(db, r.id),
    case_count: countCases(db, r.id),
  };
}

// runs.ts's caseResults returns every case of a run in long format; a page of a large edit run
// (thousands of cases) needs LIMIT/OFFSET over case_results' one-row-per-case layout instead.
function countCases(db: DB, runId: string): number {
  return (db.prepare("SELECT COUNT(*) AS n FROM case_results WHERE run_id = ?").get(runId) as { n: number }).n;
}

function casePage(db: DB, runId: string, offset: number, limit: number): CasePage {
  const rows = db
    .prepare("SELECT case_id, stage, metrics FROM case_results WHERE run_id = ? ORDER BY stage, case_id LIMIT ? OFFSET ?")
    .all(runId, limit, offset) as { case_id: string; stage: string; metrics: string }[];
  return {
    total: countCases(db, runId),
    offset,
    limit,
    cases: rows.map((r) => ({ case_id: r.case_id, stage: r.stage, metrics: JSON.parse(r.metrics) as Record<string, number> })),
  };
}
