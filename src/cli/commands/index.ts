/** The command registry: add one line per command file. */
import type { Command } from "../command.js";

export const commands: Command[] = [
];
