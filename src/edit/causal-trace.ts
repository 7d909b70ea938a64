/**
 * Causal tracing (Meng et al. 2022, "Locating and Editing Factual Associations in GPT", §2.1),
 * following rome/experiments/causal_trace.py:
 *
 * - clean run: the prompt; the answer is the clean run's argmax next token (predict_from_input),
 *   its probability the "high score".
 * - corrupted runs (trace_with_patch): Gaussian noise ν·N(0, 1) is added to the token embeddings
 *   of the subject's tokens in `samples` copies of the prompt; ν = 3 × the standard deviation of
 *   subject-token embeddings over a sample of subjects (collect_embedding_std, torch .std(), i.e.
 *   ddof = 1). The noise is drawn afresh from a fixed seed in every trace_with_patch call
 *   (numpy RandomState(1) in the reference), so every restoration sees the same corruption.
 *   P(answer) is the softmax at the last position averaged over the corrupted copies; with nothing
 *   restored it is the "low score".
 * - restoration: in the corrupted copies the hidden state of chosen (token, layer) pairs is set to
 *   the clean run's (h[1:, t] = h[0, t]). kind "" restores the block output
 *   (blocks.{l}.hook_resid_post); "mlp" / "attn" restore the MLP / attention output
 *   (hook_mlp_out / hook_attn_out) over a window of `window` layers centred on l
 *   (trace_important_window: layers max(0, l − ⌊w/2⌋) … min(L, l + ⌈w/2⌉) − 1).
 * - indirect effect of a state = P(answer | corrupted, state restored) − low score; ROME averages it
 *   over facts (the "average indirect effect", AIE) and finds the MLP peak at the subject's last
 *   token in middle layers — the layer ROME edits.
 *
 * Restorations are batched: one forward holds the clean copy and `samples` corrupted copies per
 * restoration, all with identical noise (as in the reference), so results equal one call per state.
 */
import { numpy as np } from "@jax-js/jax";
import { UsageError } from "../errors.js";
import { gaussian, makeRng } from "../util/rng.js";
import type { Arr, Hook, Model } from "../model/types.js";
import { disposeTree, readF32 } from "../tensor/own.js";

export type TraceKind = "" | "mlp" | "attn";

export interface TraceInput {
  tokens: number[];
  /** [start, end) token range of the subject. */
  subjectRange: [number, number];
}

export interface HiddenFlow {
  kind: TraceKind;
  window: number;
  /** scores[t][l] = P(answer) with (t, l) restored (kind "") or the window around l (mlp/attn). */
  scores: number[][];
  lowScore: number;
  highScore: number;
  answer: string;
  answerId: number;
  tokens: string[];
  tokenIds: number[];
  subjectRange: [number, number];
  noise: number;
}

export interface TraceOptions {
  /** Noise multiplier ν (the std of the Gaussian noise); ROME uses 3 × embedding std. */
  noise: number;
  /** Corrupted copies (ROME: samples = 10). */
  samples?: number;
  seed?: number;
  kind?: TraceKind;
  /** Layers restored together for mlp/attn (ROME: 10). */
  window?: number;
  /** Token positions to trace (default all). */
  tokenRange?: number[];
  /** Score this token instead of the clean argmax. */
  answerId?: number;
  /** Rows per forward pass (default 256). */
  maxRows?: number;
}

/** The hook point a kind restores at layer l (ROME's layername(model, l, kind)). */
export function traceHook(kind: TraceKind, layer: number): string {
  return kind === "" ? `blocks.${layer}.hook_resid_post` : kind === "mlp" ? `blocks.${layer}.hook_mlp_out` : `blocks.${layer}.hook_attn_out`;
}

/**
 * Token range of `subject` inside `prompt` (ROME's find_token_range): the tokens whose character
 * spans overlap the subject's first occurrence.
 */
