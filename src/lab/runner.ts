/**
 * Running one experiment: walk the kind's stage graph in dependency order; for each stage, find
 * its artifact by content hash and reuse it, or compute it, seal it and commit its metrics. The
 * same function resumes a run (same id): finished stages are found again, an interrupted one is
 * recomputed, and nothing is duplicated because a stage's rows are replaced in one transaction.
 */
import { promises as fs } from "node:fs";
import { artifactDir, artifactKey, checkpointDir, describeArtifact, readArtifact, readCheckpoint, scratchDir, sealArtifact, writeCheckpoint, type ArtifactPayload } from "./artifacts.js";
import { TrialPruned, type ExperimentKind, type StageContext } from "./kinds/types.js";
import { collectManifest } from "./manifest.js";
import { deriveSeed } from "../util/rng.js";
import { stageOrder } from "./stage-graph.js";
import { commitStage, finishRun, markStageFailed, markStageRunning, putConfig, summaryMetrics, upsertRun, type CaseResult, type MetricPoint } from "./store/runs.js";
import type { Store } from "./store/store.js";

export interface RunSpec {
  id: string;
  name: string;
  kind: ExperimentKind;
  config: Record<string, unknown>;
  seed: number;
  sourceFile?: string;
  studyId?: number;
  trialNumber?: number;
}

export interface RunHooks {
  /** Called on every `report()`; may throw TrialPruned to stop the run. */
  onReport?(step: number, value: number): void;
  /** A reused stage's reported series, so a trial's intermediate values are complete even from cache. */
  onReplay?(points: { step: number; value: number }[]): void;
  onStage?(stage: string, event: "start" | "cached" | "done"): void;
  onProgress?(stage: string, done: number, total: number): void;
}

export interface RunOutcome {
  runId: string;
  status: "done";
  metrics: Record<string, number>;
  stages: { name: string; artifact: string; cached: boolean }[];
}

/**
 * Thrown from a hook when this process's work was superseded (a resumed study restarted the trial
 * elsewhere): the run stops and, unlike a failure, records nothing — the newer attempt owns the rows.
 */
export class Superseded extends Error {
  override name = "Superseded";
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function executeRun(store: Store, spec: RunSpec, hooks: RunHooks = {}): Promise<RunOutcome> {
  const { db } = store;
  const { kind } = spec;
  const configHash = putConfig(db, kind.name, spec.config);
  upsertRun(db, {
    id: spec.id,
    name: spec.name,
    kind: kind.name,
    configHash,
    sourceFile: spec.sourceFile,
    seed: spec.seed,
    studyId: spec.studyId,
    trialNumber: spec.trialNumber,
    manifest: collectManifest(spec.seed),
  });
  const code = `${kind.name}@${kind.version}`;
  const keys: Record<string, string> = {};
  const outputs: Record<string, unknown> = {};
  const done: RunOutcome["stages"] = [];
  let current = "";
  try {
    for (const stage of stageOrder(kind.name, kind.stages)) {
      current = stage.name;
      const inputKeys = Object.fromEntries(stage.after.map((d) => [d, keys[d]!]));
      // A seeded stage's output depends on the run seed too (replicates of one config differ there).
      const key = artifactKey(code, stage.name, stage.uses(spec.config), inputKeys, stage.seeded ? spec.seed : undefined);
      keys[stage.name] = key;
      const existing = await readArtifact(store.artifactsDir, key);
      if (existing) {
        commitStage(db, spec.id, stage.name, { hash: key, code, ...(await describeArtifact(store.artifactsDir, key)) }, true, existing.metrics, existing.cases);
        hooks.onReplay?.(existing.metrics.filter((m) => m.name === kind.objective.metric && m.step !== null).map((m) => ({ step: m.step!, value: m.value })));
        outputs[stage.name] = existing.output;
        done.push({ name: stage.name, artifact: key, cached: true });
        hooks.onStage?.(stage.name, "cached");
        continue;
      }
      markStageRunning(db, spec.id, stage.name);
      hooks.onStage?.(stage.name, "start");
      const payload = await computeStage(store, spec, stage.name, key, code, outputs, keys, hooks);
      outputs[stage.name] = payload.output;
      done.push({ name: stage.name, artifact: key, cached: false });
      hooks.onStage?.(stage.name, "done");
    }
  } catch (e) {
    if (e instanceof Superseded) throw e;
    const pruned = e instanceof TrialPruned;
    if (current) markStageFailed(db, spec.id, current, errorText(e));
    finishRun(db, spec.id, pruned ? "pruned" : "failed", errorText(e));
    throw e;
  }
  finishRun(db, spec.id, "done");
  return { runId: spec.id, status: "done", metrics: summaryMetrics(db, spec.id), stages: done };
}

async function computeStage(
  store: Store,
  spec: RunSpec,
  stageName: string,
  key: string,
  code: string,
  outputs: Record<string, unknown>,
  keys: Record<string, string>,
  hooks: RunHooks,
): Promise<ArtifactPayload> {
  const stage = spec.kind.stages.find((st) => st.name === stageName)!;
  const metrics: MetricPoint[] = [];
  const cases = new Map<string, CaseResult>();
  const dir = await scratchDir(store.artifactsDir, key);
  const partial = checkpointDir(store.artifactsDir, key);
  const ctx: StageContext<Record<string, unknown>> = {
    config: spec.config,
    inputs: Object.fromEntries(stage.after.map((d) => [d, outputs[d]])),
    inputDirs: Object.fromEntries(stage.after.map((d) => [d, artifactDir(store.artifactsDir, keys[d]!)])),
    seed: deriveSeed(spec.seed, "stage", stageName),
    runSeed: spec.seed,
    dir,
    metric: (name, value, step) => metrics.push({ stage: stageName, name, step: step ?? null, value }),
    caseResult: (caseId, values) => {
      const row = cases.get(caseId) ?? { stage: stageName, caseId, metrics: {} };
      cases.set(caseId, { ...row, metrics: { ...row.metrics, ...values } });
    },
    report: (step, value) => {
      metrics.push({ stage: stageName, name: spec.kind.objective.metric, step, value });
      hooks.onReport?.(step, value);
    },
    progress: (d, total) => hooks.onProgress?.(stageName, d, total),
    resource: <T>(name: string, make: () => Promise<T>) => {
      let r = store.resources.get(name) as Promise<T> | undefined;
      if (!r) {
        r = make();
        store.resources.set(name, r);
        r.catch(() => store.resources.delete(name)); // a failed load is retried by the next stage
      }
      return r;
    },
    checkpoint: {
      dir: partial,
      read: () => readCheckpoint(partial),
      write: (state) => writeCheckpoint(partial, state),
    },
  };
  let output: unknown;
  try {
    output = await stage.run(ctx);
  } catch (e) {
    await fs.rm(dir, { recursive: true, force: true });
    throw e;
  }
  // Round-trip through JSON so a computed output and a reused one are the same value downstream.
  const payload: ArtifactPayload = { output: JSON.parse(JSON.stringify(output ?? null)), metrics, cases: [...cases.values()] };
  const sealed = await sealArtifact(store.artifactsDir, key, dir, payload);
  commitStage(store.db, spec.id, stageName, { hash: key, code, ...sealed }, false, metrics, payload.cases);
  // The stage is sealed: its in-stage checkpoint (an edit stream's progress) is no longer needed.
  await fs.rm(partial, { recursive: true, force: true });
  return payload;
}
