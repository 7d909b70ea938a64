/**
 * The target vector of an edit: what the edited layer should output at the subject's last token
 * so that the model says the new object. ROME's v* (rome/compute_v.py, paper eq. 4) at the MLP
 * output of layer l; MEMIT's z* (memit/compute_z.py, paper eq. 16) at the residual stream after
 * the last edited layer. Both optimise one vector δ added at that point, at the subject's last
 * token of every prompt:
 *
 *   L(δ) = 1/N Σ_j −log P(o* | x_j + p)                                 (rewriting prompts, teacher-forced
 *                                                                         target, mean over its tokens)
 *        + kl_factor · 1/|E| Σ_e KL(P_δ(· | e) ‖ P_0(· | e))             (essence prompts "{} is a", at
 *                                                                         the subject's last token)
 *        + v_weight_decay · ‖δ‖ / ‖v₀‖²                                   (v₀ = the unedited output)
 *
 * with Adam (torch defaults) at lr v_lr for at most v_num_grad_steps steps (stopping once L < 5e-2),
 * δ projected back to ‖δ‖ ≤ clamp_norm_factor · ‖v₀‖ after each step. Returns v₀ + δ.
 */
import { numpy as np, valueAndGrad, nn } from "@jax-js/jax";
import { ConfigError } from "../errors.js";
import { tokenLogprobs } from "../eval/logprobs.js";
import type { Arr, Model } from "../model/types.js";
import { disposeTree, readF32 } from "../tensor/own.js";
import { Adam } from "./adam.js";
import type { ValueHparams } from "./hparams.js";
import type { EditRequest } from "./types.js";
import { encodePrompt, fill, padIdOf, padRight, subjectLastIndex, targetIds } from "./tokens.js";
import { nextMacrotask } from "../util/macrotask.js";

export interface ValueResult {
  /** v₀ + δ. */
  target: Float32Array;
  /** v₀: the unedited activation at the first rewriting prompt's subject token. */
  init: Float32Array;
  /** Loss at the last evaluated step, and steps taken. */
  loss: number;
  steps: number;
  /** −log P(target) part of the last loss. */
  nll: number;
}

export interface ValueStep {
  step: number;
  loss: number;
  /** ‖δ‖ / (clamp_norm_factor · ‖v₀‖): 1 when the norm clamp binds. */
  clampRatio: number;
}

/**
 * Optimise the vector written at `hook` (blocks.{l}.hook_mlp_out for ROME, blocks.{l}.hook_resid_post
 * for MEMIT) for one request, over the flattened context templates.
 */