export function subjectTokenRange(model: Model, prompt: string, subject: string): TraceInput {
  const at = prompt.indexOf(subject);
  if (at < 0) throw new UsageError("SUBJECT_NOT_IN_PROMPT", `the subject ${JSON.stringify(subject)} does not occur in the prompt ${JSON.stringify(prompt)}`, { fix: "pass --subject as it is written in --prompt" });
  const enc = model.tokenizer.encode(prompt);
  let start = -1;
  let end = -1;
  enc.offsets.forEach(([a, b], i) => {
    if (b > at && a < at + subject.length && b > a) {
      if (start < 0) start = i;
      end = i + 1;
    }
  });
  if (start < 0) throw new UsageError("SUBJECT_NOT_TOKENIZED", `no token of the prompt covers the subject ${JSON.stringify(subject)}`);
  return { tokens: enc.ids, subjectRange: [start, end] };
}

/** ROME's collect_embedding_std: std (ddof = 1) of every entry of the subjects' token embeddings. */
export async function embeddingStd(model: Model, subjects: readonly string[]): Promise<number> {
  const values: number[] = [];
  for (const s of subjects) {
    // The subject's own tokens (no BOS), as ROME's make_inputs gives for GPT-2.
    const ids = model.tokenizer.encode(s, { addSpecialTokens: false }).ids;
    const { cache } = model.forward([ids], { cache: ["hook_embed"], stopAt: "hook_embed" });
    values.push(...(await readF32(cache.hook_embed!)));
  }
  const n = values.length;
  const m = values.reduce((a, b) => a + b, 0) / n;
  return Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
}

/**
 * P(answer) for each restoration (a list of (token, layer-hook) pairs), averaged over the
 * corrupted copies; restorations = [[]] gives the low score. Also the clean distribution's argmax.
 */
export async function traceWithPatch(
  model: Model,
  input: TraceInput,
  restorations: { token: number; hook: string }[][],
  opts: { noise: number; samples?: number; seed?: number; answerId?: number; maxRows?: number },
): Promise<{ probs: number[]; answerId: number; highScore: number }> {
  const S = opts.samples ?? 10;
  const T = input.tokens.length;
  const d = model.config.dModel;
  const [b, e] = input.subjectRange;
  // One noise draw per call, shared by every restoration (reference: RandomState(1) per call).
  // mulberry32 uniforms through Box–Muller: the same seed gives the same noise.
  const uniform = makeRng(opts.seed ?? 1);
  const rand = () => gaussian(uniform);
  const noise = new Float32Array(S * (e - b) * d);
  for (let i = 0; i < noise.length; i++) noise[i] = rand() * opts.noise;
  const perForward = Math.max(1, Math.floor(((opts.maxRows ?? 256) - 1) / S));
  let answerId = opts.answerId;
  let highScore = NaN;
  const probs: number[] = [];
  for (let start = 0; start < restorations.length; start += perForward) {
    const group = restorations.slice(start, start + perForward);
    const B = 1 + group.length * S;
    // Embedding noise: rows 1.. (each restoration's S copies get noise samples 0..S−1).
    const embNoise = new Float32Array(B * T * d);
    for (let r = 1; r < B; r++) {
      const s = (r - 1) % S;
      embNoise.set(noise.subarray(s * (e - b) * d, (s + 1) * (e - b) * d), (r * T + b) * d);
    }
    // Restoration masks per hook point: mask[r, t] = 1 where copy r takes the clean state at t.
    const masks = new Map<string, Float32Array>();
    group.forEach((states, g) => {
      for (const { token, hook } of states) {
        let m = masks.get(hook);
        if (!m) masks.set(hook, (m = new Float32Array(B * T)));
        for (let s = 0; s < S; s++) m[(1 + g * S + s) * T + token] = 1;
      }
    });
    const hooks: Record<string, Hook> = {
      hook_embed: (x) => (opts.noise === 0 ? x : x.add(np.array(embNoise).reshape([B, T, d]))),
    };
    for (const [hook, m] of masks) {
      hooks[hook] = (x) => restore(x, m, B, T);
    }
    const tokens = Array.from({ length: B }, () => input.tokens);
    const { logits, cache } = model.forward(tokens, { hooks, logitsPositions: "last", paddedLogits: true });
    disposeTree(cache);
    const W = logits!.shape[2]!;
    const flat = await readF32(logits!);
    const V = model.config.vocabSize;
    const softmaxRow = (r: number): Float64Array => {
      const row = flat.subarray(r * W, r * W + V);
      let mx = -Infinity;
      for (const v of row) if (v > mx) mx = v;
      const p = new Float64Array(V);
      let z = 0;
      for (let i = 0; i < V; i++) z += p[i] = Math.exp(row[i]! - mx);
      for (let i = 0; i < V; i++) p[i]! /= z;
      return p;
    };
    if (start === 0) {
      const clean = softmaxRow(0);
      if (answerId === undefined) answerId = clean.indexOf(Math.max(...clean));
      highScore = clean[answerId]!;
    }
    group.forEach((_, g) => {
      let sum = 0;
      for (let s = 0; s < S; s++) sum += softmaxRow(1 + g * S + s)[answerId!]!;
      probs.push(sum / S);
    });
  }
  if (answerId === undefined) throw new Error("traceWithPatch: no restorations given");
  return { probs, answerId, highScore };
}

