/**
 * The study driver: asks the sampler for trials, runs them (in this process or in worker
 * processes through an Executor), and records everything in the store. Starting and resuming
 * are the same loop: trials left `running` by a killed driver are restarted first (new attempt,
 * same params and seed), then new trials are asked until the study has `nTrials`.
 *
 * Only one driver should run a given study at a time; workers it starts exit when it dies.
 */
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Experiment } from "../config.js";
import { isAlive, sweepScratch } from "../artifacts.js";
import { LocalExecutor, workerLimit } from "../executors/local.js";
import type { Executor, TaskStatus } from "../executors/types.js";
import { collectManifest } from "../manifest.js";
import type { TrialParams } from "../../analysis/search/types.js";
import { SearchExhaustedError } from "../../analysis/search/grid.js";
import { putConfig } from "../store/runs.js";
import {
  claimDriver,
  createOrOpenStudy,
  releaseDriver,
  finishTrial,
  getTrial,
  insertTrial,
  listTrials,
  loadFrozenTrials,
  restartTrial,
  setStudyStatus,
  studySpec,
  totalSteps,
  type StudyRow,
} from "../store/studies.js";
import type { Store } from "../store/store.js";
import "./builtin-search.js";
import { makeSampler } from "./search-factory.js";
import { trialSeed } from "./apply-params.js";
import type { StudySpec } from "./spec.js";
import { runTrial } from "./trial.js";
import { bestTrial, runFinal, type FinalOutcome } from "./final.js";

export interface StudyRunOptions {
  /** Run trials through this executor instead of the one the config asks for (tests, SLURM). */
  executor?: Executor;
  /** Called after every finished trial. */
  onProgress?(finished: number, total: number, best: number | undefined): void;
  /** Stop after this many trials have been dispatched by this call (for tests of resume). */
  maxDispatch?: number;
  /** How often to poll an executor that cannot signal task ends (default 1000 ms). */
  pollIntervalMs?: number;
}

export interface StudyResult {
  study: string;
  /** "study" or "sweep". */
  mode: string;
  studyId: number;
  nTrials: number;
  counts: { complete: number; pruned: number; fail: number; running: number };
  best?: { number: number; value: number; params: TrialParams };
  /** Intermediate steps reported over all trials (what pruning saves). */
  totalSteps: number;
  executor: string;
  workers: number;
  /** The best configuration's final (held-out) evaluation, for kinds that define one. */
  final?: FinalOutcome;
}

/** Create (or reopen) the study described by `exp` and drive it to completion. */
export async function runStudy(store: Store, exp: Experiment, options: StudyRunOptions = {}): Promise<StudyResult> {
  if (!exp.study) throw new Error(`${exp.file} has no study or sweep block`);
  const configHash = putConfig(store.db, exp.kind.name, exp.config);
  const { study } = createOrOpenStudy(store.db, {
    name: exp.study.name,
    kind: exp.kind.name,
    mode: exp.mode,
    configHash,
    spec: exp.study,
    seed: exp.seed,
    sourceFile: exp.file,
    manifest: collectManifest(exp.seed),
  });
  return driveStudy(store, study, options);
}

export async function driveStudy(store: Store, study: StudyRow, options: StudyRunOptions = {}): Promise<StudyResult> {
  const { db } = store;
  const spec = studySpec(study);
  claimDriver(db, study.id, isAlive);
  try {
    return await drive(store, study, spec, options);
  } finally {
    releaseDriver(db, study.id);
  }
}

