/**
 * Studies and trials in the store, following Optuna's model (trials with params, intermediate
 * values by step, a state and a value).
 *
 * Exactly-once under crashes: a trial and its params are created in one transaction; its final
 * state and value are written in one statement guarded by `attempt`. When a resume re-runs a
 * trial that was left `running`, it bumps `attempt` and clears the old intermediate values, so a
 * straggler from the killed attempt can no longer write anything — there is one row per trial,
 * always, and its value comes from one complete attempt.
 */
import os from "node:os";
import { ScalpelError } from "../../errors.js";
import { suggest } from "../suggest.js";
import type { Manifest } from "../manifest.js";
import type { Distribution, FrozenTrial, ParamValue, TrialParams, TrialState } from "../../analysis/search/types.js";
import type { StudySpec } from "../study/spec.js";
import { nowIso, type DB } from "./store.js";

export class StudyError extends ScalpelError {}

export interface StudyRow {
  id: number;
  name: string;
  kind: string;
  mode: string;
  config_hash: string;
  spec: string;
  metric: string;
  direction: "minimize" | "maximize";
  seed: number;
  status: "running" | "done";
  source_file: string | null;
  manifest: string;
  created_at: string;
  ended_at: string | null;
}

export interface TrialRow {
  study_id: number;
  number: number;
  state: TrialState;
  value: number | null;
  seed: number;
  run_id: string;
  attempt: number;
  error: string | null;
  started_at: string;
  ended_at: string | null;
}

export function studySpec(row: StudyRow): StudySpec {
  return JSON.parse(row.spec) as StudySpec;
}

/**
 * Create the study, or return the existing one of that name when its config and spec are the
 * same (re-launching a study continues it). A different config under the same name is an error.
 */
export function createOrOpenStudy(
  db: DB,
  s: { name: string; kind: string; mode: string; configHash: string; spec: StudySpec; seed: number; sourceFile?: string; manifest: Manifest },
): { study: StudyRow; created: boolean } {
  const specJson = JSON.stringify(s.spec);
  const existing = db.prepare("SELECT * FROM studies WHERE name = ?").get(s.name) as StudyRow | undefined;
  if (existing) {
    if (existing.config_hash !== s.configHash || existing.spec !== specJson || existing.seed !== s.seed) {
      throw new StudyError("STUDY_EXISTS", `a study named '${s.name}' already exists in this store with a different config`, {
        file: s.sourceFile,
        field: "study.name",
        fix: `give this study another name (study.name / sweep.name / name:), or continue the old one with 'scalpel resume ${s.name}'`,
      });
    }
    return { study: existing, created: false };
  }
  db.prepare(
    `INSERT INTO studies (name, kind, mode, config_hash, spec, metric, direction, seed, status, source_file, manifest, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)`,
  ).run(s.name, s.kind, s.mode, s.configHash, specJson, s.spec.metric, s.spec.direction, s.seed, s.sourceFile ?? null, JSON.stringify(s.manifest), nowIso());
  return { study: db.prepare("SELECT * FROM studies WHERE name = ?").get(s.name) as StudyRow, created: true };
}

export function getStudy(db: DB, nameOrId: string | number): StudyRow | undefined {
  return (typeof nameOrId === "number" ? db.prepare("SELECT * FROM studies WHERE id = ?").get(nameOrId) : db.prepare("SELECT * FROM studies WHERE name = ?").get(nameOrId)) as
    | StudyRow
    | undefined;
}

export function requireStudy(db: DB, name: string): StudyRow {
  const row = getStudy(db, name);
  if (!row) {
    const names = listStudies(db).map((st) => st.name);
    throw new StudyError("NO_SUCH_STUDY", `no study named '${name}' in this store${suggest(name, names)}`, { fix: "list them with 'scalpel runs'" });
  }
  return row;
}

export function listStudies(db: DB): StudyRow[] {
  return db.prepare("SELECT * FROM studies ORDER BY created_at DESC").all() as StudyRow[];
}

/**
 * Claim the study for this process. Two drivers on one study would restart each other's trials
 * and race for trial numbers, so a second one is refused while the first is alive (checked by pid
 * on the same host; a driver on another host is trusted to have ended).
 */
export function claimDriver(db: DB, studyId: number, isAlive: (pid: number) => boolean): void {
  const host = os.hostname();
  db.transaction(() => {
    const row = db.prepare("SELECT name, driver_host, driver_pid FROM studies WHERE id = ?").get(studyId) as { name: string; driver_host: string | null; driver_pid: number | null };
    if (row.driver_pid !== null && row.driver_pid !== process.pid && row.driver_host === host && isAlive(row.driver_pid)) {
      throw new StudyError("STUDY_BUSY", `study '${row.name}' is already being run by process ${row.driver_pid} on this machine`, {
        fix: "wait for it to finish, or stop that process and run 'scalpel resume' again",
      });
    }
    db.prepare("UPDATE studies SET driver_host = ?, driver_pid = ? WHERE id = ?").run(host, process.pid, studyId);
  }).immediate();
}

export function releaseDriver(db: DB, studyId: number): void {
  db.prepare("UPDATE studies SET driver_host = NULL, driver_pid = NULL WHERE id = ? AND driver_pid = ?").run(studyId, process.pid);
}

