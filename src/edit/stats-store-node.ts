/** Node adapter of covariance.ts's StatsStore: one file per key under `dir`, written atomically. */
import { promises as fs } from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../io/atomic.js";
import type { StatsStore } from "./covariance.js";

/** Where the CLI, the demo and the experiment kinds cache covariance statistics by default (and `scalpel lab` serves them from). */
export const DEFAULT_STATS_DIR = ".scalpel/edit-cache";

export function nodeStatsStore(dir: string): StatsStore {
  const file = (key: string) => {
    if (!/^[\w.-]+$/.test(key)) throw new RangeError(`stats key ${JSON.stringify(key)} is not a safe file name`);
    return path.join(dir, `${key}.bin`);
  };
  return {
    async get(key) {
      try {
        return new Uint8Array(await fs.readFile(file(key)));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
      }
    },
    put: (key, data) => writeFileAtomic(file(key), data),
    delete: (key) => fs.rm(file(key), { force: true }),
  };
}
