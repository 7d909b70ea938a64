/**
 * Tool calls versus plain copying: "compute" requests are answered with a calculator call,
 * "repeat" requests by copying the expression. The request word decides, so a model has to read
 * the instruction, not the expression.
 */
import { pick, rngFor, STREAM } from "./random.js";
import type { FactWorld } from "./types.js";

export interface ToolPrompt {
  prompt: string;
  kind: "tool" | "copy";
  completion: string;
}

const TOOL_ASKS = ["compute", "calculate", "what is", "work out"];
const COPY_ASKS = ["repeat", "copy this :", "say back", "echo"];
const OPS = ["+", "-", "*"];

export function toolPrompts(world: FactWorld, split: "train" | "test", n: number): ToolPrompt[] {
  const rng = rngFor(world.seed, split === "train" ? STREAM.tools : STREAM.toolsTest);
  return Array.from({ length: n }, (_, i) => {
    const expr = `${1 + rng.int(9)} ${pick(rng, OPS)} ${1 + rng.int(9)}`;
    const kind = i % 2 === 0 ? "tool" : "copy";
    const ask = pick(rng, kind === "tool" ? TOOL_ASKS : COPY_ASKS);
    const completion = kind === "tool" ? `<tool_call> calculator ( ${expr} ) </tool_call>` : expr;
    return { prompt: `User : ${ask} ${expr} Assistant :`, kind, completion };
  });
}

export function toolDocuments(world: FactWorld, split: "train" | "test", n: number): string[] {
  return toolPrompts(world, split, n).map((p) => `${p.prompt} ${p.completion}`);
}
