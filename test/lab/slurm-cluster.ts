/**
 * Test harness: a real single-node SLURM (Debian's slurm-wlm: slurmctld + slurmd on localhost)
 * started in a temporary folder and stopped by pid afterwards, as /work/shared/CLUSTER-NOTES.md
 * describes. `startSlurmCluster()` resolves to a cluster, or to `{ skip }` with the reason when the
 * binaries are missing, we are not root, or the daemons do not come up; tests then skip.
 *
 * - munge: reuse a running munged when `munge -n | unmunge` works; otherwise create
 *   /etc/munge/munge.key (1024 random bytes, owner munge, mode 400) if missing and start
 *   `munged --force` as the munge user; stopped at the end only if we started it.
 * - slurm.conf: SlurmctldHost = hostname (127.0.0.1), SlurmUser=root, free ports, paths in the
 *   temp folder, proctrack/linuxproc, task/none, select/cons_tres, ReturnToService=2, the node
 *   line from `slurmd -C`, one default partition; no accounting; and no cgroup.conf (slurmd 22.05
 *   refuses CgroupPlugin=disabled but starts without the file).
 * - daemons run in the foreground (-D) as our children, so we hold their pids.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, type TestContext } from "node:test";

export interface SlurmCluster {
  dir: string;
  conf: string;
  /** Environment for sbatch/squeue/scontrol: SLURM_CONF points at our slurm.conf. */
  env: Record<string, string>;
  partition: string;
  stop(): Promise<void>;
}

const BINARIES = ["slurmctld", "slurmd", "munged", "munge", "unmunge", "sbatch", "squeue", "scontrol", "sinfo", "scancel"];

function which(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/usr/bin", "/sbin"])) {
    const p = path.join(dir, bin);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function sh(cmd: string, env?: Record<string, string>): { ok: boolean; out: string } {
  const r = spawnSync("/bin/sh", ["-c", cmd], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 20000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  process.kill(child.pid, "SIGTERM");
  const t = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, "SIGKILL"), 10000);
  await exited;
  clearTimeout(t);
}

/** Ensure munged runs; returns the pid we started, or undefined when one was already working. */
function ensureMunge(): { pid?: number; error?: string } {
  if (sh("munge -n | unmunge").ok) return {};
  const key = "/etc/munge/munge.key";
  if (!existsSync(key)) {
    mkdirSync("/etc/munge", { recursive: true });
    writeFileSync(key, randomBytes(1024));
    chmodSync(key, 0o400);
    sh(`chown munge:munge ${key} /etc/munge`);
  }
  for (const d of ["/run/munge", "/var/lib/munge", "/var/log/munge"]) {
    mkdirSync(d, { recursive: true });
    sh(`chown munge:munge ${d}`);
  }
  const r = sh(`su -s /bin/sh munge -c "munged --force"`);
  if (!r.ok) return { error: `munged did not start: ${r.out.trim()}` };
  for (let i = 0; i < 20 && !sh("munge -n | unmunge").ok; i++) spawnSync("sleep", ["0.2"]);
  if (!sh("munge -n | unmunge").ok) return { error: "munge -n | unmunge does not report Success" };
  const pidFile = "/run/munge/munged.pid";
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : undefined;
  return { pid };
}

