/** Commands with subcommands (`scalpel lora train`, `scalpel sae eval`): pick one by its first argument. */
import { UsageError } from "../../errors.js";
import { didYouMean } from "../../util/closest.js";

/** The subcommand named by argv[0] and the rest of argv; unknown names get the closest valid one. */
export function subcommand<K extends string>(command: string, argv: string[], names: readonly K[]): { sub: K; rest: string[] } {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub.startsWith("-")) {
    throw new UsageError("MISSING_SUBCOMMAND", `scalpel ${command}: name a subcommand (${names.join(", ")})`, { fix: `run 'scalpel ${command} --help'` });
  }
  if (!(names as readonly string[]).includes(sub)) {
    throw new UsageError("UNKNOWN_SUBCOMMAND", `scalpel ${command}: unknown subcommand '${sub}'.${didYouMean(sub, names)}`, { fix: `run 'scalpel ${command} --help'` });
  }
  return { sub: sub as K, rest };
}

/** A library RangeError (bad target pattern, bad hook, …) as a one-line usage error. */
export async function asUsage<T>(command: string, code: string, f: () => Promise<T> | T): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(code, `scalpel ${command}: ${e.message}`, { fix: `run 'scalpel ${command} --help'` });
    throw e;
  }
}
