/**
 * Executors run units of work given as `scalpel` command lines, locally or on a cluster, and
 * report their state. The study/sweep runner decides what to run; executors only run it.
 */
export interface Task {
  /** Unique within a submission, e.g. "trial-17". */
  id: string;
  /** Arguments to the `scalpel` CLI, e.g. ["run-trial", "--study", "...", "--trial", "17"]. */
  argv: string[];
}

export type TaskState = "pending" | "running" | "done" | "failed" | "cancelled";

export interface TaskStatus {
  id: string;
  state: TaskState;
  exitCode?: number;
  /** Where the task's stdout/stderr went. */
  logFile?: string;
}

export interface Executor {
  readonly name: string;
  submit(tasks: Task[]): Promise<void>;
  poll(): Promise<TaskStatus[]>;
  /** Resolves when every submitted task has ended. */
  wait(options?: { pollIntervalMs?: number; onProgress?: (s: TaskStatus[]) => void }): Promise<TaskStatus[]>;
  cancel(): Promise<void>;
}