export function setStudyStatus(db: DB, id: number, status: "running" | "done"): void {
  db.prepare("UPDATE studies SET status = ?, ended_at = ? WHERE id = ?").run(status, status === "done" ? nowIso() : null, id);
}

/** Create trial `number` with its params (state running, attempt 1) in one transaction. */
export function insertTrial(
  db: DB,
  studyId: number,
  t: { number: number; params: TrialParams; distributions: Record<string, Distribution>; seed: number; runId: string },
): void {
  db.transaction(() => {
    db.prepare("INSERT INTO trials (study_id, number, state, seed, run_id, attempt, started_at) VALUES (?, ?, 'running', ?, ?, 1, ?)").run(
      studyId,
      t.number,
      t.seed,
      t.runId,
      nowIso(),
    );
    const p = db.prepare("INSERT INTO trial_params (study_id, number, name, value, distribution) VALUES (?, ?, ?, ?, ?)");
    for (const [name, value] of Object.entries(t.params)) p.run(studyId, t.number, name, JSON.stringify(value), JSON.stringify(t.distributions[name] ?? null));
  })();
}

/** Start a new attempt of an unfinished trial: later writes from the old attempt are ignored. */
export function restartTrial(db: DB, studyId: number, number: number): number {
  return db.transaction(() => {
    db.prepare("DELETE FROM trial_intermediate_values WHERE study_id = ? AND number = ?").run(studyId, number);
    db.prepare("UPDATE trials SET attempt = attempt + 1, state = 'running', value = NULL, error = NULL, ended_at = NULL, started_at = ? WHERE study_id = ? AND number = ?").run(
      nowIso(),
      studyId,
      number,
    );
    return (db.prepare("SELECT attempt FROM trials WHERE study_id = ? AND number = ?").get(studyId, number) as { attempt: number }).attempt;
  })();
}

/** Record an intermediate value; false when this attempt is no longer the trial's current one. */
export function writeIntermediate(db: DB, studyId: number, number: number, attempt: number, step: number, value: number): boolean {
  const r = db
    .prepare(
      `INSERT OR REPLACE INTO trial_intermediate_values (study_id, number, step, value)
       SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM trials WHERE study_id = ? AND number = ? AND attempt = ? AND state = 'running')`,
    )
    .run(studyId, number, step, value, studyId, number, attempt);
  return r.changes > 0;
}

/** Finish a trial (state + value + error in one statement); false when the attempt is stale or already finished. */
export function finishTrial(db: DB, studyId: number, number: number, attempt: number, state: Exclude<TrialState, "running">, value: number | null, error?: string): boolean {
  const r = db
    .prepare("UPDATE trials SET state = ?, value = ?, error = ?, ended_at = ? WHERE study_id = ? AND number = ? AND attempt = ? AND state = 'running'")
    .run(state, value, error ?? null, nowIso(), studyId, number, attempt);
  return r.changes > 0;
}

export function getTrial(db: DB, studyId: number, number: number): TrialRow | undefined {
  return db.prepare("SELECT * FROM trials WHERE study_id = ? AND number = ?").get(studyId, number) as TrialRow | undefined;
}

export function listTrials(db: DB, studyId: number): TrialRow[] {
  return db.prepare("SELECT * FROM trials WHERE study_id = ? ORDER BY number").all(studyId) as TrialRow[];
}

export function trialParams(db: DB, studyId: number, number: number): TrialParams {
  const rows = db.prepare("SELECT name, value FROM trial_params WHERE study_id = ? AND number = ?").all(studyId, number) as { name: string; value: string }[];
  return Object.fromEntries(rows.map((r) => [r.name, JSON.parse(r.value) as ParamValue]));
}

/** Every trial of the study as samplers and pruners see them. */
export function loadFrozenTrials(db: DB, studyId: number): FrozenTrial[] {
  const trials = listTrials(db, studyId);
  const params = db.prepare("SELECT number, name, value FROM trial_params WHERE study_id = ?").all(studyId) as { number: number; name: string; value: string }[];
  const inter = db.prepare("SELECT number, step, value FROM trial_intermediate_values WHERE study_id = ? ORDER BY number, step").all(studyId) as {
    number: number;
    step: number;
    value: number;
  }[];
  const byNumber = new Map<number, FrozenTrial>();
  for (const t of trials) {
    const ft: FrozenTrial = { number: t.number, state: t.state, params: {}, intermediate: new Map() };
    if (t.value !== null) ft.value = t.value;
    byNumber.set(t.number, ft);
  }
  for (const p of params) {
    const ft = byNumber.get(p.number);
    if (ft) ft.params[p.name] = JSON.parse(p.value) as ParamValue;
  }
  for (const i of inter) byNumber.get(i.number)?.intermediate.set(i.step, i.value);
  return [...byNumber.values()];
}

/** Total intermediate steps reported across the study (the cost pruning saves). */
export function totalSteps(db: DB, studyId: number): number {
  return (db.prepare("SELECT COUNT(*) AS n FROM trial_intermediate_values WHERE study_id = ?").get(studyId) as { n: number }).n;
}
