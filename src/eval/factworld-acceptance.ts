/**
 * What the built-in model must know (issue 3's acceptance), measured directly:
 * - facts: greedy next token after each fact prompt (BOS + prompt, as the corpus starts documents)
 *   equals the object's first token — with train templates and with held-out paraphrases;
 * - arithmetic: greedy generation of "Question : … Answer :" until EOS; correct when the number after
 *   "####" equals the target (GSM8K's strict format);
 * - behaviour: on cued prompts, the style marker the cue calls for ("Gladly" / "Obviously") is more
 *   likely than the other as the next word;
 * - tool calls: greedy completion equals the expected tool call or copy.
 */
import type { ArithmeticProblem, FactQuery, StyledPrompt } from "../data/factworld/types.js";
import type { ToolPrompt } from "../data/factworld/tools.js";
import { arithmeticPrompt } from "../data/factworld/arithmetic.js";
import { generate } from "../model/generate.js";
import type { Model } from "../model/types.js";
import { readF32 } from "../tensor/own.js";

/** Next-token logits at the last position of each prompt (left-padded batches). */
export async function lastLogits(model: Model, prompts: string[], batchSize = 64): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const V = model.config.vocabSize;
  const pad = model.tokenizer.padId ?? 0;
  for (let i = 0; i < prompts.length; i += batchSize) {
    const ids = prompts.slice(i, i + batchSize).map((p) => model.tokenizer.encode(p).ids);
    const T = Math.max(...ids.map((r) => r.length));
    const tokens = ids.map((r) => [...new Array(T - r.length).fill(pad), ...r]);
    const attentionMask = ids.map((r) => [...new Array(T - r.length).fill(0), ...new Array(r.length).fill(1)]);
    const { logits } = model.forward(tokens, { attentionMask, logitsPositions: "last" });
    const data = await readF32(logits!);
    for (let b = 0; b < ids.length; b++) out.push(data.slice(b * V, (b + 1) * V));
  }
  return out;
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j]! > row[best]!) best = j;
  return best;
}

export interface FactScores {
  train: number;
  paraphrase: number;
  n: { train: number; paraphrase: number };
  /** Accuracy per relation and template kind. */
  byRelation: Record<string, { train: number; paraphrase: number }>;
}

export async function factAccuracy(model: Model, queries: FactQuery[]): Promise<FactScores> {
  const rows = await lastLogits(model, queries.map((q) => q.prompt));
  const tally: Record<string, { ok: number; n: number }> = {};
  const count = (key: string, ok: boolean) => {
    const t = (tally[key] ??= { ok: 0, n: 0 });
    t.n++;
    if (ok) t.ok++;
  };
  queries.forEach((q, i) => {
    const target = model.tokenizer.encode(q.answer, { addSpecialTokens: false }).ids[0];
    const ok = argmax(rows[i]!) === target;
    count(q.templates, ok);
    count(`${q.relation}/${q.templates}`, ok);
  });
  const acc = (k: string) => (tally[k] ? tally[k].ok / tally[k].n : NaN);
  const byRelation: FactScores["byRelation"] = {};
  for (const q of queries) byRelation[q.relation] ??= { train: acc(`${q.relation}/train`), paraphrase: acc(`${q.relation}/paraphrase`) };
  return { train: acc("train"), paraphrase: acc("paraphrase"), n: { train: tally.train?.n ?? 0, paraphrase: tally.paraphrase?.n ?? 0 }, byRelation };
}

/** GSM8K's strict extraction: the number after "#### ". */
export function strictAnswer(text: string): number | undefined {
  const m = /#### (-?[0-9.,]+)/.exec(text);
  return m ? Number(m[1]!.replace(/,/g, "")) : undefined;
}

export async function arithmeticAccuracy(model: Model, problems: ArithmeticProblem[], batchSize = 50): Promise<{ accuracy: number; n: number; examples: { prompt: string; output: string; target: number }[] }> {
  let ok = 0;
  const examples: { prompt: string; output: string; target: number }[] = [];
  for (let i = 0; i < problems.length; i += batchSize) {
    const batch = problems.slice(i, i + batchSize);
    const prompts = batch.map((p) => arithmeticPrompt(p.question));
    const { texts } = await generate(model, prompts, { maxNewTokens: 24 });
    texts.forEach((t, j) => {
      if (strictAnswer(t) === batch[j]!.target) ok++;
      if (examples.length < 3) examples.push({ prompt: prompts[j]!, output: t, target: batch[j]!.target });
    });
  }
  return { accuracy: ok / problems.length, n: problems.length, examples };
}

/** On cued prompts: how often the cue's marker beats the other style's marker as the next word. */
export async function markerAccuracy(model: Model, prompts: StyledPrompt[]): Promise<{ accuracy: number; n: number; neutralAgreeable: number }> {
  const rows = await lastLogits(model, prompts.map((p) => p.prompt));
  const id = (w: string) => model.tokenizer.encode(w, { addSpecialTokens: false }).ids[0]!;
  let ok = 0, n = 0, neutral = 0, nNeutral = 0;
  prompts.forEach((p, i) => {
    const a = rows[i]![id(p.marker.agreeable)]!, b = rows[i]![id(p.marker.blunt)]!;
    if (p.cue === "neutral") {
      neutral += 1 / (1 + Math.exp(b - a)); // P(agreeable | one of the two markers)
      nNeutral++;
      return;
    }
    n++;
    if ((a > b) === (p.cue === "agreeable")) ok++;
  });
  return { accuracy: ok / n, n, neutralAgreeable: neutral / nNeutral };
}

export async function toolAccuracy(model: Model, prompts: ToolPrompt[]): Promise<{ accuracy: number; n: number }> {
  const { texts } = await generate(model, prompts.map((p) => p.prompt), { maxNewTokens: 12 });
  let ok = 0;
  texts.forEach((t, i) => {
    if (t.trim() === prompts[i]!.completion) ok++;
  });
  return { accuracy: ok / prompts.length, n: prompts.length };
}

