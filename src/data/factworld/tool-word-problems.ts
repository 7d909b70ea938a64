/**
 * Calculator calls for arithmetic word problems (arithmetic.ts): instead of working a problem out
 * in text ("4 + 12 = 16 . #### 16"), answer "Question : … Answer :" with
 * `<tool_call> calculator ( 4 + 12 ) </tool_call>`. The fine-tuning pairs come from the TRAIN split
 * of arithmeticProblems, the evaluation items from its TEST split (disjoint by construction, and
 * checked); the built-in model's corpus, which uses arithmeticProblems and toolPrompts, is unchanged.
 */
import { arithmeticProblems, arithmeticPrompt } from "./arithmetic.js";
import { toolSftExamples, type ToolEvalItem, type ToolEvalVariant, type ToolSftExample } from "./tools.js";
import type { ArithmeticProblem, FactWorld } from "./types.js";

/** The parts of a fact world the word problems need (world.json holds both). */
export type WordProblemWorld = Pick<FactWorld, "seed" | "entities">;

/** Default size of wordProblemToolEvalSet (the first items of the exported arithmetic/test.jsonl). */
export const WORD_TOOL_EVAL_SIZE = 200;

export interface WordProblemExpression {
  /** Tokens separated by single spaces: "4 + 12", "7 + 3 - 5"; brackets only where precedence needs them. */
  expression: string;
  /** Its value: the problem's target (the number after "####"). */
  value: number;
  variant: ToolEvalVariant;
}

const STEP = /^(\d+) ([-+*]) (\d+) = (-?\d+) \.$/;

/**
 * The one expression a word problem's worked answer computes, read from the answer text
 * ("a op b = r . r op c = s . #### s" → "a op b op c", bracketing the part before a "*" that
 * follows + or -). Throws when the answer is not in that form or its steps do not chain.
 */
export function wordProblemExpression(p: Pick<ArithmeticProblem, "answer" | "target">): WordProblemExpression {
  const hash = p.answer.lastIndexOf(" #### ");
  if (hash < 0) throw new RangeError(`wordProblemExpression: no "####" in ${JSON.stringify(p.answer)}`);
  const steps = p.answer.slice(0, hash).split(/(?<= \.) /);
  let expression = "";
  let prev: number | null = null;
  const ops: string[] = [];
  for (const step of steps) {
    const m = STEP.exec(step);
    if (!m) throw new RangeError(`wordProblemExpression: cannot read step ${JSON.stringify(step)} of ${JSON.stringify(p.answer)}`);
    const [, a, op, b, r] = m;
    if (prev === null) expression = `${a} ${op} ${b}`;
    else {
      if (Number(a) !== prev) throw new RangeError(`wordProblemExpression: step ${JSON.stringify(step)} does not start from ${prev} in ${JSON.stringify(p.answer)}`);
      expression = op === "*" && /[-+]/.test(expression) ? `( ${expression} ) * ${b}` : `${expression} ${op} ${b}`;
    }
    ops.push(op!);
    prev = Number(r);
  }
  if (prev === null || prev !== p.target) throw new RangeError(`wordProblemExpression: steps of ${JSON.stringify(p.answer)} do not end at ${p.target}`);
  const variant: ToolEvalVariant = ops.length > 1 ? "word-two-step" : ops[0] === "+" ? "word-add" : ops[0] === "-" ? "word-subtract" : "word-multiply";
  return { expression, value: prev, variant };
}

/** The calculator call answering a word problem. */
export function wordProblemToolCall(p: Pick<ArithmeticProblem, "answer" | "target">): string {
  return `<tool_call> calculator ( ${wordProblemExpression(p).expression} ) </tool_call>`;
}

function wordItem(p: ArithmeticProblem): ToolEvalItem {
  const { expression, value, variant } = wordProblemExpression(p);
  return { prompt: arithmeticPrompt(p.question), subset: "word", variant, ask: p.question, expression, value, completion: `<tool_call> calculator ( ${expression} ) </tool_call>` };
}

/**
 * The word-problem evaluation items: the first `n` problems of the TEST split (arithmeticProblems
 * "test", so the first items of the exported arithmetic/test.jsonl), prompt arithmeticPrompt(question),
 * expected completion the calculator call of the worked answer's expression. Deterministic from
 * the world; a smaller set is a prefix of a larger one.
 */
export function wordProblemToolEvalSet(world: WordProblemWorld, n: number = WORD_TOOL_EVAL_SIZE): ToolEvalItem[] {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`wordProblemToolEvalSet: n must be an integer ≥ 0, got ${n}`);
  return arithmeticProblems(world, "test", n).map(wordItem);
}

export interface WordProblemToolSftOptions {
  /**
   * Share of the `n` examples that are copy requests (toolSftExamples kinds ["copy"]), so
   * fine-tuning keeps the copy behaviour; 0 (default) for word-problem calls only. Copies are spread
   * evenly: example i is a copy when floor((i + 1) · f) > floor(i · f).
   */
  copyFraction?: number;
  /** Prompts never to use (default: the prompts of wordProblemToolEvalSet(world), default size). */
  heldOut?: ReadonlySet<string>;
}

/**
 * `n` fine-tuning pairs in the SftExample shape (completion without a leading space): word
 * problems of the TRAIN split (arithmeticProblems "train", in order) with prompt
 * arithmeticPrompt(question) and completion `<tool_call> calculator ( A op B ) </tool_call>`
 * (kind "tool"), mixed with copy requests (kind "copy") at `copyFraction`. Deterministic from the
 * world; prompts of the evaluation set are never used.
 */
export function wordProblemToolSft(world: WordProblemWorld, n: number, options: WordProblemToolSftOptions = {}): ToolSftExample[] {
  if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`wordProblemToolSft: n must be an integer ≥ 0, got ${n}`);
  const f = options.copyFraction ?? 0;
  if (!(f >= 0 && f <= 1)) throw new RangeError(`wordProblemToolSft: copyFraction must be in [0, 1], got ${f}`);
  const isCopy = (i: number) => Math.floor((i + 1) * f) > Math.floor(i * f);
  let copies = 0;
  for (let i = 0; i < n; i++) if (isCopy(i)) copies++;
  const words = n - copies;
  const held = options.heldOut ?? new Set(wordProblemToolEvalSet(world).map((x) => x.prompt));
  // The train split is a prefix-stable stream; draw more when held-out prompts had to be skipped.
  let tools: ToolSftExample[] = [];
  for (let m = words; tools.length < words; m += words - tools.length) {
    tools = arithmeticProblems(world, "train", m)
      .filter((p) => !held.has(arithmeticPrompt(p.question)))
      .map((p) => ({ prompt: arithmeticPrompt(p.question), completion: wordProblemToolCall(p), kind: "tool" as const }));
  }
  const copyExamples = copies > 0 ? toolSftExamples(world, copies, { kinds: ["copy"] }) : [];
  let t = 0;
  let c = 0;
  return Array.from({ length: n }, (_, i) => (isCopy(i) ? copyExamples[c++]! : tools[t++]!));
}
