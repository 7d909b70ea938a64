/**
 * The evaluation request cache on disk (Node adapter of eval/cache.ts's RequestCache): one
 * append-only JSON-lines file, `{"k": key, "v": response}` per line.
 *
 * Why appending, not writeFileAtomic: the cache grows by one batch at a time and must survive a
 * kill between any two batches; rewriting the whole file atomically per batch would cost O(n²).
 * Each batch is appended with one write and fsync'd, and the loader skips a torn last line (the
 * only damage a kill can do), so every entry that was read back is complete, and none is lost
 * once putMany has resolved.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import path from "node:path";
import type { RequestCache } from "./cache.js";
import type { Response } from "./types.js";

export class FileRequestCache implements RequestCache {
  private readonly map = new Map<string, Response>();
  /** Lines that could not be parsed when the file was opened (a torn tail after a kill). */
  readonly skipped: number = 0;

  constructor(readonly file: string) {
    if (existsSync(file)) {
      let skipped = 0;
      for (const line of readFileSync(file, "utf8").split("\n")) {
        if (line === "") continue;
        try {
          const { k, v } = JSON.parse(line) as { k: string; v: Response };
          if (typeof k === "string" && v && typeof v === "object") this.map.set(k, v);
          else skipped++;
        } catch {
          skipped++;
        }
      }
      this.skipped = skipped;
    }
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): Response | undefined {
    return this.map.get(key);
  }

  async putMany(entries: readonly (readonly [string, Response])[]): Promise<void> {
    if (entries.length === 0) return;
    mkdirSync(path.dirname(this.file), { recursive: true });
    // A torn line from an earlier kill must not swallow the first new entry: start on a fresh line.
    const text = "\n" + entries.map(([k, v]) => JSON.stringify({ k, v })).join("\n") + "\n";
    const fd = openSync(this.file, "a");
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    for (const [k, v] of entries) this.map.set(k, v);
  }
}
