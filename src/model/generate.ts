/**
 * Text generation: greedy or sampled decoding of a batch of prompts with the KV cache.
 *
 * The loop is Hugging Face's GenerationMixin._sample reduced to what scalpel needs:
 * - prompts are left-padded to one length (as HF requires for decoder-only batches), with an
 *   attention mask so padding is neither attended to nor counted in positions;
 * - one prefill pass over the prompts returns a KV cache; each later step feeds only the newest
 *   token of every row and extends the mask by one column of ones;
 * - rows that finished keep being fed a pad token so the batch keeps its shape (HF does the same
 *   via unfinished_sequences); their outputs are ignored;
 * - the next token comes from sampling.ts (greedy, or temperature → top-k → top-p → multinomial).
 * Stop strings follow lm-evaluation-harness's generate_until: the decoded continuation is cut at
 * the first occurrence of any stop string (`s.split(term)[0]`), and generation of that row ends.
 *
 * Sampling uses one PRNG stream per prompt (seed, row index), so a prompt's sample depends only
 * on the seed and its position in the batch, never on Math.random.
 */
import { UsageError } from "../errors.js";
import { disposeTree, readF32 } from "../tensor/own.js";
import { Rng } from "../util/rng.js";
import { checkSamplingOptions, chooseToken, isSampling, type SamplingOptions } from "./sampling.js";
import { nativeFor } from "./native/executor.js";
import type { Arr, ForwardResult, Hook, KVCache, Model } from "./types.js";

export type FinishReason = "eos" | "stop" | "length";

/** Positions the KV cache grows by (each capacity compiles the decoding step once). */
const KV_BLOCK = 64;

export interface GenerateOptions extends SamplingOptions {
  /** Tokens to generate at most per prompt (default 32). */
  maxNewTokens?: number;
  /** Seed of the sampler (default 0); ignored for greedy decoding. */
  seed?: number;
  /** End-of-sequence id(s); default the model's / tokenizer's EOS. `null` never stops on EOS. */
  eosTokenId?: number | number[] | null;
  /** Stop when the decoded continuation contains one of these; the text is cut before it. */
  stop?: string[];
  /** Use the KV cache (default true). false recomputes the whole sequence each step (for tests). */
  useCache?: boolean;
  /** For string prompts: add BOS/EOS as the tokenizer says (default true, as HF's tokenizer()). */
  addSpecialTokens?: boolean;
  /** Hooks applied at every forward pass (steering during generation). */
  hooks?: Record<string, Hook>;
  /** Called after every decoding step with the ids generated so far per prompt (streaming views). */
  onStep?: (generated: readonly (readonly number[])[]) => void;
}

export interface GenerateResult {
  /** Decoded continuations (special tokens skipped, cut at a stop string). */
  texts: string[];
  /** Generated ids per prompt, EOS included when it ended the row. */
  tokens: number[][];
  finishReasons: FinishReason[];
  /** The prompt ids that were fed (after tokenization, before padding). */
  promptTokens: number[][];
}

