/**
 * Score one model on edit cases: every likelihood the editing metrics need, in one batched
 * loglikelihood() pass (src/eval/logprobs.ts, lm-evaluation-harness's scoring), plus optional
 * sampled generations for fluency and consistency.
 *
 * Targets are scored with a leading space (" " + target after the prompt), as ROME's
 * test_batch_prediction (f"{prefix} {suffix}", tok(f" {target}")) and EasyEdit's
 * test_prediction_acc (prompt + ' ' + target) both do. Both encode with the tokenizer's special
 * tokens (Hugging Face tok(...) adds BOS for Llama-family models, and the fact-world model is
 * trained with BOS), so texts are encoded here with special tokens too (a trailing EOS dropped):
 * context = encode(prompt), continuation = encode(prompt + " " + target)[len(context):], as
 * ROME's prefix_lens slicing does.
 */
import type { EditCase } from "../../data/editing/case.js";
import { generate } from "../../model/generate.js";
import type { Model } from "../../model/types.js";
import type { Tokenizer } from "../../io/tokenizer/types.js";
import { loglikelihoodTokens, type ScoreResult, type TokenRequest } from "../logprobs.js";
import type { PairScore } from "./counterfact.js";
import { tokenAccuracy } from "./token-accuracy.js";

/** What one model does on one case, before any comparison with another model. */
export interface CaseScores {
  /** CounterFact comparisons (only when the case has targetTrue). */
  rewrite: PairScore[];
  paraphrase: PairScore[];
  neighborhood: PairScore[];
  /** Teacher-forced token accuracy of targetNew after the rewrite prompt (EasyEdit reliability). */
  reliability: number[];
  /** … after each paraphrase prompt (EasyEdit generalisation). */
  generalization: number[];
  /** Argmax tokens on each locality prompt + answer (compared between models for locality). */
  localityArgmax: number[][];
  /** Token accuracy of each portability answer. */
  portability: number[];
  /** Sampled generations (prompt + continuation) from the generation prompts, when asked for. */
  generations?: string[];
  /**
   * Both targets after each attribute prompt (other people who truly hold target_new), when asked
   * for: the seesaw study's attribute_prompts_probs (eval/editing/seesaw.ts).
   */
  attribute?: PairScore[];
  /** Summed log-probability of each candidate answer after each choice probe, when asked for. */
  choices?: ChoiceScore[];
}

/** A question about the case's subject with a closed set of answers (the seesaw "pair" probe). */
export interface ChoiceProbe {
  prompt: string;
  candidates: string[];
}

export interface ChoiceScore extends ChoiceProbe {
  /** Σ log p(candidate tokens | prompt), one per candidate. */
  logprobs: number[];
}

export interface ScoreCasesOptions {
  /** Rows per forward pass (default 64). */
  batchSize?: number;
  /** Generate from the generation prompts (ROME's fluency / consistency); off by default. */
  generation?: GenerationOptions;
  /** Score both targets after the attribute prompts too (CaseScores.attribute); off by default. */
  attributePrompts?: boolean;
  /** Closed-answer probes per case (CaseScores.choices); none by default. */
  choices?: (c: EditCase) => ChoiceProbe[];
}

/**
 * ROME's test_generation: generate_fast(n_gen_per_prompt=1, max_out_len=100, top_k=5). max_out_len
 * counts the prompt: every text is exactly that many tokens, and no EOS stops it early.
 */
export const ROME_GENERATION_LENGTH = 100;

export interface GenerationOptions {
  /** Tokens per generated text, prompt included (ROME's max_out_len; default 100). */
  maxOutLen?: number;
  seed?: number;
  /** Top-k sampling (ROME: 5). */
  topK?: number;
}

/** The rewrite prompt with the subject filled in (ROME: prompt.format(subject)). */
export function rewritePrompt(c: EditCase): string {
  return c.request.prompt.replace("{}", c.request.subject);
}

/** Encode with special tokens, minus a trailing EOS (a prompt is continued, never ended). */
function encodeText(tok: Tokenizer, text: string): number[] {
  const ids = tok.encode(text, { addSpecialTokens: true }).ids;
  if (ids.length > 1 && tok.eosId !== undefined && ids[ids.length - 1] === tok.eosId) ids.pop();
  return ids;
}

/** Context and continuation tokens of `prompt` + " " + `target`. */
export function targetRequest(tok: Tokenizer, prompt: string, target: string): TokenRequest {
  const context = encodeText(tok, prompt);
  const whole = encodeText(tok, `${prompt} ${target}`);
  const continuation = whole.slice(context.length);
  if (continuation.length === 0 || whole.slice(0, context.length).some((t, i) => t !== context[i])) {
    // A tokenizer that merges across the boundary: fall back to encoding the target alone.
    return { context, continuation: tok.encode(` ${target}`, { addSpecialTokens: false }).ids };
  }
  return { context, continuation };
}

