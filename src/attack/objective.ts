/**
 * What the attacks optimise: the language-modelling loss of a row's target tokens (its
 * continuation) given everything before them, and its gradient with respect to the token
 * embeddings (the value at hook point `hook_embed`, W_E[token] · embed scale), which is what
 * HotFlip and universal triggers rank token swaps with.
 *
 * loss(row) = −1/|target| Σ_{j ≥ targetStart} log p(tokens[j] | tokens[<j]); a row's perplexity
 * is exp(loss). Rows run right-padded in one batch (padding never reaches a real position).
 */
import { numpy as np, valueAndGrad } from "@jax-js/jax";
import { UsageError } from "../errors.js";
import { lossPositions, tokenLogprobs } from "../eval/logprobs.js";
import { padIdOf, padRight } from "../edit/tokens.js";
import type { Arr, Model } from "../model/types.js";
import { disposeTree, readF32 } from "../tensor/own.js";

export interface AttackRow {
  tokens: number[];
  /** Index of the first target token: tokens before it are the (attackable) prompt. */
  targetStart: number;
}

interface Prepared {
  tokens: number[][];
  mask: number[][];
  T: number;
  /** Each row's target positions (padded with weight 0): the only positions that get logits. */
  positions: number[][];
  /** [B, P]: the target ids there, and 1/|target| (the row's mean; 0 on padding). */
  targets: Arr;
  weights: Arr;
}

function prepare(model: Model, rows: readonly AttackRow[]): Prepared {
  for (const r of rows) {
    if (!(r.targetStart >= 1 && r.targetStart < r.tokens.length)) {
      throw new UsageError("ATTACK_ROW", `a row of ${r.tokens.length} tokens needs 1 ≤ targetStart < ${r.tokens.length}, got ${r.targetStart}`, { fix: "give every row a prompt and at least one target token" });
    }
    if (r.tokens.length > model.config.nCtx) throw new UsageError("ATTACK_ROW", `a row of ${r.tokens.length} tokens exceeds the context window ${model.config.nCtx}`);
  }
  const { tokens, mask } = padRight(rows.map((r) => r.tokens), padIdOf(model.tokenizer));
  const T = tokens[0]!.length;
  const tgt = new Int32Array(rows.length * T);
  const w = new Float32Array(rows.length * T);
  rows.forEach((r, b) => {
    const n = r.tokens.length - r.targetStart;
    // Position j − 1 predicts token j.
    for (let j = r.targetStart; j < r.tokens.length; j++) {
      tgt[b * T + j - 1] = r.tokens[j]!;
      w[b * T + j - 1] = 1 / n;
    }
  });
  const at = lossPositions(tgt, w, rows.length, T);
  return {
    tokens, mask, T, positions: at.positions,
    targets: np.array(at.targets, { dtype: np.int32 }).reshape([rows.length, at.P]),
    weights: np.array(at.weights).reshape([rows.length, at.P]),
  };
}

/** Σ_rows loss(row) · scale as a device scalar, with δ added at hook_embed (differentiable in δ). */
function batchLoss(model: Model, p: Prepared, delta: Arr | undefined, scale: number): Arr {
  const { logits, cache } = model.forward(p.tokens, {
    attentionMask: p.mask,
    paddedLogits: true,
    logitsPositions: p.positions,
    ...(delta ? { hooks: { hook_embed: (x: Arr) => x.add(delta) } } : {}),
  });
  disposeTree(cache);
  const { logprobs, greedy } = tokenLogprobs(logits!, p.targets.ref);
  greedy.dispose();
  return logprobs.mul(p.weights.ref).sum().mul(-scale);
}

/** Each row's target loss (mean NLL of its target tokens). */
export async function rowLosses(model: Model, rows: readonly AttackRow[], batchSize = 32): Promise<number[]> {
  const out: number[] = [];
  for (let s = 0; s < rows.length; s += batchSize) {
    const p = prepare(model, rows.slice(s, s + batchSize));
    const { logits, cache } = model.forward(p.tokens, { attentionMask: p.mask, paddedLogits: true, logitsPositions: p.positions });
    disposeTree(cache);
    const { logprobs, greedy } = tokenLogprobs(logits!, p.targets);
    greedy.dispose();
    const per = await readF32(logprobs.mul(p.weights).sum(-1).mul(-1));
    out.push(...per);
  }
  return out;
}

export interface LossAndGrad {
  /** Mean over rows of the target loss. */
  loss: number;
  /** ∂ loss / ∂ e for each row: [tokens.length × d_model] row-major (e = the hook_embed value). */
  grads: Float32Array[];
}

/** The mean target loss over `rows` and its gradient with respect to every position's token embedding. */
export async function lossAndEmbeddingGrad(model: Model, rows: readonly AttackRow[]): Promise<LossAndGrad> {
  const p = prepare(model, rows);
  const d = model.config.dModel;
  const B = rows.length;
  const vg = valueAndGrad((delta: Arr) => batchLoss(model, p, delta, 1 / B));
  const [value, g] = vg(np.zeros([B, p.T, d])) as unknown as [Arr, Arr];
  const loss = (await readF32(value))[0]!;
  const all = await readF32(g);
  p.targets.dispose();
  p.weights.dispose();
  return { loss, grads: rows.map((r, b) => all.slice(b * p.T * d, (b * p.T + r.tokens.length) * d)) };
}

/** The token embeddings as hook_embed sees them: W_E · embed scale, [vocab × d_model] (host). */
export async function tokenEmbeddings(model: Model): Promise<Float32Array> {
  const W = await readF32(model.params["embed.W_E"]!.ref);
  const s = model.config.embedScale;
  return s === undefined ? W : W.map((x) => x * Math.fround(s));
}

/**
 * Token ids an attack may write (1 = allowed): the tokenizer's tokens minus BOS, EOS, pad, tokens
 * written like "<unk>" / "<|endoftext|>" (special or unknown markers), ids past the tokenizer's
 * vocabulary (a padded embedding), and `exclude`.
 */
export function candidateVocabulary(model: Model, exclude: readonly number[] = []): Uint8Array {
  const tok = model.tokenizer;
  const ok = new Uint8Array(model.config.vocabSize);
  for (let id = 0; id < ok.length; id++) {
    const t = tok.idToToken(id);
    ok[id] = t !== undefined && !/^<.*>$/.test(t) ? 1 : 0;
  }
  for (const id of [tok.bosId, tok.eosId, tok.padId, ...exclude]) if (id !== undefined && id < ok.length) ok[id] = 0;
  return ok;
}
