/**
 * One CLI command = one file in cli/commands/ exporting a `Command`. Each parses its own flags with
 * `parseFlags`, which rejects unknown flags with a "did you mean" suggestion.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../errors.js";
import { didYouMean } from "../util/closest.js";

export interface Command {
  name: string;
  /** One line for `scalpel --help`. */
  summary: string;
  /** Full help text for `scalpel NAME --help`. */
  usage: string;
  /** Internal commands (e.g. the worker entry point run-trial) are left out of `scalpel --help`. */
  hidden?: boolean;
  run(argv: string[]): Promise<number | void>;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parse `argv` against `options`; unknown flags become UsageErrors naming the closest valid flag. */
export function parseFlags<O extends Options>(command: string, argv: string[], options: O, allowPositionals = false) {
  for (const arg of argv) {
    if (!arg.startsWith("--")) continue;
    const name = arg.slice(2).split("=")[0]!;
    if (name !== "help" && !(name in options)) {
      const names = Object.keys(options).map((n) => `--${n}`);
      throw new UsageError("UNKNOWN_FLAG", `scalpel ${command}: unknown flag --${name}.${didYouMean(`--${name}`, names)}`, {
        fix: `run 'scalpel ${command} --help' for the valid flags`,
      });
    }
  }
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: "boolean" } }, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError("BAD_FLAGS", `scalpel ${command}: ${(e as Error).message}`, { fix: `run 'scalpel ${command} --help'` });
  }
}
