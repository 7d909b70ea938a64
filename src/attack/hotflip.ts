/**
 * HotFlip (Ebrahimi et al. 2018, "HotFlip: White-Box Adversarial Examples for Text
 * Classification", §3): a token swap at position i from a to b changes the loss by, to first
 * order in the one-hot input,
 *
 *   Δ(i, a→b) ≈ (e_b − e_a) · ∂L/∂e_i
 *
 * (e = the token's embedding as the model reads it, hook_embed). The attack flips the swap with
 * the largest estimate, up to a budget of flips, greedily or with a beam (the paper's beam search
 * keeps the `beam` best sequences by their *true* loss after each flip, evaluating the
 * `candidates` best first-order swaps of each).
 *
 * Here the loss is a row's target loss (objective.ts): the NLL of its continuation given a prompt;
 * only prompt positions are flipped (never BOS, never the continuation), each at most once, and
 * only to ordinary tokens (candidateVocabulary).
 */
import type { Model } from "../model/types.js";
import { candidateVocabulary, lossAndEmbeddingGrad, rowLosses, tokenEmbeddings, type AttackRow } from "./objective.js";

export interface HotFlipOptions {
  /** Flips at most (default 1). */
  budget?: number;
  /** Sequences kept after each flip (default 1 = greedy). */
  beam?: number;
  /** First-order candidates per sequence evaluated by their true loss (default 1: the top estimate alone). */
  candidates?: number;
  /** Positions that may be flipped (default: every prompt position but a leading BOS). */
  positions?: number[];
}

export interface Flip {
  position: number;
  from: number;
  to: number;
  /** The first-order estimate (e_b − e_a) · ∂L/∂e_i. */
  estimate: number;
}

export interface HotFlipResult {
  tokens: number[];
  flips: Flip[];
  /** Target loss before and after the flips. */
  lossBefore: number;
  lossAfter: number;
}

/** The `k` swaps with the largest first-order estimate for one row, given its embedding gradient. */
export function bestFirstOrderSwaps(tokens: readonly number[], grad: Float32Array, E: Float32Array, d: number, positions: readonly number[], allowed: Uint8Array, k: number): Flip[] {
  const best: Flip[] = [];
  const vocab = allowed.length;
  for (const i of positions) {
    const a = tokens[i]!;
    // e_a · g_i once; e_b · g_i per candidate.
    let ea = 0;
    for (let j = 0; j < d; j++) ea += E[a * d + j]! * grad[i * d + j]!;
    for (let b = 0; b < vocab; b++) {
      if (!allowed[b] || b === a) continue;
      let eb = 0;
      for (let j = 0; j < d; j++) eb += E[b * d + j]! * grad[i * d + j]!;
      const estimate = eb - ea;
      if (best.length < k || estimate > best[best.length - 1]!.estimate) {
        best.push({ position: i, from: a, to: b, estimate });
        best.sort((x, y) => y.estimate - x.estimate);
        if (best.length > k) best.pop();
      }
    }
  }
  return best;
}

interface Beam {
  tokens: number[];
  flips: Flip[];
  loss: number;
}

export async function hotflip(model: Model, row: AttackRow, options: HotFlipOptions = {}): Promise<HotFlipResult> {
  const budget = options.budget ?? 1;
  const beamWidth = options.beam ?? 1;
  const k = options.candidates ?? 1;
  const bos = model.tokenizer.bosId;
  const positions = options.positions ?? Array.from({ length: row.targetStart }, (_, i) => i).filter((i) => !(i === 0 && row.tokens[0] === bos));
  const E = await tokenEmbeddings(model);
  const d = model.config.dModel;
  const allowed = candidateVocabulary(model);
  const [lossBefore] = await rowLosses(model, [row]);
  let beams: Beam[] = [{ tokens: [...row.tokens], flips: [], loss: lossBefore! }];
  for (let step = 0; step < budget; step++) {
    const next: Beam[] = [];
    for (const b of beams) {
      const { grads } = await lossAndEmbeddingGrad(model, [{ tokens: b.tokens, targetStart: row.targetStart }]);
      const free = positions.filter((p) => !b.flips.some((f) => f.position === p));
      for (const f of bestFirstOrderSwaps(b.tokens, grads[0]!, E, d, free, allowed, k)) {
        const tokens = b.tokens.slice();
        tokens[f.position] = f.to;
        next.push({ tokens, flips: [...b.flips, f], loss: NaN });
      }
    }
    if (next.length === 0) break;
    // True losses of the candidates (one batch), then the best `beam` survive.
    const losses = await rowLosses(model, next.map((n) => ({ tokens: n.tokens, targetStart: row.targetStart })));
    next.forEach((n, i) => (n.loss = losses[i]!));
    next.sort((x, y) => y.loss - x.loss);
    beams = next.slice(0, beamWidth);
  }
  const top = beams[0]!;
  return { tokens: top.tokens, flips: top.flips, lossBefore: lossBefore!, lossAfter: top.loss };
}
