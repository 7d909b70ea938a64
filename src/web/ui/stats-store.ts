/**
 * Covariance statistics in the page (edit/covariance.ts StatsStore): read from the lab server's
 * statistics cache (/stats/KEY.bin — the folder `scalpel edit`, `edit-eval`, the demo and the edit
 * kind write, .scalpel/edit-cache by default) so that statistics computed once on the command line
 * are not recomputed in the page; what the page computes itself is kept in memory for the session
 * (the server is read-only).
 */
import type { edit } from "../../browser.js";

export function labStatsStore(available: boolean): edit.StatsStore {
  const memory = new Map<string, Uint8Array>();
  return {
    async get(key) {
      const held = memory.get(key);
      if (held || !available) return held;
      const res = await fetch(`/stats/${encodeURIComponent(key)}.bin`);
      if (!res.ok) return undefined;
      const bytes = new Uint8Array(await res.arrayBuffer());
      memory.set(key, bytes);
      return bytes;
    },
    async put(key, data) {
      memory.set(key, data);
    },
    async delete(key) {
      memory.delete(key);
    },
  };
}