export async function computeTargetVector(
  model: Model,
  request: EditRequest,
  hp: ValueHparams,
  templates: string[],
  hook: string,
  /** Called after every evaluated step (diagnostics: does δ converge, does the norm clamp bind). */
  observe?: (step: ValueStep) => void,
): Promise<ValueResult> {
  const tok = model.tokenizer;
  if (hp.vLossLayer !== model.config.nLayers - 1) {
    throw new ConfigError("EDIT_HPARAMS", `v_loss_layer ${hp.vLossLayer} is not the model's last layer (${model.config.nLayers - 1}); only the final logits are supported`, {
      field: "vLossLayer",
      fix: `set v_loss_layer to ${model.config.nLayers - 1}`,
    });
  }
  const prompt = request.prompt;
  const target = targetIds(tok, fill(prompt, request.subject), request.targetNew);
  // Rewriting prompts: template(prompt)(subject) + target[:-1], predicting target at the end.
  const rows: number[][] = [];
  const lookups: number[] = [];
  const nllPos: { row: number; pos: number; id: number }[] = [];
  for (const c of templates) {
    const t = fill(c, prompt);
    const { index } = subjectLastIndex(tok, t, request.subject);
    const ids = encodePrompt(tok, fill(t, request.subject));
    target.forEach((id, j) => nllPos.push({ row: rows.length, pos: ids.length - 1 + j, id }));
    rows.push([...ids, ...target.slice(0, -1)]);
    lookups.push(index);
  }
  const nRewrite = rows.length;
  for (const k of hp.klPrompts) {
    const { ids, index } = subjectLastIndex(tok, k, request.subject);
    rows.push(ids);
    lookups.push(index);
  }
  const nKl = rows.length - nRewrite;
  const d = model.config.dModel;
  // Rows run in chunks (LOGITS_PER_PASS; the loss is a sum over rows, so gradients add up): a
  // GPT-2-sized model's logits for 22 rows under `grad` otherwise outgrow the Wasm 4 GiB memory.
  const chunks: Chunk[] = [];
  const Tmax = Math.max(...rows.map((r) => r.length));
  const perPass = Math.max(1, Math.floor(LOGITS_PER_PASS / (Tmax * model.config.vocabSize)));
  for (let s0 = 0; s0 < rows.length; s0 += perPass) {
    const e0 = Math.min(rows.length, s0 + perPass);
    const { tokens, mask } = padRight(rows.slice(s0, e0), padIdOf(tok));
    const B = e0 - s0;
    const T = tokens[0]!.length;
    const at = new Float32Array(B * T);
    for (let b = 0; b < B; b++) at[b * T + lookups[s0 + b]!] = 1;
    const tgt = new Int32Array(B * T);
    const w = new Float32Array(B * T);
    for (const { row, pos, id } of nllPos) {
      if (row < s0 || row >= e0) continue;
      tgt[(row - s0) * T + pos] = id;
      w[(row - s0) * T + pos] = 1 / (target.length * nRewrite);
    }
    const klFrom = Math.max(0, nRewrite - s0);
    chunks.push({
      tokens, mask, T, klFrom, nKlHere: B - klFrom,
      at: np.array(at).reshape([B, T, 1]),
      tgt: np.array(tgt, { dtype: np.int32 }).reshape([B, T]),
      w: np.array(w).reshape([B, T]),
      ...(B > klFrom ? { klAt: np.array(at.slice(klFrom * T)).reshape([B - klFrom, T, 1]) } : {}),
    });
  }

  // Unedited pass: v₀ (first rewriting prompt's subject token) and the KL reference distributions.
  let init = new Float32Array(d);
  for (const [c, ch] of chunks.entries()) {
    const { cache, logits } = model.forward(ch.tokens, { attentionMask: ch.mask, cache: [hook], paddedLogits: true });
    const act = await readF32(cache[hook]!);
    if (c === 0) init = act.slice(lookups[0]! * d, (lookups[0]! + 1) * d);
    if (ch.klAt) ch.klInit = klLogProbs(logits!, ch.klAt.ref, ch.klFrom);
    else logits!.dispose();
  }
  const initNorm = Math.hypot(...init);

  /** The loss of one chunk (plus the weight decay on the first), and its NLL part. */
  const chunkLoss = (ch: Chunk, first: boolean) => (delta: Arr): Arr => {
    const { logits, cache } = model.forward(ch.tokens, {
      attentionMask: ch.mask,
      paddedLogits: true,
      hooks: { [hook]: (x) => x.add(ch.at.ref.mul(delta.ref)) },
    });
    disposeTree(cache);
    const { logprobs, greedy } = tokenLogprobs(logits!.ref, ch.tgt.ref);
    greedy.dispose();
    const nll = logprobs.mul(ch.w.ref).sum().mul(-1);
    let total = nll.ref;
    if (ch.klAt && hp.klFactor !== 0) {
      const lp = klLogProbs(logits!, ch.klAt.ref, ch.klFrom);
      // KL(P_δ ‖ P_0) per prompt, mean over prompts (torch kl_div(init, cur, log_target, batchmean)).
      const kl = np.exp(lp.ref).mul(lp.sub(ch.klInit!.ref)).sum().mul(hp.klFactor / nKl);
      total = total.add(kl);
    } else logits!.dispose();
    if (first) {
      // ‖δ‖ with a tiny floor so the gradient at δ = 0 is 0 (as torch.norm's), not NaN.
      total = total.add(np.sqrt(delta.ref.mul(delta.ref).sum().add(1e-12)).mul(hp.vWeightDecay / (initNorm * initNorm)));
    }
    delta.dispose();
    return np.stack([total, nll]);
  };
  const grads = chunks.map((ch, c) => valueAndGrad((delta: Arr) => chunkLoss(ch, c === 0)(delta).slice(0)));
  /** Loss and its gradient at δ (host), summed over chunks. */
  const evaluate = async (delta: Float32Array): Promise<{ value: number; grad: Float32Array }> => {
    let value = 0;
    const grad = new Float32Array(d);
    for (const vg of grads) {
      const [v, g] = vg(np.array(delta));
      value += (await readF32(v))[0]!;
      const gd = await readF32(g as Arr);
      for (let i = 0; i < d; i++) grad[i]! += gd[i]!;
    }
    return { value, grad };
  };

  // Adam over δ on the host (d_model numbers).
  const delta = new Float32Array(d);
  const adam = new Adam(d, hp.vLr);
  const maxNorm = hp.clampNormFactor * initNorm;
  let last = NaN;
  let steps = 0;
  for (let it = 0; it < hp.vNumGradSteps; it++) {
    await nextMacrotask(); // util/macrotask.ts: lets V8 release what autodiff kept alive
    const { value, grad } = await evaluate(delta);
    last = value;
    steps = it + 1;
    observe?.({ step: it, loss: value, clampRatio: Math.hypot(...delta) / maxNorm });
    if (value < 5e-2 || it === hp.vNumGradSteps - 1) break;
    adam.step(delta, grad);
    const n = Math.hypot(...delta);
    if (n > maxNorm) for (let i = 0; i < d; i++) delta[i]! *= maxNorm / n;
  }
  // The NLL part at the final δ (for diagnostics).
  let lastNll = 0;
  for (const [c, ch] of chunks.entries()) lastNll += (await readF32(chunkLoss(ch, c === 0)(np.array(delta))))[1]!;
  for (const ch of chunks) for (const a of [ch.at, ch.tgt, ch.w, ch.klAt, ch.klInit]) a?.dispose();
  return { target: init.map((v, i) => v + delta[i]!), init, loss: last, steps, nll: lastNll };
}

/**
 * Logit entries per forward pass under `grad`: rows are split so that rows × positions × vocab stays
 * below this (4M floats: 4 rows of 17 tokens for GPT-2's vocabulary; every row at once for the
 * built-in model). Measured: 22 GPT-2 rows at once exceeded the Wasm backend's 4 GiB; 8 peaked at 3.9 GB RSS.
 */
const LOGITS_PER_PASS = 1 << 22;

interface Chunk {
  tokens: number[][];
  mask: number[][];
  T: number;
  /** Index (within the chunk) of its first KL row, and how many KL rows it holds. */
  klFrom: number;
  nKlHere: number;
  at: Arr;
  tgt: Arr;
  w: Arr;
  klAt?: Arr;
  klInit?: Arr;
}

/** log-softmax of the logits at the KL prompts' subject tokens: [nKl, vocab_padded]. Consumes logits and sel. */
function klLogProbs(logits: Arr, sel: Arr, nRewrite: number): Arr {
  const [B] = logits.shape as [number, number, number];
  const rows = logits.slice([nRewrite, B]);
  // Padding columns are −1e9: times 0 they vanish, times 1 they stay −1e9 (no ∞ · 0).
  const picked = rows.mul(sel).sum(1);
  return picked.ref.sub(nn.logsumexp(picked, -1, { keepdims: true }));
}
