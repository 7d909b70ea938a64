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

/*
 * Evaluation and fine-tuning sets for the tool-call behaviour (eval/tasks/tool-calls.ts scores
 * them). They draw from their own streams (STREAM.toolsEval, STREAM.toolsSft), so toolPrompts and
 * toolDocuments above, and with them the built-in model's corpus, are unchanged.
 */

/**
 * Which part of the evaluation set: calculator requests, copy requests, calculator requests unlike
 * the training asks; "word": arithmetic word problems (tool-word-problems.ts wordProblemToolEvalSet,
 * not part of toolEvalSet).
 */
export type ToolEvalSubset = "positive" | "negative" | "ood" | "word";

/**
 * How an item was made. positive / negative: "train-ask" (a training ask word, two one-digit
 * operands: the training distribution). ood: "three-operand" (a training ask, `a op b op c`),
 * "brackets" (a training ask, `( a op b ) op c`), "two-digit" (a training ask, operands 10–99),
 * "new-ask" (a request phrasing never used in training, two one-digit operands). word: the word
 * problem's kind, "word-add" / "word-subtract" / "word-multiply" (one step, `a op b`) or
 * "word-two-step" (`a + b - c`).
 */
export type ToolEvalVariant = "train-ask" | "three-operand" | "brackets" | "two-digit" | "new-ask" | "word-add" | "word-subtract" | "word-multiply" | "word-two-step";

export interface ToolEvalItem {
  prompt: string;
  subset: ToolEvalSubset;
  variant: ToolEvalVariant;
  /** The request words ("compute", "repeat", "tell me", …); for a word problem, its question. */
  ask: string;
  /** The expression in the prompt, tokens separated by single spaces ("3 + 4 * 2"); for a word problem, the expression its worked answer computes. */
  expression: string;
  /** Its value (usual precedence: * before + and -, left to right). */
  value: number;
  /** The expected completion: the calculator call (positive, ood) or the expression (negative). */
  completion: string;
}

export interface ToolEvalSet {
  positive: ToolEvalItem[];
  negative: ToolEvalItem[];
  ood: ToolEvalItem[];
}

/**
 * Request phrasings for out-of-distribution positives, every word in the built-in tokenizer's
 * vocabulary (test/eval/tool-calls.test.ts checks none encodes to <unk>), none a training ask.
 */
export const TOOL_OOD_ASKS = ["please compute", "can you calculate", "tell me", "find", "kindly work out", "help me compute", "could you compute", "show me"];

/** The training asks (read-only views, for callers that want to know the distribution). */
export const TOOL_TRAIN_ASKS: readonly string[] = TOOL_ASKS;
export const COPY_TRAIN_ASKS: readonly string[] = COPY_ASKS;

const OOD_VARIANTS: ToolEvalVariant[] = ["three-operand", "brackets", "two-digit", "new-ask"];

/** Default size of each subset of toolEvalSet. */
export const TOOL_EVAL_SIZE = 200;

/** Value of `a op b op …` with * before + and - (left to right otherwise); `bracketFirst` evaluates the first pair first. */
function flatValue(nums: number[], ops: string[], bracketFirst = false): number {
  if (bracketFirst && ops.length > 0) return flatValue([binary(nums[0]!, ops[0]!, nums[1]!), ...nums.slice(2)], ops.slice(1));
  // Fold * first, then + and - left to right.
  const terms: number[] = [nums[0]!];
  const addOps: string[] = [];
  ops.forEach((op, i) => {
    if (op === "*") terms[terms.length - 1] = terms[terms.length - 1]! * nums[i + 1]!;
    else {
      addOps.push(op);
      terms.push(nums[i + 1]!);
    }
  });
  return addOps.reduce((acc, op, i) => binary(acc, op, terms[i + 1]!), terms[0]!);
}

function binary(a: number, op: string, b: number): number {
  return op === "+" ? a + b : op === "-" ? a - b : a * b;
}

function toolItem(subset: ToolEvalSubset, variant: ToolEvalVariant, ask: string, expression: string, value: number): ToolEvalItem {
  const completion = subset === "negative" ? expression : `<tool_call> calculator ( ${expression} ) </tool_call>`;
  return { prompt: `User : ${ask} ${expression} Assistant :`, subset, variant, ask, expression, value, completion };
}

