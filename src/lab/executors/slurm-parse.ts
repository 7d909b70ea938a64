/**
 * Parsers for SLURM's command output (pure functions, tested without a cluster):
 * `sbatch --parsable`, `squeue -h -r -o "%i|%T"`, `scontrol show job -o`, `sacct -n -P`.
 */
import type { TaskState } from "./types.js";

/** `sbatch --parsable` prints "jobid" or "jobid;cluster". */
export function parseSbatchParsable(out: string): string {
  const line = out.trim().split("\n").pop() ?? "";
  const id = line.split(";")[0]!.trim();
  if (!/^\d+$/.test(id)) throw new Error(`sbatch did not print a job id: ${out.trim()}`);
  return id;
}

/** SLURM job states (squeue %T / scontrol JobState / sacct State) to executor states. */
export function mapSlurmState(state: string): TaskState {
  const s = state.toUpperCase().split(/[ +]/)[0]!; // sacct: "CANCELLED by 0"
  switch (s) {
    case "PENDING":
    case "CONFIGURING":
    case "REQUEUED":
    case "REQUEUE_HOLD":
    case "REQUEUE_FED":
    case "RESV_DEL_HOLD":
      return "pending";
    case "RUNNING":
    case "COMPLETING":
    case "SUSPENDED":
    case "STAGE_OUT":
    case "SIGNALING":
    case "RESIZING":
      return "running";
    case "COMPLETED":
      return "done";
    case "CANCELLED":
    case "REVOKED":
      return "cancelled";
    default: // FAILED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, BOOT_FAIL, DEADLINE, PREEMPTED, SPECIAL_EXIT
      return "failed";
  }
}

/** Expand an array-index expression: "3", "0-4", "1,3-5", "0-9%2" (throttle), "[0-2]". */
export function expandIndices(expr: string): number[] {
  const body = expr.replace(/^\[|\]$/g, "").split("%")[0]!;
  const out: number[] = [];
  for (const part of body.split(",")) {
    if (!part) continue;
    const m = /^(\d+)(?:-(\d+))?(?::(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] !== undefined ? Number(m[2]) : lo;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    for (let i = lo; i <= hi; i += step) out.push(i);
  }
  return out;
}

export interface ArrayTaskInfo {
  index: number;
  state: string;
  /** Exit status of the task's command ("ExitCode=status:signal"; signal → 128 + signal). */
  exitCode?: number;
}

/** `squeue -h -r -j JOB -o "%i|%T"`: "JOB_3|RUNNING", or "JOB_[4-9]|PENDING" for unstarted ones. */
export function parseSqueue(out: string, jobId: string): ArrayTaskInfo[] {
  const res: ArrayTaskInfo[] = [];
  for (const line of out.split("\n")) {
    const [id, state] = line.trim().split("|");
    if (!id || !state || !id.startsWith(`${jobId}_`)) continue;
    for (const index of expandIndices(id.slice(jobId.length + 1))) res.push({ index, state });
  }
  return res;
}

/** `scontrol show job -o JOB`: one line per array task (ArrayTaskId=N or a range for pending ones). */
export function parseScontrol(out: string): ArrayTaskInfo[] {
  const res: ArrayTaskInfo[] = [];
  for (const line of out.split("\n")) {
    const fields = new Map<string, string>();
    for (const m of line.matchAll(/(\w+)=(\S*)/g)) if (!fields.has(m[1]!)) fields.set(m[1]!, m[2]!);
    const task = fields.get("ArrayTaskId");
    const state = fields.get("JobState");
    if (task === undefined || state === undefined) continue;
    const exitCode = parseExitCode(fields.get("ExitCode"));
    for (const index of expandIndices(task)) res.push({ index, state, exitCode: mapSlurmState(state) === "pending" || mapSlurmState(state) === "running" ? undefined : exitCode });
  }
  return res;
}

/** `sacct -n -P -j JOB -o JobID,State,ExitCode`: "JOB_2|COMPLETED|0:0" (steps "JOB_2.batch" skipped). */
export function parseSacct(out: string, jobId: string): ArrayTaskInfo[] {
  const res: ArrayTaskInfo[] = [];
  for (const line of out.split("\n")) {
    const [id, state, exit] = line.trim().split("|");
    if (!id || !state || id.includes(".") || !id.startsWith(`${jobId}_`)) continue;
    for (const index of expandIndices(id.slice(jobId.length + 1))) res.push({ index, state, exitCode: parseExitCode(exit) });
  }
  return res;
}

function parseExitCode(s: string | undefined): number | undefined {
  const m = /^(\d+):(\d+)$/.exec(s ?? "");
  if (!m) return undefined;
  const [status, signal] = [Number(m[1]), Number(m[2])];
  return signal ? 128 + signal : status;
}

/** Single-quote a word for POSIX sh. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
