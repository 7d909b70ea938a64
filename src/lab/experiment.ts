/** Starting and resuming single runs from configs and from the store. */
import { randomBytes } from "node:crypto";
import { ScalpelError } from "../errors.js";
import { suggest } from "./suggest.js";
import type { Experiment } from "./config.js";
import { getKind } from "./kinds/registry.js";
import { sweepScratch } from "./artifacts.js";
import { executeRun, type RunHooks, type RunOutcome } from "./runner.js";
import { getConfig, getRun, listRuns } from "./store/runs.js";
import type { Store } from "./store/store.js";
import { listStudies } from "./store/studies.js";

export class RunNotFound extends ScalpelError {}

/** A readable, unique run id: name-YYYYMMDD-HHMMSS-xxxx. */
export function newRunId(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${name.replace(/[^A-Za-z0-9._-]/g, "_")}-${stamp}-${randomBytes(2).toString("hex")}`;
}

export async function startRun(store: Store, exp: Experiment, hooks: RunHooks = {}, id = newRunId(exp.name)): Promise<RunOutcome> {
  return executeRun(store, { id, name: exp.name, kind: exp.kind, config: exp.config, seed: exp.seed, sourceFile: exp.file }, hooks);
}

/** Re-run a stored run under the same id: finished stages are reused, the rest computed. */
export async function resumeRun(store: Store, id: string, hooks: RunHooks = {}): Promise<RunOutcome> {
  const row = getRun(store.db, id);
  if (!row) {
    const ids = [...listStudies(store.db).map((st) => st.name), ...listRuns(store.db).map((r) => r.id)];
    throw new RunNotFound("NO_SUCH_RUN", `no run or study named '${id}' in ${store.dir}${suggest(id, ids)}`, { fix: "list them with 'scalpel runs'" });
  }
  const config = getConfig(store.db, row.config_hash) as Record<string, unknown>;
  await sweepScratch(store.artifactsDir);
  return executeRun(store, { id: row.id, name: row.name, kind: getKind(row.kind), config, seed: row.seed, sourceFile: row.source_file ?? undefined, studyId: row.study_id ?? undefined, trialNumber: row.trial_number ?? undefined }, hooks);
}
