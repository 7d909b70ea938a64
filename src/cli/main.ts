/** `scalpel` entry point: dispatch to a command; user mistakes print one line, not a stack trace. */
import { EngineError, ScalpelError, UsageError } from "../errors.js";
import { initEngine } from "../tensor/engine.js";
import { didYouMean } from "../util/closest.js";
import type { Command } from "./command.js";
import { commands } from "./commands/index.js";

async function overview(): Promise<string> {
  const all: Command[] = await Promise.all(Object.values(commands).map((load) => load()));
  const width = Math.max(...all.map((c) => c.name.length));
  return [
    "scalpel — look inside language models and change what they do",
    "",
    "usage: scalpel <command> [flags]     (scalpel <command> --help for details)",
    "",
    ...all.filter((c) => !c.hidden).map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(await overview());
    return 0;
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) {
    console.error(`scalpel: unknown command '${name}'.${didYouMean(name, Object.keys(commands))}`);
    console.error(`Run 'scalpel --help' for the list of commands.`);
    return 2;
  }
  const command = await load();
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(command.usage);
    return 0;
  }
  try {
    return (await command.run(rest)) ?? 0;
  } catch (e) {
    if (e instanceof ScalpelError) {
      // Messages from parseFlags and the commands already start with "scalpel NAME:" (or "scalpel NAME SUB:") at times.
      const message = e.message.startsWith(`scalpel ${name}:`) || e.message.startsWith(`scalpel ${name} `) ? e.message : `scalpel ${name}: ${e.message}`;
      console.error(message);
      return e.name === "UsageError" ? 2 : 1;
    }
    throw e;
  }
}

/**
 * The global `--device` flag (bin/scalpel.mjs takes it off the command line): start the engine on
 * it before any command runs. Returns an exit code when it cannot be used, else undefined.
 */
export async function startDevice(device: string | undefined): Promise<number | undefined> {
  if (device === undefined) return undefined;
  try {
    if (device !== "wasm" && device !== "webgpu") throw new UsageError("BAD_DEVICE", `--device must be wasm or webgpu, got '${device}'`);
    if (device === "webgpu") await (await import("../tensor/node-webgpu.js")).enableNodeWebGPU();
    const got = await initEngine(device);
    if (got !== device) throw new EngineError("DEVICE_UNAVAILABLE", `the engine started on ${got}, not ${device}`, { fix: "run without --device" });
    return undefined;
  } catch (e) {
    if (!(e instanceof ScalpelError)) throw e;
    console.error(`scalpel: ${e.message}`);
    return e instanceof UsageError ? 2 : 1;
  }
}
