/**
 * Fine-tuning baselines for knowledge editing: gradient descent on the chosen layers' MLP output
 * projections W_out, as EasyEdit's ft_main.execute_ft (from ROME's FT / FT+L baselines).
 *
 * - Adam (lr, weight_decay) for up to num_steps passes over the requests in batches; stop early
 *   once the mean loss of a pass is below 1e-2.
 * - Objective "prompt_last" (FT-L, ROME's FT): the log-probability of the target's tokens read at
 *   the prompt's last position, −Σ_t log P(t | prompt) / |target| (ft_main: log_softmax of
 *   logits[last_token_inds] gathered at target_ids, masked, averaged).
 * - Objective "target_new" (FT-M, EasyEdit): teacher-forced cross-entropy on the target tokens of
 *   prompt + target, prompt positions masked out (labels = −100), mean over target tokens.
 * - norm_constraint ε (FT-L): after every step each trained matrix is clamped to W₀ ± ε
 *   elementwise (an L∞ ball around the original weights); false leaves it unconstrained.
 * EasyEdit trains every parameter whose name contains the rewrite module (weight and bias); we
 * train W_out only, the matrix the brief and ROME's comparison name.
 */
import { numpy as np, valueAndGrad } from "@jax-js/jax";
import { lossPositions, tokenLogprobs } from "../eval/logprobs.js";
import type { WeightPatch } from "../model/patch.js";
import { modelHash } from "../model/hash.js";
import type { Arr, Model, Params } from "../model/types.js";
import { disposeTree, readF32 } from "../tensor/own.js";
import { Adam } from "./adam.js";
import type { FtHparams } from "./hparams.js";
import { encodePrompt, fill, padIdOf, padRight, targetIds } from "./tokens.js";
import type { EditContext, EditRequest } from "./types.js";
import { nextMacrotask } from "../util/macrotask.js";

interface Batch {
  tokens: number[][];
  mask: number[][];
  /** Target ids per position (0 where none) and weights (1/(|target|·rows) where scored). */
  targets: Int32Array;
  weights: Float32Array;
}

/** The loss positions of a batch of requests under the objective. */
function makeBatch(model: Model, requests: EditRequest[], objective: FtHparams["objective"]): Batch {
  const tok = model.tokenizer;
  const rows: number[][] = [];
  const scored: { row: number; pos: number; id: number; w: number }[] = [];
  for (const [b, r] of requests.entries()) {
    const text = fill(r.prompt, r.subject);
    const prompt = encodePrompt(tok, text);
    const target = targetIds(tok, text, r.targetNew);
    if (objective === "prompt_last") {
      rows.push(prompt);
      for (const id of target) scored.push({ row: b, pos: prompt.length - 1, id, w: 1 / (target.length * requests.length) });
    } else {
      rows.push([...prompt, ...target.slice(0, -1)]);
      target.forEach((id, j) => scored.push({ row: b, pos: prompt.length - 1 + j, id, w: 1 / (target.length * requests.length) }));
    }
  }
  const { tokens, mask } = padRight(rows, padIdOf(tok));
  const T = tokens[0]!.length;
  // prompt_last scores several target ids at one position: one copy of the row per target token.
  const copies = Math.max(1, ...requests.map((_, b) => scored.filter((s) => s.row === b).length));
  if (objective === "prompt_last" && copies > 1) {
    const toks: number[][] = [];
    const masks: number[][] = [];
    const targets = new Int32Array(rows.length * copies * T);
    const weights = new Float32Array(rows.length * copies * T);
    for (let b = 0; b < rows.length; b++) {
      const mine = scored.filter((s) => s.row === b);
      for (let c = 0; c < copies; c++) {
        const r = b * copies + c;
        toks.push(tokens[b]!);
        masks.push(mask[b]!);
        const s = mine[c];
        if (s) {
          targets[r * T + s.pos] = s.id;
          weights[r * T + s.pos] = s.w;
        }
      }
    }
    return { tokens: toks, mask: masks, targets, weights };
  }
  const targets = new Int32Array(rows.length * T);
  const weights = new Float32Array(rows.length * T);
  for (const s of scored) {
    targets[s.row * T + s.pos] = s.id;
    weights[s.row * T + s.pos] = s.w;
  }
  return { tokens, mask, targets, weights };
}

export async function ftEdit(model: Model, requests: EditRequest[], hp: FtHparams, context: EditContext = {}, method = "ft"): Promise<WeightPatch> {
  const names = hp.layers.map((l) => `blocks.${l}.mlp.W_out`);
  const shapes = names.map((n) => model.params[n]!.shape as number[]);
  const W0 = await Promise.all(names.map((n) => readF32(model.params[n]!.ref)));
  const W = W0.map((w) => w.slice());
  const opt = W.map((w) => new Adam(w.length, hp.lr, hp.weightDecay));
  const batches: Batch[] = [];
  for (let s = 0; s < requests.length; s += hp.batchSize) batches.push(makeBatch(model, requests.slice(s, s + hp.batchSize), hp.objective));
  // Logits only at each batch's scored target positions (the rest of the pass is unchanged); computed once, not per step.
  const scored = batches.map((b) => lossPositions(b.targets, b.weights, b.tokens.length, b.tokens[0]!.length));
  const others = (): Params => Object.fromEntries(Object.entries(model.params).filter(([k]) => !names.includes(k)).map(([k, v]) => [k, v.ref]));

  for (let step = 0; step < hp.numSteps; step++) {
    await nextMacrotask(); // util/macrotask.ts: lets V8 release what autodiff kept alive
    context.onProgress?.(method, step, hp.numSteps);
    let lossSum = 0;
    for (const [k, b] of batches.entries()) {
      const B = b.tokens.length;
      const at = scored[k]!;
      const tgt = np.array(at.targets, { dtype: np.int32 }).reshape([B, at.P]);
      const wts = np.array(at.weights).reshape([B, at.P]);
      const loss = (ws: Arr[]): Arr => {
        const p = others();
        names.forEach((n, i) => (p[n] = ws[i]!));
        const { logits, cache } = model.apply(p, b.tokens, { attentionMask: b.mask, paddedLogits: true, logitsPositions: at.positions });
        disposeTree(cache);
        const { logprobs, greedy } = tokenLogprobs(logits!, tgt.ref);
        greedy.dispose();
        return logprobs.mul(wts.ref).sum().mul(-1);
      };
      const [value, grads] = valueAndGrad(loss)(W.map((w, i) => np.array(w).reshape(shapes[i]!)));
      lossSum += (await readF32(value))[0]!;
      const gs = await Promise.all((grads as Arr[]).map((g) => readF32(g)));
      tgt.dispose();
      wts.dispose();
      W.forEach((w, i) => {
        opt[i]!.step(w, gs[i]!);
        if (hp.normConstraint !== false) {
          const eps = hp.normConstraint;
          const w0 = W0[i]!;
          for (let j = 0; j < w.length; j++) w[j] = Math.min(w0[j]! + eps, Math.max(w0[j]! - eps, w[j]!));
        }
      });
    }
    if (lossSum / batches.length < 1e-2) break;
  }
  context.onProgress?.(method, hp.numSteps, hp.numSteps);
  const deltas: WeightPatch["deltas"] = {};
  names.forEach((n, i) => (deltas[n] = { shape: shapes[i]!, data: W[i]!.map((v, j) => v - W0[i]![j]!) }));
  return {
    type: "weights",
    info: { method, config: hp, seed: context.seed, createdAt: new Date().toISOString(), baseModelHash: await modelHash(model), requests },
    deltas,
  };
}
