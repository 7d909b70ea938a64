/**
 * The SLURM executor: each submit() is one `sbatch` array job, one array index per Task. The job
 * script runs `node <repo>/bin/scalpel.mjs <argv>` for its index (argv baked into the script as a
 * shell `case`, single-quoted), writes stdout+stderr to <logDir>/<jobName>-<index>.log and its exit
 * status to <workDir>/exit/<jobId>_<index>. Job state comes from `squeue` while a task is queued or
 * running, then from `scontrol show job` (state and ExitCode), then from `sacct` where accounting
 * exists, and finally from the exit file (jobs purged from slurmctld, no accounting). A tasks.json
 * beside the script records the submission.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../../io/atomic.js";
import { ScalpelError } from "../../errors.js";
import type { Executor, Task, TaskState, TaskStatus } from "./types.js";
import { mapSlurmState, parseSacct, parseSbatchParsable, parseScontrol, parseSqueue, shellQuote, type ArrayTaskInfo } from "./slurm-parse.js";

const DEFAULT_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../bin/scalpel.mjs");

/** sbatch/squeue/scontrol failed or is missing. */
export class SlurmError extends ScalpelError {}

export interface SlurmExecutorOptions {
  /** Folder for the job scripts, task lists, exit files and (by default) logs. */
  workDir: string;
  logDir?: string;
  /** The scalpel CLI entry (default: this checkout's bin/scalpel.mjs) and the node binary. */
  bin?: string;
  node?: string;
  jobName?: string;
  partition?: string;
  cpusPerTask?: number;
  memMb?: number;
  /** e.g. "01:00:00". */
  timeLimit?: string;
  /** At most this many array tasks at once (sbatch --array=0-N%K). */
  maxParallel?: number;
  extraSbatchArgs?: string[];
  /** Environment for the SLURM commands (and, through sbatch's --export=ALL, the tasks). */
  env?: Record<string, string>;
}

interface Job {
  jobId: string;
  tasks: Task[];
  logFiles: string[];
  final: Map<number, TaskStatus>;
}

export class SlurmExecutor implements Executor {
  readonly name = "slurm";
  private readonly jobs: Job[] = [];
  private readonly ids = new Set<string>();
  private sacctAvailable: boolean | undefined;
  private submissions = 0;

  constructor(private readonly opts: SlurmExecutorOptions) {
    mkdirSync(path.join(opts.workDir, "exit"), { recursive: true });
    mkdirSync(this.logDir, { recursive: true });
  }

  private get logDir(): string {
    return this.opts.logDir ?? path.join(this.opts.workDir, "logs");
  }

  /** The sbatch script for `tasks` (exported for tests and for inspection). */
  script(tasks: readonly Task[], tag: string): string {
    const o = this.opts;
    const node = o.node ?? process.execPath;
    const bin = o.bin ?? DEFAULT_BIN;
    const name = o.jobName ?? "scalpel";
    const lines = [
      "#!/bin/bash",
      `#SBATCH --job-name=${name}`,
      `#SBATCH --output=${path.join(this.logDir, `${tag}-%a.log`)}`,
      `#SBATCH --chdir=${o.workDir}`,
      ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
      ...(o.cpusPerTask ? [`#SBATCH --cpus-per-task=${o.cpusPerTask}`] : []),
      ...(o.memMb ? [`#SBATCH --mem=${o.memMb}M`] : []),
      ...(o.timeLimit ? [`#SBATCH --time=${o.timeLimit}`] : []),
      `# ${tasks.length} scalpel task(s); see ${tag}.tasks.json`,
      'case "$SLURM_ARRAY_TASK_ID" in',
      ...tasks.map((t, i) => `  ${i}) set -- ${t.argv.map(shellQuote).join(" ")} ;;`),
      '  *) echo "no task for array index $SLURM_ARRAY_TASK_ID" >&2; exit 64 ;;',
      "esac",
      `${shellQuote(node)} ${shellQuote(bin)} "$@"`,
      "code=$?",
      `echo "$code" > ${shellQuote(path.join(o.workDir, "exit"))}/"$SLURM_ARRAY_JOB_ID"_"$SLURM_ARRAY_TASK_ID"`,
      'exit "$code"',
      "",
    ];
    return lines.join("\n");
  }

  async submit(tasks: Task[]): Promise<void> {
    if (tasks.length === 0) return;
    for (const t of tasks) {
      if (this.ids.has(t.id)) throw new SlurmError("SLURM_DUPLICATE_TASK", `task '${t.id}' was already submitted`);
    }
    const tag = `${this.opts.jobName ?? "scalpel"}-${Date.now().toString(36)}-${this.submissions++}`;
    const scriptFile = path.join(this.opts.workDir, `${tag}.sbatch`);
    await writeFileAtomic(path.join(this.opts.workDir, `${tag}.tasks.json`), JSON.stringify(tasks, null, 2));
    await writeFileAtomic(scriptFile, this.script(tasks, tag));
    const array = `0-${tasks.length - 1}${this.opts.maxParallel ? `%${this.opts.maxParallel}` : ""}`;
    const r = await this.cmd("sbatch", ["--parsable", `--array=${array}`, ...(this.opts.extraSbatchArgs ?? []), scriptFile]);
    if (r.code !== 0) throw new SlurmError("SLURM_SUBMIT", `sbatch failed (exit ${r.code}): ${r.out.trim()}`, { file: scriptFile, fix: "check that SLURM is reachable (sinfo) and the partition exists" });
    const jobId = parseSbatchParsable(r.out);
    for (const t of tasks) this.ids.add(t.id);
    this.jobs.push({ jobId, tasks, logFiles: tasks.map((_, i) => path.join(this.logDir, `${tag}-${i}.log`)), final: new Map() });
  }

