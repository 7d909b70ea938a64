/**
 * A run's manifest: what is needed to tell later exactly how a number was made — the seed, the
 * code (git commit and whether the tree had uncommitted changes), package and runtime versions,
 * the machine, and start/end times.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface Manifest {
  seed: number;
  git: { commit: string | null; dirty: boolean | null };
  versions: Record<string, string>;
  machine: { hostname: string; platform: string; arch: string; cpus: number; cpuModel: string; memoryBytes: number };
  startedAt: string;
  endedAt?: string;
  argv: string[];
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function git(args: string[]): string | null {
  try {
    return execFileSync("git", args, { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5000 }).trim();
  } catch {
    return null; // not a git checkout, or git missing: recorded as unknown, never guessed
  }
}

function readVersion(pkgJson: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(pkgJson, "utf8")) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

// Code and environment do not change within a process; compute once (trials in one process share it).
let cached: Omit<Manifest, "seed" | "startedAt" | "argv"> | undefined;

function environment(): Omit<Manifest, "seed" | "startedAt" | "argv"> {
  if (cached) return cached;
  const commit = git(["rev-parse", "HEAD"]);
  const status = commit === null ? null : git(["status", "--porcelain", "--untracked-files=no"]);
  const versions: Record<string, string> = { node: process.version };
  const own = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string; dependencies?: Record<string, string> };
  versions.scalpel = own.version;
  for (const dep of Object.keys(own.dependencies ?? {})) {
    const v = readVersion(path.join(repoRoot, "node_modules", dep, "package.json"));
    if (v) versions[dep] = v;
  }
  const cpus = os.cpus();
  cached = {
    git: { commit, dirty: status === null ? null : status.length > 0 },
    versions,
    machine: {
      hostname: os.hostname(),
      platform: os.platform(),
      arch: os.arch(),
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? "unknown",
      memoryBytes: os.totalmem(),
    },
  };
  return cached;
}

export function collectManifest(seed: number, startedAt = new Date().toISOString()): Manifest {
  return { seed, ...environment(), startedAt, argv: process.argv.slice(2) };
}