/** Generate continuations for a batch of prompts (strings, or token ids). */
export async function generate(model: Model, prompts: string[] | number[][], options: GenerateOptions = {}): Promise<GenerateResult> {
  checkSamplingOptions(options);
  const maxNew = options.maxNewTokens ?? 32;
  if (!(Number.isInteger(maxNew) && maxNew >= 0)) throw new RangeError(`maxNewTokens must be an integer ≥ 0, got ${maxNew}`);
  const eos = new Set(eosIds(model, options.eosTokenId));
  const stops = (options.stop ?? []).filter((s) => s.length > 0);
  const sampling = isSampling(options);
  const seed = options.seed ?? 0;
  const useCache = options.useCache ?? true;
  const hooks = options.hooks;

  const promptIds = prompts.map((p) => encodePrompt(model, p, options.addSpecialTokens));
  const B = promptIds.length;
  const out: GenerateResult = { texts: [], tokens: promptIds.map(() => []), finishReasons: [], promptTokens: promptIds };
  if (B === 0) return out;
  const reasons: (FinishReason | undefined)[] = new Array(B).fill(undefined);
  const texts: string[] = new Array(B).fill("");
  const rngs = promptIds.map((_, b) => Rng.forRow(seed, b));
  const padId = model.tokenizer.padId ?? model.config.padTokenId ?? [...eos][0] ?? 0;

  // Left padding: every row's last prompt token sits in the last column.
  const P = Math.max(...promptIds.map((r) => r.length));
  let seqs = promptIds.map((r) => [...new Array(P - r.length).fill(padId), ...r]);
  let mask = promptIds.map((r) => [...new Array(P - r.length).fill(0), ...new Array(r.length).fill(1)]);
  if (P > model.config.nCtx) {
    throw new UsageError("PROMPT_TOO_LONG", `a prompt has ${P} tokens, more than the model's context window (${model.config.nCtx})`, {
      fix: "shorten the prompt",
    });
  }
  const room = model.config.nCtx - P; // positions left in the context window
  const budget = Math.min(maxNew, room);
  if (budget === 0) {
    return finish(out, texts, promptIds.map(() => "length"));
  }

  let kv: KVCache | undefined;
  // Forward-only: a registered native executor decodes plain models (model/native/executor.ts).
  const native = useCache ? nativeFor(model, hooks) : undefined;
  const decoder = native?.decoder(model);
  try {
    // Only the last column's logits are read (left padding puts every row's last token there), and
    // the padded vocabulary width spares the device a gather (lastRows cuts the padding on the host).
    const logitOpts = { logitsPositions: "last", paddedLogits: true, promptLength: P } as const;
    // A KV cache with room for KV_BLOCK positions at a time keeps each step's shapes fixed, so the
    // model runs unhooked steps through one compiled program (ForwardOptions.kvPadTo).
    const kvOpts = useCache ? { returnKV: true, kvPadTo: KV_BLOCK } : {};
    let res: ForwardResult | undefined;
    let rows: Float32Array[];
    if (decoder) rows = await decoder.prefill(seqs, mask);
    else {
      res = model.forward(seqs, { attentionMask: mask, hooks, ...kvOpts, ...logitOpts });
      kv = res.kv;
      rows = await lastRows(res.logits, res.cache, model.config.vocabSize);
    }
    for (let step = 0; step < budget; step++) {
      const next: number[] = [];
      for (let b = 0; b < B; b++) {
        if (reasons[b]) {
          next.push(padId);
          continue;
        }
        const tok = chooseToken(rows[b]!, options, sampling ? rngs[b] : undefined);
        next.push(tok);
        const gen = out.tokens[b]!;
        gen.push(tok);
        if (eos.has(tok)) {
          reasons[b] = "eos";
          texts[b] = model.tokenizer.decode(gen.slice(0, -1), { skipSpecialTokens: true });
          continue;
        }
        if (stops.length) {
          const text = model.tokenizer.decode(gen, { skipSpecialTokens: true });
          const cut = firstStop(text, stops);
          if (cut >= 0) {
            reasons[b] = "stop";
            texts[b] = text.slice(0, cut);
          }
        }
      }
      options.onStep?.(out.tokens);
      if (reasons.every(Boolean) || step === budget - 1) break;
      // Feed the newest token of every row; the mask grows by one real column.
      if (decoder) {
        rows = await decoder.step(next);
        continue;
      }
      if (useCache) {
        res = model.forward(next.map((t) => [t]), { kv, attentionMask: next.map(() => [1]), returnKV: true, hooks, ...logitOpts });
        kv = res.kv;
      } else {
        seqs = seqs.map((r, b) => [...r, next[b]!]);
        mask = mask.map((r) => [...r, 1]);
        res = model.forward(seqs, { attentionMask: mask, hooks, ...logitOpts });
      }
      rows = await lastRows(res.logits, res.cache, model.config.vocabSize);
    }
  } finally {
    decoder?.dispose();
    if (kv) disposeTree(kv.layers);
  }
  for (let b = 0; b < B; b++) {
    if (!reasons[b]) {
      reasons[b] = "length";
      texts[b] = model.tokenizer.decode(out.tokens[b]!, { skipSpecialTokens: true });
    }
  }
  return finish(out, texts, reasons as FinishReason[]);
}

function finish(out: GenerateResult, texts: string[], reasons: FinishReason[]): GenerateResult {
  out.texts = texts;
  out.finishReasons = reasons;
  return out;
}

/** Index where the earliest stop string starts in `text`, or −1. */
export function firstStop(text: string, stops: readonly string[]): number {
  let cut = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (cut < 0 || i < cut)) cut = i;
  }
  return cut;
}

function eosIds(model: Model, given: number | number[] | null | undefined): number[] {
  if (given === null) return [];
  const ids = given ?? model.config.eosTokenId ?? model.tokenizer.eosId;
  return ids === undefined ? [] : Array.isArray(ids) ? ids : [ids];
}

function encodePrompt(model: Model, prompt: string | number[], addSpecialTokens: boolean | undefined): number[] {
  const ids = typeof prompt === "string" ? model.tokenizer.encode(prompt, { addSpecialTokens: addSpecialTokens ?? true }).ids : [...prompt];
  if (ids.length > 0) return ids;
  // An empty prompt still needs one position to predict from: start from BOS, as HF does.
  const bos = model.tokenizer.bosId ?? model.config.bosTokenId;
  if (bos === undefined) {
    throw new UsageError("EMPTY_PROMPT", "cannot generate from an empty prompt: the tokenizer has no BOS token", {
      fix: "give a non-empty prompt",
    });
  }
  return [bos];
}

/**
 * Logits of the last position of every row, read to host ([batch][vocab]); frees the arrays.
 * The logits may be padded past `vocab` (paddedLogits): each row is cut to the real columns.
 */
async function lastRows(logits: Arr | undefined, cache: Record<string, Arr>, vocab: number): Promise<Float32Array[]> {
  disposeTree(cache);
  if (!logits) throw new Error("generate: forward returned no logits");
  const [B, T, W] = logits.shape as [number, number, number];
  const flat = await readF32(T === 1 ? logits : logits.slice([], T - 1));
  const V = Math.min(vocab, W);
  return Array.from({ length: B }, (_, b) => flat.subarray(b * W, b * W + V));
}
