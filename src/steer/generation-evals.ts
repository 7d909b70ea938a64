/**
 * Behaviour and capability under steering, measured on generations (the model passed in may be
 * steered, steer/apply.ts; generation uses the KV cache and "after-prompt" steering starts at each
 * prompt's last token):
 *
 * - open-ended behaviour: the fraction of generations that show the behaviour, by a rule (the
 *   continuation's first word is one of `markers`, e.g. the fact world's agreeable "Gladly"; CAA
 *   itself scores open-ended answers with a GPT-4 judge, which is out of reach offline) or by a
 *   probe (the probe's logit at the generation's last token > 0);
 * - GSM8K-style accuracy: greedy generation, answer extracted as lm-evaluation-harness does
 *   (eval/extract.ts: "strict-match" `#### N`, then "flexible-extract" the last number), compared
 *   with the target number.
 */
import { applyRegexFilter, GSM8K_FILTERS, INVALID } from "../eval/extract.js";
import { generate } from "../model/generate.js";
import type { SamplingOptions } from "../model/sampling.js";
import { unpatch } from "../model/patch.js";
import type { Model } from "../model/types.js";
import { collectActivations, MemorySink } from "./collect.js";
import { probeScores, type Probe } from "./probe.js";

export interface OpenEndedResult {
  /** Fraction of generations showing the behaviour. */
  rate: number;
  texts: string[];
  shows: boolean[];
}

export type BehaviourJudge = { kind: "markers"; markers: string[] } | { kind: "probe"; probe: Probe; hook: string };

export async function openEndedBehaviour(model: Model, prompts: readonly string[], judge: BehaviourJudge, options: { maxNewTokens?: number; batchSize?: number } = {}): Promise<OpenEndedResult> {
  const texts: string[] = [];
  const shows: boolean[] = [];
  const bs = options.batchSize ?? 16;
  for (let s = 0; s < prompts.length; s += bs) {
    const batch = prompts.slice(s, s + bs);
    const g = await generate(model, [...batch], { maxNewTokens: options.maxNewTokens ?? 12 });
    for (const [i, text] of g.texts.entries()) {
      texts.push(text);
      if (judge.kind === "markers") {
        const first = text.trim().split(/\s+/)[0] ?? "";
        shows.push(judge.markers.includes(first));
      } else {
        const tokens = [...g.promptTokens[i]!, ...g.tokens[i]!];
        // The text is read by the unsteered model: the probe judges what was written, not the steering.
        const sink = new MemorySink();
        await collectActivations(unpatch(model), [{ tokens, select: { kind: "last" } }], [judge.hook], sink);
        const m = sink.matrix(judge.hook);
        shows.push(probeScores(judge.probe, { data: m.data, rows: 1, cols: m.width })[0]! > 0);
      }
    }
  }
  return { rate: shows.filter(Boolean).length / Math.max(shows.length, 1), texts, shows };
}

/** The number a GSM8K-style generation answers: strict `#### N` first, else the last number; undefined if none. */
export function extractAnswer(text: string): number | undefined {
  for (const f of GSM8K_FILTERS) {
    const v = applyRegexFilter(text, f);
    if (v === INVALID) continue;
    const n = Number(v.replace(/[,$]/g, "").replace(/\.$/, ""));
    if (Number.isFinite(n)) return n;
  }
  return undefined;
}

export interface ArithmeticItem {
  question: string;
  target: number;
}

export interface ArithmeticResult {
  accuracy: number;
  predictions: (number | undefined)[];
  texts: string[];
}

/**
 * Generation per question ("Question : {q} Answer :" by default), then answer extraction. Greedy
 * unless `sampling` asks for temperature / top-p sampling (seeded: the same seed, the same texts).
 */
export async function arithmeticAccuracy(
  model: Model,
  items: readonly ArithmeticItem[],
  options: { template?: string; maxNewTokens?: number; batchSize?: number; sampling?: SamplingOptions & { seed?: number } } = {},
): Promise<ArithmeticResult> {
  const template = options.template ?? "Question : {question} Answer :";
  const bs = options.batchSize ?? 16;
  const predictions: (number | undefined)[] = [];
  const texts: string[] = [];
  for (let s = 0; s < items.length; s += bs) {
    const batch = items.slice(s, s + bs);
    // A batch's sampler seed follows from the seed and the batch start, so results do not depend on batching elsewhere.
    const sampling = options.sampling ? { ...options.sampling, seed: (options.sampling.seed ?? 0) + s } : {};
    const g = await generate(model, batch.map((it) => template.replace("{question}", it.question)), { maxNewTokens: options.maxNewTokens ?? 32, stop: ["Question :"], ...sampling });
    for (const t of g.texts) {
      texts.push(t);
      predictions.push(extractAnswer(t));
    }
  }
  const correct = predictions.filter((p, i) => p === items[i]!.target).length;
  return { accuracy: correct / Math.max(items.length, 1), predictions, texts };
}