/** x' = x·(1 − M) + x[0]·M: rows with M = 1 at a position take the clean copy's state there. */
function restore(x: Arr, mask: Float32Array, B: number, T: number): Arr {
  const M = np.array(mask).reshape([B, T, 1]);
  const clean = x.ref.slice(0); // [T, d], broadcast over the batch
  return x.mul(np.array(1).sub(M.ref)).add(clean.mul(M));
}

/** ROME's calculate_hidden_flow: the restoration table for every (token, layer). */
export async function calculateHiddenFlow(model: Model, prompt: string, subject: string, opts: TraceOptions): Promise<HiddenFlow> {
  const input = subjectTokenRange(model, prompt, subject);
  const L = model.config.nLayers;
  const kind = opts.kind ?? "";
  const window = kind === "" ? 1 : opts.window ?? 10;
  const tokens = opts.tokenRange ?? input.tokens.map((_, i) => i);
  const restorations: { token: number; hook: string }[][] = [[]];
  for (const t of tokens) {
    for (let l = 0; l < L; l++) {
      if (kind === "") restorations.push([{ token: t, hook: traceHook(kind, l) }]);
      else {
        const lo = Math.max(0, l - Math.floor(window / 2));
        const hi = Math.min(L, l + Math.ceil(window / 2));
        const states: { token: number; hook: string }[] = [];
        for (let k = lo; k < hi; k++) states.push({ token: t, hook: traceHook(kind, k) });
        restorations.push(states);
      }
    }
  }
  const { probs, answerId, highScore } = await traceWithPatch(model, input, restorations, opts);
  const scores = tokens.map((_, i) => probs.slice(1 + i * L, 1 + (i + 1) * L));
  return {
    kind,
    window,
    scores,
    lowScore: probs[0]!,
    highScore,
    answer: model.tokenizer.decode([answerId]),
    answerId,
    tokens: input.tokens.map((id) => model.tokenizer.decode([id])),
    tokenIds: input.tokens,
    subjectRange: input.subjectRange,
    noise: opts.noise,
  };
}

/**
 * Average indirect effect at the subject's last token per layer, over traced facts
 * (mean of scores[last subject token][l] − lowScore), and the layer where it peaks: the edit layer
 * to suggest for ROME on a new model (ROME edits where the MLP AIE at the last subject token peaks).
 */
export function lastSubjectTokenEffect(flows: readonly HiddenFlow[]): { aie: number[]; bestLayer: number } {
  if (flows.length === 0) throw new RangeError("lastSubjectTokenEffect: no traces");
  const L = flows[0]!.scores[0]!.length;
  const aie = new Array(L).fill(0);
  for (const f of flows) {
    const t = f.subjectRange[1] - 1;
    for (let l = 0; l < L; l++) aie[l] += (f.scores[t]![l]! - f.lowScore) / flows.length;
  }
  return { aie, bestLayer: aie.indexOf(Math.max(...aie)) };
}
