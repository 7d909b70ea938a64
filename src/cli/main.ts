/** `scalpel` entry point: dispatch to a command; user mistakes print one line, not a stack trace. */
import { ScalpelError } from "../errors.js";
import { didYouMean } from "../util/closest.js";
import { commands } from "./commands/index.js";

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 8);
  return [
    "scalpel — look inside language models and change what they do",
    "",
    "usage: scalpel <command> [flags]     (scalpel <command> --help for details)",
    "",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(overview());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`scalpel: unknown command '${name}'.${didYouMean(name, commands.map((c) => c.name))}`);
    console.error(`Run 'scalpel --help' for the list of commands.`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(command.usage);
    return 0;
  }
  try {
    return (await command.run(rest)) ?? 0;
  } catch (e) {
    if (e instanceof ScalpelError) {
      console.error(`scalpel ${name}: ${e.message}`);
      return e.name === "UsageError" ? 2 : 1;
    }
    throw e;
  }
}
