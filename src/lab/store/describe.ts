/** Read-side summaries of the store for `scalpel runs` (and scripts through --json). */
import { ScalpelError } from "../../errors.js";
import { suggest } from "../suggest.js";
import { caseResults, getConfig, getRun, listRuns, listStages, summaryMetrics } from "./runs.js";
import { getStudy, listStudies, listTrials, studySpec, trialParams, type StudyRow } from "./studies.js";
import type { Store } from "./store.js";

export function studyOverview(store: Store, s: StudyRow) {
  const spec = studySpec(s);
  const trials = listTrials(store.db, s.id);
  const counts = { complete: 0, pruned: 0, fail: 0, running: 0 };
  for (const t of trials) counts[t.state]++;
  const sign = s.direction === "minimize" ? 1 : -1;
  const values = trials.filter((t) => t.state === "complete" && t.value !== null).map((t) => t.value!);
  const best = values.length ? sign * Math.min(...values.map((v) => sign * v)) : null;
  return { name: s.name, kind: s.kind, mode: s.mode, status: s.status, nTrials: spec.nTrials, finished: trials.length - counts.running, counts, best, metric: s.metric, direction: s.direction };
}

export function describeStore(store: Store) {
  return {
    store: store.dir,
    studies: listStudies(store.db).map((s) => studyOverview(store, s)),
    runs: listRuns(store.db, { standalone: true }).map((r) => ({ id: r.id, name: r.name, kind: r.kind, status: r.status, started: r.started_at, metrics: summaryMetrics(store.db, r.id) })),
  };
}

export function describeTarget(store: Store, target: string) {
  const study = getStudy(store.db, target);
  if (study) {
    return {
      study: studyOverview(store, study),
      spec: studySpec(study),
      seed: study.seed,
      config: getConfig(store.db, study.config_hash),
      manifest: JSON.parse(study.manifest),
      trials: listTrials(store.db, study.id).map((t) => ({
        number: t.number,
        state: t.state,
        value: t.value,
        params: trialParams(store.db, study.id, t.number),
        seed: t.seed,
        attempt: t.attempt,
        run: t.run_id,
        ...(t.error ? { error: t.error } : {}),
      })),
    };
  }
  const run = getRun(store.db, target);
  if (!run) {
    const names = [...listStudies(store.db).map((s) => s.name), ...listRuns(store.db).map((r) => r.id)];
    throw new ScalpelError("NOT_FOUND", `no run or study named '${target}' in ${store.dir}${suggest(target, names)}`, { fix: "list them with 'scalpel runs'" });
  }
  return {
    run: { id: run.id, name: run.name, kind: run.kind, status: run.status, seed: run.seed, source: run.source_file, ...(run.error ? { error: run.error } : {}) },
    manifest: JSON.parse(run.manifest),
    config: getConfig(store.db, run.config_hash),
    stages: listStages(store.db, run.id).map((st) => ({ name: st.name, status: st.status, reused: Boolean(st.cached), artifact: st.artifact, ...(st.error ? { error: st.error } : {}) })),
    metrics: summaryMetrics(store.db, run.id),
    cases: caseResults(store.db, run.id),
  };
}