async function drive(store: Store, study: StudyRow, spec: StudySpec, options: StudyRunOptions): Promise<StudyResult> {
  const { db } = store;
  const sampler = makeSampler(spec.sampler, { seed: study.seed, space: spec.space, nTrials: spec.nTrials });
  // Local workers share this machine, so cores and memory bound them; a cluster gets what was asked.
  const workers = spec.executor === "slurm" ? spec.parallel : workerLimit(spec.parallel, spec.memoryPerWorkerMb);
  const inline = !options.executor && (spec.executor === "inline" || (spec.executor === "auto" && workers === 1));
  setStudyStatus(db, study.id, "running");
  await sweepScratch(store.artifactsDir);

  const pending = listTrials(db, study.id).filter((t) => t.state === "running").map((t) => t.number);
  let dispatched = 0;
  const next = (): { number: number; attempt: number } | undefined => {
    if (options.maxDispatch !== undefined && dispatched >= options.maxDispatch) return undefined;
    if (pending.length > 0) {
      const number = pending.shift()!;
      dispatched++;
      return { number, attempt: restartTrial(db, study.id, number) };
    }
    const number = listTrials(db, study.id).length;
    if (number >= spec.nTrials) return undefined;
    let params: TrialParams;
    try {
      params = sampler.sample(spec.space, loadFrozenTrials(db, study.id), spec.direction, number);
    } catch (e) {
      if (e instanceof SearchExhaustedError) return undefined; // a grid smaller than n_trials: the study is complete
      throw e;
    }
    insertTrial(db, study.id, { number, params, distributions: spec.space, seed: trialSeed(study.seed, number, params), runId: `${study.name}/trial-${number}` });
    dispatched++;
    return { number, attempt: 1 };
  };
  const report = () => {
    if (!options.onProgress) return;
    const s = summarize(store, study);
    options.onProgress(s.counts.complete + s.counts.pruned + s.counts.fail, spec.nTrials, s.best?.value);
  };

  let executorName = "inline";
  if (inline) {
    for (let t = next(); t; t = next()) {
      await runTrial(store, study, t.number, t.attempt);
      report();
    }
  } else {
    const executor = options.executor ?? (await makeExecutor(spec, workers, path.join(store.dir, "logs", study.name)));
    executorName = executor.name;
    await driveWithExecutor(store, study, executor, workers, next, report, options.pollIntervalMs ?? 1000);
  }
  await sweepScratch(store.artifactsDir); // workers orphaned by an earlier killed driver have exited by now
  const finished = summarize(store, study).counts.running === 0 && options.maxDispatch === undefined;
  // The held-out evaluation of the best configuration, once all trials are in (kinds that define one).
  const final = finished ? await runFinal(store, study) : undefined;
  const result = { ...summarize(store, study), executor: executorName, workers: inline ? 1 : workers, ...(final ? { final } : {}) };
  if (finished) setStudyStatus(db, study.id, "done");
  return result;
}

async function makeExecutor(spec: StudySpec, workers: number, logDir: string): Promise<Executor> {
  if (spec.executor === "slurm") {
    const { SlurmExecutor } = await import("../executors/slurm.js");
    const o = spec.slurm;
    return new SlurmExecutor({
      workDir: path.join(logDir, "slurm"),
      logDir,
      maxParallel: workers,
      memMb: spec.memoryPerWorkerMb,
      jobName: `scalpel-${spec.name}`,
      partition: o?.partition ?? undefined,
      timeLimit: o?.time_limit ?? undefined,
      cpusPerTask: o?.cpus_per_task,
      extraSbatchArgs: o?.extra_args,
    });
  }
  return new LocalExecutor({ maxWorkers: workers, logDir });
}

async function driveWithExecutor(
  store: Store,
  study: StudyRow,
  executor: Executor,
  workers: number,
  next: () => { number: number; attempt: number } | undefined,
  report: () => void,
  pollIntervalMs: number,
): Promise<void> {
  const inFlight = new Map<string, { number: number; attempt: number }>();
  let exhausted = false;
  for (;;) {
    while (!exhausted && inFlight.size < workers) {
      const t = next();
      if (!t) {
        exhausted = true;
        break;
      }
      const id = `trial-${t.number}-attempt-${t.attempt}`;
      inFlight.set(id, t);
      await executor.submit([{ id, argv: ["run-trial", "--store", store.dir, "--study", study.name, "--trial", String(t.number), "--attempt", String(t.attempt)] }]);
    }
    if (inFlight.size === 0) return;
    if (executor instanceof LocalExecutor) await executor.nextEnd();
    else await sleep(pollIntervalMs);
    for (const st of await executor.poll()) {
      const t = inFlight.get(st.id);
      if (!t || !ended(st)) continue;
      inFlight.delete(st.id);
      // A worker that died without recording its trial (crash, OOM kill): record the failure here.
      const row = getTrial(store.db, study.id, t.number);
      if (row?.state === "running" && row.attempt === t.attempt) {
        finishTrial(store.db, study.id, t.number, t.attempt, "fail", null, `worker exited with code ${st.exitCode ?? "?"} without finishing (log: ${st.logFile ?? "none"})`);
      }
      report();
    }
  }
}

const ended = (s: TaskStatus) => s.state === "done" || s.state === "failed" || s.state === "cancelled";

export function summarize(store: Store, study: StudyRow): Omit<StudyResult, "executor" | "workers"> {
  const spec = studySpec(study);
  const trials = loadFrozenTrials(store.db, study.id);
  const counts = { complete: 0, pruned: 0, fail: 0, running: 0 };
  for (const t of trials) counts[t.state]++;
  const best = bestTrial(trials, spec.direction);
  return {
    study: study.name,
    mode: study.mode,
    studyId: study.id,
    nTrials: spec.nTrials,
    counts,
    best: best && { number: best.number, value: best.value!, params: best.params },
    totalSteps: totalSteps(store.db, study.id),
  };
}
