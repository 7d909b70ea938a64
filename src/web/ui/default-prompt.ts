/** A prompt to start from: the served model's first CounterFact fact when it ships one (the built-in model does), else a generic one. */
import { h } from "./dom.js";
import type { LabSession } from "./session.js";

let cached: Promise<string> | undefined;

export function defaultPrompt(session: LabSession): Promise<string> {
  cached ??= (async () => {
    if (!session.info.model?.files.includes("data/counterfact.json")) return "The capital of France is";
    try {
      const cases = (await (await fetch("/model/data/counterfact.json")).json()) as { requested_rewrite: { prompt: string; subject: string } }[];
      const r = cases[0]!.requested_rewrite;
      return r.prompt.replace("{}", r.subject);
    } catch {
      return "The capital of France is";
    }
  })();
  return cached;
}

/** A one-line prompt field (name="prompt") holding the default prompt. */
export async function promptInput(session: LabSession): Promise<HTMLInputElement> {
  const input = h("input", { type: "text", name: "prompt", size: 60 });
  input.value = await defaultPrompt(session);
  return input;
}
