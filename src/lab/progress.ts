/**
 * A progress bar with ETA for long-running commands. It draws on stderr only when stderr is a
 * terminal (so logs and `--json` output stay clean), at most ten times a second.
 */
export interface ProgressOptions {
  label: string;
  total: number;
  /** Force drawing even when stderr is not a TTY (or force it off). */
  enabled?: boolean;
  stream?: NodeJS.WriteStream;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "--";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** "label [#####-----] 5/10 50% ETA 12s": ETA from the average time per completed unit so far. */
export function renderBar(label: string, done: number, total: number, elapsedMs: number, width = 24, note = ""): string {
  const frac = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(frac * width);
  const eta = done > 0 ? ((total - done) * elapsedMs) / done : NaN;
  return `${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} ${Math.round(frac * 100)}% ETA ${formatDuration(eta)}${note ? ` ${note}` : ""}`;
}

export class Progress {
  private readonly start = Date.now();
  private lastDraw = 0;
  private readonly on: boolean;
  private readonly stream: NodeJS.WriteStream;
  private done = 0;
  private note = "";

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.on = opts.enabled ?? Boolean(this.stream.isTTY);
  }

  update(done: number, note = ""): void {
    this.done = done;
    this.note = note;
    const now = Date.now();
    if (!this.on || (now - this.lastDraw < 100 && done < this.opts.total)) return;
    this.lastDraw = now;
    this.stream.write(`\r${renderBar(this.opts.label, done, this.opts.total, now - this.start, 24, this.note)}\x1b[K`);
  }

  finish(): void {
    if (!this.on) return;
    this.lastDraw = 0;
    this.update(this.done, this.note);
    this.stream.write("\n");
  }
}
