/**
 * Tool calls (data/factworld/tools.ts toolEvalSet): does the model answer a calculator request with
 * a calculator call, and a copy request with a copy? One task per subset, since every document of
 * a task carries every metric of it:
 * - `tool-calls`: positives (training asks, `a op b`): tool_call_rate, valid_tool_format_rate,
 *   math_correct_rate;
 * - `tool-calls-copy`: negatives (copy requests): copy_rate, false_tool_call_rate;
 * - `tool-calls-ood`: out-of-distribution positives (three operands, brackets, two-digit operands,
 *   new request words), the positives' metrics, grouped by variant;
 * - `tool-calls-word`: arithmetic word problems of the test split (data/factworld/tool-word-problems.ts),
 *   prompt "Question : {question} Answer :"; the positives' metrics, math_correct meaning the call's
 *   expression has the problem's answer value; grouped by kind (add, subtract, multiply, two-step).
 * Prompt "User : {ask} {expression} Assistant :" with BOS (as the corpus's documents start), greedy
 * until end of line or EOS (24 new tokens at most); the completion is read up to and including its
 * first `</tool_call>` (eval/tool-calls.ts: parser and scores).
 */
import { UsageError } from "../../errors.js";
import { toolEvalSet, TOOL_EVAL_SIZE, type ToolEvalItem, type ToolEvalSubset } from "../../data/factworld/tools.js";
import { wordProblemToolEvalSet, WORD_TOOL_EVAL_SIZE, type WordProblemWorld } from "../../data/factworld/tool-word-problems.js";
import { parseToolCall, scoreToolCompletion } from "../tool-calls.js";
import type { GenerateResponse, Instance, MetricDef, MetricValue, Task } from "../types.js";

/** The subsets of toolEvalSet (the word subset has its own loader, toolCallWordTask). */
export const TOOL_CALL_SUBSETS: readonly Exclude<ToolEvalSubset, "word">[] = ["positive", "negative", "ood"];

/** Task name of each subset. */
export const TOOL_CALL_TASKS: Record<ToolEvalSubset, string> = { positive: "tool-calls", negative: "tool-calls-copy", ood: "tool-calls-ood", word: "tool-calls-word" };

/** One-line summaries (scalpel eval --list). */
export const TOOL_CALL_SUMMARIES: Record<ToolEvalSubset, string> = {
  positive: "fact world: calculator requests as trained; tool_call_rate, valid_tool_format_rate, math_correct_rate",
  negative: "fact world: copy requests; copy_rate, false_tool_call_rate",
  ood: "fact world: calculator requests unlike training (3 operands, brackets, 2 digits, new asks); the tool-calls metrics by variant",
  word: "fact world: arithmetic word problems (test split), \"Question : … Answer :\" answered with a calculator call; the tool-calls metrics by problem kind",
};

const until = ["\n"];
const MAX_NEW_TOKENS = 24;

const POSITIVE_METRICS: Record<string, MetricDef> = {
  tool_call_rate: { aggregation: "mean", higherIsBetter: true, definition: "share of calculator requests whose greedy completion (up to its first </tool_call>) contains <tool_call>" },
  valid_tool_format_rate: { aggregation: "mean", higherIsBetter: true, definition: "share of calculator requests whose completion is exactly \"<tool_call> calculator ( EXPR ) </tool_call>\" (whitespace normalised) with EXPR a well-formed expression of integers, + - * and brackets" },
  math_correct_rate: { aggregation: "mean", higherIsBetter: true, definition: "share of calculator requests whose completion is a valid call whose EXPR has the value of the prompt's expression (* before + and -)" },
};

const NEGATIVE_METRICS: Record<string, MetricDef> = {
  copy_rate: { aggregation: "mean", higherIsBetter: true, definition: "share of copy requests whose greedy completion equals the prompt's expression (whitespace normalised)" },
  false_tool_call_rate: { aggregation: "mean", higherIsBetter: false, definition: "share of copy requests whose completion contains <tool_call>" },
};

/** The evaluation task of one subset of tool-call items. */
export function toolCallTask(subset: ToolEvalSubset, items: readonly ToolEvalItem[], name = TOOL_CALL_TASKS[subset]): Task {
  const negative = subset === "negative";
  const instance = (item: ToolEvalItem, index: number): Instance => ({
    id: String(index),
    ...(subset === "ood" || subset === "word" ? { group: item.variant } : {}),
    prompt: item.prompt,
    requests: [{ type: "generate_until", context: item.prompt, until, maxNewTokens: MAX_NEW_TOKENS, addSpecialTokens: true }],
    target: item.completion,
    score: (rs): Record<string, MetricValue> => {
      const s = scoreToolCompletion((rs[0] as GenerateResponse).text, item.expression);
      return negative
        ? { copy_rate: s.copied, false_tool_call_rate: s.tool_call }
        : { tool_call_rate: s.tool_call, valid_tool_format_rate: s.valid_tool_format, math_correct_rate: s.math_correct };
    },
    explain: (rs) => {
      const generation = (rs[0] as GenerateResponse).text;
      const p = parseToolCall(generation);
      return { generation, variant: item.variant, expression: item.expression, value: item.value, call_expression: p.expression, call_value: p.value };
    },
  });
  return {
    name,
    version: "1.0",
    promptFormat: `fact-world tool calls (${subset}): ${subset === "word" ? '"Question : {question} Answer :"' : '"User : {ask} {expression} Assistant :"'} with BOS, greedy until end of line or EOS (${MAX_NEW_TOKENS} tokens at most), read up to and including the first </tool_call>`,
    fewshot: { n: 0, split: "none", sampler: "none", seed: 1234 },
    metrics: negative ? NEGATIVE_METRICS : POSITIVE_METRICS,
    size: items.length,
    instances: (limit) => (limit === undefined ? items : items.slice(0, limit)).map(instance),
  };
}

/** The seed of a fact world's world.json (data/factworld/export-files.ts). */
export function worldSeedOf(json: unknown, file: string): number {
  const seed = (json as { seed?: unknown } | null)?.seed;
  if (typeof seed !== "number" || !Number.isInteger(seed)) {
    throw new UsageError("DATASET_FIELD", "fact-world world.json has no integer \"seed\"", { file, fix: "re-export the fact world's data (scalpel train-default)" });
  }
  return seed;
}

/** The subset's task on the fact world with this seed (`n` items, default TOOL_EVAL_SIZE). */
export function toolCallWorldTask(subset: Exclude<ToolEvalSubset, "word">, world: { seed: number }, n = TOOL_EVAL_SIZE): Task {
  return toolCallTask(subset, toolEvalSet(world, n)[subset]);
}

/** The seed and entities of a fact world's world.json (what the word problems need). */
export function wordProblemWorldOf(json: unknown, file: string): WordProblemWorld {
  const seed = worldSeedOf(json, file);
  const entities = (json as { entities?: unknown }).entities;
  const ok = Array.isArray(entities) && entities.every((e) => typeof (e as { type?: unknown })?.type === "string" && typeof (e as { name?: unknown })?.name === "string");
  if (!ok) throw new UsageError("DATASET_FIELD", "fact-world world.json has no \"entities\" list of {type, name}", { file, fix: "re-export the fact world's data (scalpel train-default)" });
  return { seed, entities: entities as WordProblemWorld["entities"] };
}

/** `tool-calls-word` on this fact world (`n` word problems of the test split, default WORD_TOOL_EVAL_SIZE). */
export function toolCallWordTask(world: WordProblemWorld, n = WORD_TOOL_EVAL_SIZE): Task {
  return toolCallTask("word", wordProblemToolEvalSet(world, n));
}