export async function scoreCases(model: Model, cases: readonly EditCase[], options: ScoreCasesOptions = {}): Promise<CaseScores[]> {
  const requests: TokenRequest[] = [];
  const add = (context: string, target: string): number => requests.push(targetRequest(model.tokenizer, context, target)) - 1;
  type Plan = {
    pairs: { kind: "rewrite" | "paraphrase" | "neighborhood" | "attribute"; iNew: number; iTrue: number }[];
    choices: { probe: ChoiceProbe; rows: number[] }[];
    rel: number[];
    gen: number[];
    loc: number[];
    port: number[];
  };
  const plans: Plan[] = cases.map((c) => {
    const { targetNew, targetTrue } = c.request;
    const plan: Plan = { pairs: [], choices: [], rel: [], gen: [], loc: [], port: [] };
    const prompts: [Plan["pairs"][number]["kind"], string][] = [
      ["rewrite", rewritePrompt(c)],
      ...c.paraphrasePrompts.map((p) => ["paraphrase", p] as [Plan["pairs"][number]["kind"], string]),
      ...(targetTrue !== undefined ? c.neighborhoodPrompts.map((p) => ["neighborhood", p] as [Plan["pairs"][number]["kind"], string]) : []),
      ...(targetTrue !== undefined && options.attributePrompts ? c.attributePrompts.map((p) => ["attribute", p] as [Plan["pairs"][number]["kind"], string]) : []),
    ];
    for (const [kind, p] of prompts) {
      const iNew = add(p, targetNew);
      if (kind === "rewrite") plan.rel.push(iNew);
      if (kind === "paraphrase") plan.gen.push(iNew);
      if (targetTrue !== undefined) plan.pairs.push({ kind, iNew, iTrue: add(p, targetTrue) });
    }
    plan.loc = c.locality.map((l) => add(l.prompt, l.target));
    plan.port = c.portability.map((l) => add(l.prompt, l.target));
    plan.choices = (options.choices?.(c) ?? []).map((probe) => ({ probe, rows: probe.candidates.map((a) => add(probe.prompt, a)) }));
    return plan;
  });
  // 64 rows per pass: on the fact-world-sized model, scoring 20 CounterFact cases (760 requests)
  // took 4.4 s at 64 vs 8.5 s at 32 once compiled; edited models (withParams) reuse the compiled
  // forwards' speed (3–5 s vs 17 s for the first model, which pays compilation).
  const res = await loglikelihoodTokens(model, requests, { batchSize: options.batchSize ?? 64 });
  const acc = (r: ScoreResult) => tokenAccuracy(r.argmax, r.continuationTokens);
  const out: CaseScores[] = plans.map((plan) => {
    const s: CaseScores = { rewrite: [], paraphrase: [], neighborhood: [], reliability: [], generalization: [], localityArgmax: [], portability: [] };
    if (options.attributePrompts && plan.pairs.some((p) => p.kind === "attribute")) s.attribute = [];
    for (const p of plan.pairs) {
      const a = res[p.iNew]!;
      const b = res[p.iTrue]!;
      s[p.kind]!.push({ nllNew: -a.sum / a.logprobs.length, nllTrue: -b.sum / b.logprobs.length, newCorrect: a.isGreedy, trueCorrect: b.isGreedy });
    }
    s.reliability = plan.rel.map((i) => acc(res[i]!));
    s.generalization = plan.gen.map((i) => acc(res[i]!));
    s.localityArgmax = plan.loc.map((i) => res[i]!.argmax);
    s.portability = plan.port.map((i) => acc(res[i]!));
    if (plan.choices.length) s.choices = plan.choices.map(({ probe, rows }) => ({ ...probe, logprobs: rows.map((i) => res[i]!.sum) }));
    return s;
  });
  if (options.generation) {
    for (let k = 0; k < cases.length; k++) {
      const prompts = cases[k]!.generationPrompts;
      if (prompts.length > 0) out[k]!.generations = (await generateFast(model, prompts, options.generation)).map((g) => g.text);
    }
  }
  return out;
}

/**
 * ROME's generate_fast: each prompt continued by top-k sampling until prompt + continuation is
 * max_out_len tokens (EOS does not stop it); the text is prompt + continuation. Prompts of one
 * token length share a batch (one sampler stream per batch, seeded by `seed` and the length).
 */
export async function generateFast(model: Model, prompts: readonly string[], g: GenerationOptions = {}): Promise<{ text: string; promptTokens: number; newTokens: number }[]> {
  const maxOutLen = g.maxOutLen ?? ROME_GENERATION_LENGTH;
  const byLength = new Map<number, number[]>();
  prompts.forEach((p, i) => {
    const n = encodeText(model.tokenizer, p).length;
    byLength.set(n, [...(byLength.get(n) ?? []), i]);
  });
  const texts = new Array<{ text: string; promptTokens: number; newTokens: number }>(prompts.length);
  for (const [n, idx] of byLength) {
    const maxNewTokens = Math.max(0, Math.min(maxOutLen, model.config.nCtx) - n);
    const gen = await generate(model, idx.map((i) => prompts[i]!), { maxNewTokens, topK: g.topK ?? 5, temperature: 1, seed: (g.seed ?? 0) + n, eosTokenId: null });
    idx.forEach((i, j) => (texts[i] = { text: `${prompts[i]} ${gen.texts[j]!.trim()}`.trim(), promptTokens: n, newTokens: gen.tokens[j]!.length }));
  }
  return texts;
}
