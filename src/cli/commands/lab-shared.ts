/** Flags and helpers shared by the experiment-engine commands (check, run, resume, study, sweep, runs, report). */
import { UsageError } from "../../errors.js";
import { parseFlags } from "../command.js";

export const parseFlagsFor = <O extends Parameters<typeof parseFlags>[2]>(command: string, argv: string[], options: O) => parseFlags(command, argv, options, true);

export const STORE_HELP = "  --store DIR   the store folder (default ./.scalpel): scalpel.db (SQLite) + artifacts/";
export const JSON_HELP = "  --json        print one JSON object on stdout (for scripts); progress bars are off";

export const labFlags = {
  store: { type: "string" },
  json: { type: "boolean" },
} as const;

export function onePositional(command: string, positionals: string[], what: string): string {
  if (positionals.length !== 1) {
    throw new UsageError("USAGE", `scalpel ${command} takes exactly one ${what}, got ${positionals.length}`, { fix: `run 'scalpel ${command} --help'` });
  }
  return positionals[0]!;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Open the store (lazily imported so that commands like `check` start fast), run `f`, close it. */
export async function withStore<T>(dir: string | undefined, f: (store: import("../../lab/store/store.js").Store) => Promise<T>): Promise<T> {
  const { openStore } = await import("../../lab/store/store.js");
  const store = openStore(dir);
  try {
    return await f(store);
  } finally {
    store.close();
  }
}

export function fmt(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6 ? String(Number(v.toPrecision(6))) : v.toExponential(4);
}
