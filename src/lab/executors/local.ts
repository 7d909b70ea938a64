/**
 * The local executor: runs tasks as `scalpel` child processes on this machine, at most
 * `maxWorkers` at once, each with its own log file. Workers are told the driver's pid
 * (SCALPEL_PARENT_PID) and exit when it dies (see watchParent), so a killed sweep leaves no
 * orphans that could race the resumed one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync, closeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Executor, Task, TaskStatus } from "./types.js";

export const SCALPEL_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../bin/scalpel.mjs");

/** How many workers fit: the requested number, capped by CPU cores and by free memory per worker. */
export function workerLimit(requested: number, memoryPerWorkerMb: number, machine = { cpus: os.availableParallelism(), freeBytes: os.freemem() }): number {
  const byMemory = Math.floor(machine.freeBytes / (memoryPerWorkerMb * 1024 * 1024));
  return Math.max(1, Math.min(requested, machine.cpus, byMemory));
}

export interface LocalExecutorOptions {
  maxWorkers: number;
  /** Where each task's stdout+stderr go (one file per task). */
  logDir: string;
  /** The CLI entry point (default: this checkout's bin/scalpel.mjs). */
  bin?: string;
  env?: NodeJS.ProcessEnv;
}

export class LocalExecutor implements Executor {
  readonly name = "local";
  private readonly queue: Task[] = [];
  private readonly status = new Map<string, TaskStatus>();
  private readonly children = new Map<string, ChildProcess>();
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly opts: LocalExecutorOptions) {
    mkdirSync(opts.logDir, { recursive: true });
  }

  async submit(tasks: Task[]): Promise<void> {
    for (const t of tasks) {
      if (this.status.has(t.id) && !isEnded(this.status.get(t.id)!)) throw new Error(`task '${t.id}' is already submitted`);
      this.status.set(t.id, { id: t.id, state: "pending", logFile: path.join(this.opts.logDir, `${safe(t.id)}.log`) });
      this.queue.push(t);
    }
    this.pump();
  }

  async poll(): Promise<TaskStatus[]> {
    return [...this.status.values()].map((s) => ({ ...s }));
  }

  /** Resolves at the next task end (or at once when nothing runs); lets a driver refill slots without busy polling. */
  nextEnd(): Promise<void> {
    if (this.children.size === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get running(): number {
    return this.children.size;
  }

  async wait(options: { pollIntervalMs?: number; onProgress?: (s: TaskStatus[]) => void } = {}): Promise<TaskStatus[]> {
    while (this.children.size > 0 || this.queue.length > 0) {
      await this.nextEnd();
      options.onProgress?.(await this.poll());
    }
    return this.poll();
  }

  async cancel(): Promise<void> {
    for (const t of this.queue.splice(0)) this.status.set(t.id, { ...this.status.get(t.id)!, state: "cancelled" });
    for (const [id, child] of this.children) {
      this.status.set(id, { ...this.status.get(id)!, state: "cancelled" });
      child.kill("SIGTERM");
    }
  }

  private pump(): void {
    while (this.children.size < this.opts.maxWorkers && this.queue.length > 0) this.start(this.queue.shift()!);
  }

  private start(task: Task): void {
    const st = this.status.get(task.id)!;
    const fd = openSync(st.logFile!, "a");
    const child = spawn(process.execPath, [this.opts.bin ?? SCALPEL_BIN, ...task.argv], {
      stdio: ["ignore", fd, fd],
      env: { ...process.env, ...this.opts.env, SCALPEL_PARENT_PID: String(process.pid) },
    });
    closeSync(fd);
    this.children.set(task.id, child);
    this.status.set(task.id, { ...st, state: "running" });
    const end = (code: number | null, error?: Error) => {
      if (!this.children.has(task.id)) return;
      this.children.delete(task.id);
      const prev = this.status.get(task.id)!;
      const state = prev.state === "cancelled" ? "cancelled" : code === 0 && !error ? "done" : "failed";
      this.status.set(task.id, { ...prev, state, exitCode: code ?? undefined });
      this.pump();
      for (const w of this.waiters.splice(0)) w();
    };
    child.on("exit", (code, signal) => end(code ?? (signal ? 128 : 1)));
    child.on("error", (e) => end(null, e));
  }
}

const isEnded = (s: TaskStatus) => s.state === "done" || s.state === "failed" || s.state === "cancelled";
const safe = (id: string) => id.replace(/[^A-Za-z0-9._-]/g, "_");

/**
 * In a worker: exit when the process that started us is gone (its pid in SCALPEL_PARENT_PID no
 * longer our parent), after `onOrphaned` tidies up. Polled twice a second; the timer does not
 * keep the worker alive.
 */
export function watchParent(onOrphaned: () => void = () => {}): void {
  const expected = Number(process.env.SCALPEL_PARENT_PID);
  if (!expected) return;
  const timer = setInterval(() => {
    if (process.ppid === expected) return;
    try {
      onOrphaned();
    } finally {
      process.exit(75);
    }
  }, 500);
  timer.unref();
}
