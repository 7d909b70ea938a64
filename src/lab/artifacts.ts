/**
 * Content-addressed stage outputs. A stage's artifact key hashes everything its output depends
 * on — the kind's code version, the stage name, the slice of config it uses and the keys of its
 * inputs — so an unchanged stage is found again and skipped, and a changed parameter invalidates
 * exactly the stages downstream of it.
 *
 * An artifact is a directory artifacts/<ab>/<hash>/ holding output.json (the stage's JSON output,
 * metrics and case results) and any files the stage wrote. It is built in a temporary directory
 * and renamed into place, so a killed process never leaves a half-written artifact behind.
 */
import { promises as fs, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { writeFileAtomic } from "../io/atomic.js";
import { hashValue } from "./hash.js";
import type { CaseResult, MetricPoint } from "./store/runs.js";

export interface ArtifactPayload {
  output: unknown;
  metrics: MetricPoint[];
  cases: CaseResult[];
}

export function artifactKey(code: string, stage: string, configSlice: unknown, inputs: Record<string, string>, seed?: number): string {
  // The seed joins the key only for seeded stages, so unseeded stages keep their keys (and caches).
  return hashValue({ code, stage, config: configSlice ?? null, inputs, ...(seed === undefined ? {} : { seed }) });
}

export function artifactDir(artifactsDir: string, hash: string): string {
  return path.join(artifactsDir, hash.slice(0, 2), hash);
}

/** The stored payload, or undefined when absent (or unreadable, which is treated as absent and recomputed). */
export async function readArtifact(artifactsDir: string, hash: string): Promise<ArtifactPayload | undefined> {
  let payload: ArtifactPayload;
  try {
    payload = JSON.parse(await fs.readFile(path.join(artifactDir(artifactsDir, hash), "output.json"), "utf8")) as ArtifactPayload;
  } catch {
    return undefined;
  }
  return { ...payload, cases: groupCases(payload.cases) };
}

/** Artifacts sealed before store schema 2 hold one case entry per metric; group them per case. */
function groupCases(cases: readonly (CaseResult | { stage: string; caseId: string; metric: string; value: number })[]): CaseResult[] {
  const out = new Map<string, CaseResult>();
  for (const c of cases) {
    const row = out.get(c.caseId) ?? { stage: c.stage, caseId: c.caseId, metrics: {} };
    Object.assign(row.metrics, "metrics" in c ? c.metrics : { [c.metric]: c.value });
    out.set(c.caseId, row);
  }
  return [...out.values()];
}

/**
 * A stage's checkpoint folder: unlike its scratch folder it survives the process (a killed edit
 * stream resumes from the last state written here) and is removed once the stage is sealed.
 */
export function checkpointDir(artifactsDir: string, hash: string): string {
  return path.join(artifactsDir, "partial", hash);
}

export async function readCheckpoint<T>(dir: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, "state.json"), "utf8")) as T;
  } catch {
    return undefined;
  }
}

/** Atomically replace the checkpoint's state (files the state names are written by the stage first). */
export async function writeCheckpoint(dir: string, state: unknown): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, "state.json"), JSON.stringify(state));
}

/** A fresh scratch directory a stage can write files into before its artifact is sealed. */
export async function scratchDir(artifactsDir: string, hash: string): Promise<string> {
  const dir = path.join(artifactsDir, "tmp", `${hash}.${process.pid}.${randomBytes(4).toString("hex")}`);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

/** Seal a scratch directory as the artifact `hash`; returns its path and size. Idempotent under races. */
export async function sealArtifact(artifactsDir: string, hash: string, scratch: string, payload: ArtifactPayload): Promise<{ path: string; bytes: number }> {
  const text = JSON.stringify(payload);
  await writeFileAtomic(path.join(scratch, "output.json"), text);
  const final = artifactDir(artifactsDir, hash);
  await fs.mkdir(path.dirname(final), { recursive: true });
  try {
    await fs.rename(scratch, final);
  } catch (e) {
    // Another process sealed the same content first: theirs is identical by construction, keep it.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw e;
    await fs.rm(scratch, { recursive: true, force: true });
  }
  return describeArtifact(artifactsDir, hash);
}

/** Where an artifact lives (relative to the store folder) and its size on disk. */
export async function describeArtifact(artifactsDir: string, hash: string): Promise<{ path: string; bytes: number }> {
  const dir = artifactDir(artifactsDir, hash);
  return { path: path.relative(path.dirname(artifactsDir), dir), bytes: await dirBytes(dir) };
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? await dirBytes(p) : (await fs.stat(p)).size;
  }
  return total;
}

/**
 * Remove scratch folders left by processes that died mid-stage (SIGKILL, OOM). A folder's name
 * carries its writer's pid; folders of live processes are left alone.
 */
export async function sweepScratch(artifactsDir: string): Promise<number> {
  const tmp = path.join(artifactsDir, "tmp");
  let removed = 0;
  let entries: string[];
  try {
    entries = await fs.readdir(tmp);
  } catch {
    return 0;
  }
  for (const name of entries) {
    const pid = Number(name.split(".")[1]);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    await fs.rm(path.join(tmp, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/** Whether a process with this pid exists on this machine. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0 only probes whether the process exists
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Remove this process's own scratch folders (a worker exiting early, mid-stage). */
export function removeOwnScratch(artifactsDir: string): void {
  const tmp = path.join(artifactsDir, "tmp");
  let entries: string[] = [];
  try {
    entries = readdirSync(tmp);
  } catch {
    return;
  }
  for (const name of entries) if (Number(name.split(".")[1]) === process.pid) rmSync(path.join(tmp, name), { recursive: true, force: true });
}