export async function startSlurmCluster(): Promise<SlurmCluster | { skip: string }> {
  const missing = BINARIES.filter((b) => !which(b));
  if (missing.length) return { skip: `SLURM test skipped: ${missing.join(", ")} not installed (apt-get install slurm-wlm munge)` };
  if (process.getuid?.() !== 0) return { skip: "SLURM test skipped: needs root (SlurmUser=root, munge key in /etc/munge)" };

  const munge = ensureMunge();
  if (munge.error) return { skip: `SLURM test skipped: ${munge.error}` };

  const dir = mkdtempSync(path.join(os.tmpdir(), "scalpel-slurm-"));
  for (const d of ["state", "spool"]) mkdirSync(path.join(dir, d));
  const host = os.hostname().split(".")[0]!;
  const nodeLine = sh("slurmd -C").out.split("\n").find((l) => l.startsWith("NodeName=")) ?? `NodeName=${host} CPUs=${os.availableParallelism()}`;
  // Cap RealMemory so the node never looks smaller than configured on a busy machine.
  const node = nodeLine.replace(/RealMemory=(\d+)/, (_, m) => `RealMemory=${Math.min(Number(m) - 512, 20000)}`);
  const [ctlPort, dPort] = [await freePort(), await freePort()];
  const partition = "scalpeltest";
  const conf = path.join(dir, "slurm.conf");
  writeFileSync(
    conf,
    [
      "ClusterName=scalpeltest",
      `SlurmctldHost=${host}(127.0.0.1)`,
      "SlurmUser=root",
      `SlurmctldPort=${ctlPort}`,
      `SlurmdPort=${dPort}`,
      "AuthType=auth/munge",
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      `SlurmctldLogFile=${dir}/slurmctld.log`,
      `SlurmdLogFile=${dir}/slurmd.log`,
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "SelectType=select/cons_tres",
      "ReturnToService=2",
      "MpiDefault=none",
      "JobAcctGatherType=jobacct_gather/none",
      "AccountingStorageType=accounting_storage/none",
      "SchedulerType=sched/builtin",
      "MinJobAge=3600",
      `${node} NodeAddr=127.0.0.1 State=UNKNOWN`,
      `PartitionName=${partition} Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
      "",
    ].join("\n"),
  );
  const env = { SLURM_CONF: conf };
  const daemonEnv = { ...process.env, ...env };
  const out = openSync(path.join(dir, "daemons.out"), "a");
  const ctld = spawn("slurmctld", ["-D", "-f", conf], { env: daemonEnv, stdio: ["ignore", out, out] });
  await sleep(1000);
  const slurmd = spawn("slurmd", ["-D", "-f", conf, "-N", host], { env: daemonEnv, stdio: ["ignore", out, out] });
  closeSync(out);

  const stop = async () => {
    await stopChild(slurmd);
    await stopChild(ctld);
    if (munge.pid) {
      try {
        process.kill(munge.pid, "SIGTERM");
      } catch {
        /* already gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  let state = "";
  for (let i = 0; i < 60; i++) {
    if (ctld.exitCode !== null || slurmd.exitCode !== null) break;
    state = sh("sinfo -h -o %T", env).out.trim();
    if (/^idle/m.test(state)) return { dir, conf, env, partition, stop };
    await sleep(500);
  }
  const tail = (f: string) => (existsSync(f) ? readFileSync(f, "utf8").split("\n").slice(-8).join("\n") : "");
  const why = `node state '${state}'; slurmctld ${ctld.exitCode === null ? "running" : `exited ${ctld.exitCode}`}, slurmd ${slurmd.exitCode === null ? "running" : `exited ${slurmd.exitCode}`}\n${tail(path.join(dir, "slurmctld.log"))}\n${tail(path.join(dir, "slurmd.log"))}\n${tail(path.join(dir, "daemons.out"))}`;
  await stop();
  return { skip: `SLURM test skipped: the daemons did not bring the node to idle within 30 s (${why})` };
}

/**
 * Start one cluster before the calling file's tests and stop it after them. `get(t)` returns it,
 * or marks `t` skipped with the reason (also printed, so a skipped run says why) and returns undefined.
 */
export function useSlurmCluster(): { get(t: TestContext): SlurmCluster | undefined } {
  let cluster: SlurmCluster | undefined;
  let skip = "";
  before(async () => {
    const c = await startSlurmCluster();
    if ("skip" in c) skip = c.skip;
    else cluster = c;
  });
  after(async () => {
    await cluster?.stop();
  });
  return {
    get(t) {
      if (!cluster) {
        console.log(skip);
        t.skip(skip);
      }
      return cluster;
    },
  };
}