/**
 * The tool-call evaluation set, deterministic from the world seed (STREAM.toolsEval): `n` items per
 * subset. positive = calculator requests as trained (training asks, `a op b`, one-digit operands);
 * negative = copy requests as trained; ood = calculator requests cycling through three-operand,
 * bracketed, two-digit and new-phrasing variants. positive and negative come from the training
 * distribution (243 expressions), so some prompts also occur in the training corpus; ood prompts do not.
 */
export function toolEvalSet(world: Pick<FactWorld, "seed">, n: number = TOOL_EVAL_SIZE): ToolEvalSet {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`toolEvalSet: n must be an integer ≥ 0, got ${n}`);
  const rng = rngFor(world.seed, STREAM.toolsEval);
  const digit = () => 1 + rng.int(9);
  const twoDigit = () => 10 + rng.int(90);
  const pair = (draw: () => number): [number[], string[]] => [[draw(), draw()], [pick(rng, OPS)]];
  const text = (nums: number[], ops: string[], brackets = false): string => {
    const parts = nums.flatMap((x, i) => (i === 0 ? [String(x)] : [ops[i - 1]!, String(x)]));
    return brackets ? ["(", ...parts.slice(0, 3), ")", ...parts.slice(3)].join(" ") : parts.join(" ");
  };
  const positive: ToolEvalItem[] = [];
  const negative: ToolEvalItem[] = [];
  const ood: ToolEvalItem[] = [];
  for (let i = 0; i < n; i++) {
    const [pn, po] = pair(digit);
    positive.push(toolItem("positive", "train-ask", pick(rng, TOOL_ASKS), text(pn, po), flatValue(pn, po)));
    const [nn, no] = pair(digit);
    negative.push(toolItem("negative", "train-ask", pick(rng, COPY_ASKS), text(nn, no), flatValue(nn, no)));
    const variant = OOD_VARIANTS[i % OOD_VARIANTS.length]!;
    if (variant === "three-operand" || variant === "brackets") {
      const nums = [digit(), digit(), digit()];
      const ops = [pick(rng, OPS), pick(rng, OPS)];
      const brackets = variant === "brackets";
      ood.push(toolItem("ood", variant, pick(rng, TOOL_ASKS), text(nums, ops, brackets), flatValue(nums, ops, brackets)));
    } else if (variant === "two-digit") {
      const [on, oo] = pair(twoDigit);
      ood.push(toolItem("ood", variant, pick(rng, TOOL_ASKS), text(on, oo), flatValue(on, oo)));
    } else {
      const [on, oo] = pair(digit);
      ood.push(toolItem("ood", variant, pick(rng, TOOL_OOD_ASKS), text(on, oo), flatValue(on, oo)));
    }
  }
  return { positive, negative, ood };
}

export interface ToolSftExample {
  prompt: string;
  /** Without a leading space (train/sft-batches.ts adds it). */
  completion: string;
  kind: "tool" | "copy";
}

/**
 * `n` fine-tuning pairs from the training distribution (training asks, `a op b`, one-digit
 * operands), deterministic from the world seed (STREAM.toolsSft), in the SftExample shape
 * (train/sft-batches.ts). `kinds` alternate in order (default calculator calls and copies; ["tool"]
 * for calculator calls only). Prompts of toolEvalSet(world) (default size) are never used, so the
 * evaluation's positives and negatives stay held out from the fine-tuning data.
 */
export function toolSftExamples(world: Pick<FactWorld, "seed">, n: number, options: { kinds?: readonly ("tool" | "copy")[] } = {}): ToolSftExample[] {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`toolSftExamples: n must be an integer ≥ 0, got ${n}`);
  const kinds = options.kinds ?? ["tool", "copy"];
  if (kinds.length === 0) throw new RangeError("toolSftExamples: kinds must name at least one kind");
  const evalSet = toolEvalSet(world);
  const held = new Set([...evalSet.positive, ...evalSet.negative].map((x) => x.prompt));
  const rng = rngFor(world.seed, STREAM.toolsSft);
  const out: ToolSftExample[] = [];
  while (out.length < n) {
    const kind = kinds[out.length % kinds.length]!;
    const expr = `${1 + rng.int(9)} ${pick(rng, OPS)} ${1 + rng.int(9)}`;
    const ask = pick(rng, kind === "tool" ? TOOL_ASKS : COPY_ASKS);
    const prompt = `User : ${ask} ${expr} Assistant :`;
    if (held.has(prompt)) continue;
    out.push({ prompt, completion: kind === "tool" ? `<tool_call> calculator ( ${expr} ) </tool_call>` : expr, kind });
  }
  return out;
}