  /** Array job ids, in submission order. */
  get jobIds(): string[] {
    return this.jobs.map((j) => j.jobId);
  }

  async poll(): Promise<TaskStatus[]> {
    const out: TaskStatus[] = [];
    for (const job of this.jobs) {
      const open = job.tasks.map((_, i) => i).filter((i) => !job.final.has(i));
      const info = new Map<number, ArrayTaskInfo>();
      // Whether slurmctld answered for this job at all; if not (a transient error), unknown tasks
      // stay as they were instead of being declared lost.
      let answered = false;
      if (open.length) {
        const sq = await this.cmd("squeue", ["-h", "-r", "-j", job.jobId, "-o", "%i|%T"]);
        if (sq.code === 0) for (const t of parseSqueue(sq.out, job.jobId)) info.set(t.index, t);
        answered = sq.code === 0 && info.size > 0;
        const missing = () => open.filter((i) => !info.has(i) || isEnded(mapSlurmState(info.get(i)!.state)));
        if (missing().length) {
          const sc = await this.cmd("scontrol", ["show", "job", "-o", job.jobId]);
          if (sc.code === 0) for (const t of parseScontrol(sc.out)) if (!info.has(t.index) || isEnded(mapSlurmState(t.state))) info.set(t.index, t);
          answered ||= sc.code === 0 || /invalid job id/i.test(sc.out);
        }
        if (missing().some((i) => !info.has(i)) && (await this.hasSacct())) {
          const sa = await this.cmd("sacct", ["-n", "-P", "-j", job.jobId, "-o", "JobID,State,ExitCode"]);
          if (sa.code === 0) for (const t of parseSacct(sa.out, job.jobId)) if (!info.has(t.index)) info.set(t.index, t);
          answered ||= sa.code === 0;
        }
      }
      job.tasks.forEach((task, i) => {
        const done = job.final.get(i);
        if (done) return out.push({ ...done });
        const s = this.statusOf(job, i, info.get(i), answered);
        if (isEnded(s.state)) job.final.set(i, s);
        out.push({ ...s, id: task.id });
      });
    }
    return out;
  }

  private statusOf(job: Job, i: number, t: ArrayTaskInfo | undefined, answered: boolean): TaskStatus {
    const base = { id: job.tasks[i]!.id, logFile: job.logFiles[i] };
    const exitFile = path.join(this.opts.workDir, "exit", `${job.jobId}_${i}`);
    const fileCode = existsSync(exitFile) ? Number(readFileSync(exitFile, "utf8").trim()) : undefined;
    if (t) {
      const state = mapSlurmState(t.state);
      if (!isEnded(state)) return { ...base, state };
      const exitCode = t.exitCode ?? fileCode;
      // A COMPLETED job whose command still failed cannot happen (the script exits with its code).
      return { ...base, state: state === "done" && exitCode !== undefined && exitCode !== 0 ? "failed" : state, exitCode };
    }
    // Unknown to squeue, scontrol and sacct: purged. The exit file is the record.
    if (fileCode !== undefined && Number.isFinite(fileCode)) return { ...base, state: fileCode === 0 ? "done" : "failed", exitCode: fileCode };
    // Known to be gone without an exit record (node crash, scancel before start): failed.
    return { ...base, state: answered ? "failed" : "pending" };
  }

  async wait(options: { pollIntervalMs?: number; onProgress?: (s: TaskStatus[]) => void } = {}): Promise<TaskStatus[]> {
    for (;;) {
      const s = await this.poll();
      options.onProgress?.(s);
      if (s.every((t) => isEnded(t.state))) return s;
      await new Promise((r) => setTimeout(r, options.pollIntervalMs ?? 1000));
    }
  }

  async cancel(): Promise<void> {
    const ids = this.jobs.filter((j) => j.final.size < j.tasks.length).map((j) => j.jobId);
    if (ids.length === 0) return;
    const r = await this.cmd("scancel", ids);
    if (r.code !== 0) throw new SlurmError("SLURM_CANCEL", `scancel failed (exit ${r.code}): ${r.out.trim()}`);
  }

  private async hasSacct(): Promise<boolean> {
    if (this.sacctAvailable === undefined) {
      // Without accounting storage sacct exits non-zero ("Slurm accounting storage is disabled").
      const r = await this.cmd("sacct", ["-n", "-X", "-j", "1"]);
      this.sacctAvailable = r.code === 0 && !/disabled/i.test(r.out);
    }
    return this.sacctAvailable;
  }

  private cmd(bin: string, args: string[]): Promise<{ code: number; out: string }> {
    return new Promise((resolve) => {
      const child = spawn(bin, args, { env: { ...process.env, ...this.opts.env }, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      child.on("error", (e) => resolve({ code: 127, out: `${bin}: ${e.message}` }));
      child.on("close", (code) => resolve({ code: code ?? 1, out }));
    });
  }
}

function isEnded(s: TaskState): boolean {
  return s === "done" || s === "failed" || s === "cancelled";
}
