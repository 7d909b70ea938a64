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
 *
 * Many requests at once (MEMIT's z* for a batch): each request keeps its own δ, Adam state, norm
 * clamp and stopping test, so each result is the one-request optimisation's. The rows of every
 * request still optimising run together and their losses are summed: the sum's gradient with
 * respect to one request's δ is that request's own gradient (rows never attend across rows, and
 * each δ enters only its request's rows), so one backward pass serves them all.
 *
 * Where δ is added at blocks.L.hook_resid_post or blocks.L.hook_mlp_out (both end in the
 * residual stream after block L: resid_post = resid_mid + mlp_out), the unedited residual stream
 * after block L is computed once and each step runs blocks L+1… from it plus δ
 * (ForwardOptions.startFrom): the same function of δ without recomputing the earlier blocks.
 *
 * Logits are computed only where the loss reads them (ForwardOptions.logitsPositions): a rewriting
 * row's target positions, a KL row's subject token. The reference code unembeds every position and
 * gathers; the loss, and so δ, is the same, but the unembedding and its backward pass (most of a
 * pass through the last blocks: vocab × d_model per position) run for 1–3 positions a row, not all.
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
  const [result] = await computeTargetVectors(model, [request], hp, templates, hook, observe && ((_, s) => observe(s)));
  return result!;
}

/** One prompt row of one request: a rewriting prompt + target[:-1], or an essence (KL) prompt. */
interface Row {
  req: number;
  tokens: number[];
  /** The subject's last token: where δ is added, and where a KL row's distribution is read. */
  at: number;
  kl: boolean;
  /** A rewriting row's teacher-forced target tokens: position, id, loss weight. */
  nll: { pos: number; id: number; w: number }[];
  /** The unedited residual stream after the resume layer ([len × d_model]; resumed passes only). */
  resid?: Float32Array;
  /** A KL row's unedited log-probabilities at the subject (padded vocabulary). */
  klRef?: Float32Array;
}

/** The target vectors of several requests, optimised together (see the top of the file); results in request order. */
export async function computeTargetVectors(
  model: Model,
  requests: EditRequest[],
  hp: ValueHparams,
  templates: string[],
  hook: string,
  /** Called after every evaluated step of every request. */
  observe?: (request: number, step: ValueStep) => void,
  /** Logit entries per pass under `grad` (rows × positions × vocabulary): the memory bound, LOGITS_PER_PASS by default. */
  logitsPerPass = LOGITS_PER_PASS,
): Promise<ValueResult[]> {
  const tok = model.tokenizer;
  const { dModel: d, nLayers } = model.config;
  if (hp.vLossLayer !== nLayers - 1) {
    throw new ConfigError("EDIT_HPARAMS", `v_loss_layer ${hp.vLossLayer} is not the model's last layer (${nLayers - 1}); only the final logits are supported`, {
      field: "vLossLayer",
      fix: `set v_loss_layer to ${nLayers - 1}`,
    });
  }
  const rows: Row[] = [];
  const firstRow: number[] = [];
  for (const [req, request] of requests.entries()) {
    // Rewriting prompts: template(prompt)(subject) + target[:-1], predicting target at the end.
    const prompt = request.prompt;
    const target = targetIds(tok, fill(prompt, request.subject), request.targetNew);
    firstRow.push(rows.length);
    for (const c of templates) {
      const t = fill(c, prompt);
      const { index } = subjectLastIndex(tok, t, request.subject);
      const ids = encodePrompt(tok, fill(t, request.subject));
      const nll = target.map((id, j) => ({ pos: ids.length - 1 + j, id, w: 1 / (target.length * templates.length) }));
      rows.push({ req, tokens: [...ids, ...target.slice(0, -1)], at: index, kl: false, nll });
    }
    for (const k of hp.klPrompts) {
      const { ids, index } = subjectLastIndex(tok, k, request.subject);
      rows.push({ req, tokens: ids, at: index, kl: true, nll: [] });
    }
  }
  const point = /^blocks\.(\d+)\.hook_(?:resid_post|mlp_out)$/.exec(hook);
  const resume = point ? { layer: Number(point[1]) + 1, hook: `blocks.${point[1]}.hook_resid_post` } : undefined;
  const nKl = hp.klPrompts.length;

  // Unedited pass: v₀, the residual stream to resume from, and the KL reference distributions.
  const inits = requests.map(() => new Float32Array(d));
  for (const chunk of chunkRows(rows, model.config.vocabSize, logitsPerPass)) {
    const ch = chunkInputs(model, chunk);
    const points = [...new Set([hook, ...(resume ? [resume.hook] : [])])];
    const { cache, logits } = model.forward(ch.tokens, { attentionMask: ch.mask, cache: points, paddedLogits: true, logitsPositions: ch.positions });
    const act = await readF32(cache[hook]!);
    const resid = resume && (resume.hook === hook ? act : await readF32(cache[resume.hook]!)); // readF32 consumes
    chunk.forEach((r, b) => {
      const rowAt = (b * ch.T + r.at) * d;
      if (rows[firstRow[r.req]!] === r) inits[r.req] = act.slice(rowAt, rowAt + d);
      if (resid) r.resid = resid.slice(b * ch.T * d, (b * ch.T + r.tokens.length) * d);
    });
    if (ch.klFrom < chunk.length) {
      const lp = await readF32(klLogProbs(logits!, ch.klFrom));
      const V = lp.length / (chunk.length - ch.klFrom);
      chunk.slice(ch.klFrom).forEach((r, k) => (r.klRef = lp.slice(k * V, (k + 1) * V)));
    } else logits!.dispose();
    ch.dispose();
  }

  // δ per request, optimised by Adam on the host (d_model numbers each).
  const norms = inits.map((v) => Math.hypot(...v));
  const deltas = requests.map(() => new Float32Array(d));

  /** Loss and gradient of every request in `active` at its δ, and the NLL part (host, summed over chunks). */
  const evaluate = async (active: number[]) => {
    const value = new Map(active.map((i) => [i, 0]));
    const nll = new Map(active.map((i) => [i, 0]));
    const grad = new Map(active.map((i) => [i, new Float32Array(d)]));
    const live = new Set(active);
    for (const chunk of chunkRows(rows.filter((r) => live.has(r.req)), model.config.vocabSize, logitsPerPass)) {
      await nextMacrotask(); // util/macrotask.ts: lets V8 release what autodiff kept alive
      const ch = chunkInputs(model, chunk, resume !== undefined);
      const D = new Float32Array(ch.reqs.length * d);
      ch.reqs.forEach((i, c) => D.set(deltas[i]!, c * d));
      const loss = (delta: Arr): [Arr, Arr[]] => {
        const add = np.matmul(ch.sel.ref, delta).reshape([chunk.length, 1, d]).mul(ch.at.ref);
        const opts = { attentionMask: ch.mask, paddedLogits: true, logitsPositions: ch.positions } as const;
        const { logits, cache } = resume
          ? model.forward(ch.tokens, { ...opts, startFrom: { layer: resume.layer, resid: ch.resid!.ref.add(add) } })
          : model.forward(ch.tokens, { ...opts, hooks: { [hook]: (x) => x.add(add) } });
        disposeTree(cache);
        const { logprobs, greedy } = tokenLogprobs(logits!.ref, ch.tgt.ref);
        greedy.dispose();
        const rowNll = logprobs.mul(ch.w.ref).sum(1).mul(-1);
        if (ch.klFrom === chunk.length || hp.klFactor === 0) {
          logits!.dispose();
          return [rowNll.ref.sum(), [rowNll]];
        }
        // KL(P_δ ‖ P_0) per prompt, mean over prompts (torch kl_div(init, cur, log_target, batchmean)).
        const lp = klLogProbs(logits!, ch.klFrom);
        const rowKl = np.exp(lp.ref).mul(lp.sub(ch.klRef!.ref)).sum(1).mul(hp.klFactor / nKl);
        return [rowNll.ref.sum().add(rowKl.ref.sum()), [rowNll, rowKl]];
      };
      const [[total, aux], g] = valueAndGrad(loss, { hasAux: true })(np.array(D).reshape([ch.reqs.length, d])) as unknown as [[Arr, Arr[]], Arr];
      total.dispose();
      const rowNll = await readF32(aux[0]!);
      const rowKl = aux[1] ? await readF32(aux[1]) : undefined;
      const gd = await readF32(g);
      chunk.forEach((r, b) => {
        const kl = rowKl && b >= ch.klFrom ? rowKl[b - ch.klFrom]! : 0;
        value.set(r.req, value.get(r.req)! + rowNll[b]! + kl);
        nll.set(r.req, nll.get(r.req)! + rowNll[b]!);
      });
      ch.reqs.forEach((i, c) => {
        const gi = grad.get(i)!;
        for (let j = 0; j < d; j++) gi[j]! += gd[c * d + j]!;
      });
      ch.dispose();
    }
    // v_weight_decay · ‖δ‖ / ‖v₀‖², with a tiny floor so the gradient at δ = 0 is 0 (as torch.norm's), not NaN.
    for (const i of active) {
      const c = hp.vWeightDecay / (norms[i]! * norms[i]!);
      const n = Math.sqrt(deltas[i]!.reduce((s, x) => s + x * x, 0) + 1e-12);
      value.set(i, value.get(i)! + c * n);
      const gi = grad.get(i)!;
      for (let j = 0; j < d; j++) gi[j]! += (c * deltas[i]![j]!) / n;
    }
    return { value, nll, grad };
  };

  const adams = requests.map(() => new Adam(d, hp.vLr));
  const results = inits.map((init): ValueResult => ({ target: init, init, loss: NaN, steps: 0, nll: NaN }));
  let active = requests.map((_, i) => i);
  for (let it = 0; it < hp.vNumGradSteps && active.length > 0; it++) {
    const { value, nll, grad } = await evaluate(active);
    const still: number[] = [];
    for (const i of active) {
      const delta = deltas[i]!;
      const maxNorm = hp.clampNormFactor * norms[i]!;
      const r = results[i]!;
      r.loss = value.get(i)!;
      r.nll = nll.get(i)!;
      r.steps = it + 1;
      observe?.(i, { step: it, loss: r.loss, clampRatio: Math.hypot(...delta) / maxNorm });
      if (r.loss < 5e-2 || it === hp.vNumGradSteps - 1) continue;
      adams[i]!.step(delta, grad.get(i)!);
      const n = Math.hypot(...delta);
      if (n > maxNorm) for (let j = 0; j < d; j++) delta[j]! *= maxNorm / n;
      still.push(i);
    }
    active = still;
  }
  // δ is not changed after its last evaluation, so the loss and NLL above are at the final δ.
  return results.map((r, i) => ({ ...r, target: r.init.map((v, j) => v + deltas[i]![j]!) }));
}

/**
 * Rows per forward pass under `grad`: rows are split so that rows × positions × vocab stays below
 * this (4M: 4 rows of 17 tokens for GPT-2's vocabulary; every row at once for the built-in model).
 * Measured when every position got logits: 22 GPT-2 rows at once exceeded the Wasm backend's 4 GiB;
 * 8 peaked at 3.9 GB RSS. With logits at the loss's positions only, memory is still the bound and
 * it is the activations the backward pass keeps, not the logits: on the GPT-2-small shape, a pass
 * over the last 7 blocks of 16 rows × 15 tokens peaked at 2.3 GB RSS with 3 logit positions a row
 * and 2.4 GB with all 15 (~5 MB per token), and z* with 4× this bound exceeded 4 GiB. So the bound
 * stays as it is, counting every position.
 */
const LOGITS_PER_PASS = 1 << 22;

/** Consecutive rows in passes of at most `budget` logit entries, each pass's rewriting rows before its KL rows. */
function chunkRows(rows: Row[], vocab: number, budget: number): Row[][] {
  const chunks: Row[][] = [];
  let current: Row[] = [];
  let T = 0;
  for (const r of rows) {
    if (current.length > 0 && (current.length + 1) * Math.max(T, r.tokens.length) * vocab > budget) {
      chunks.push(current);
      current = [];
      T = 0;
    }
    current.push(r);
    T = Math.max(T, r.tokens.length);
  }
  if (current.length > 0) chunks.push(current);
  return chunks.map((c) => [...c.filter((r) => !r.kl), ...c.filter((r) => r.kl)]);
}

/** A pass's device inputs (right-padded rows). */
interface ChunkInputs {
  tokens: number[][];
  mask: number[][];
  T: number;
  /** The requests with rows here, and [rows, requests] one-hot: which δ each row gets. */
  reqs: number[];
  sel: Arr;
  /** [rows, T, 1]: 1 at each row's subject token. */
  at: Arr;
  /**
   * The positions each row's loss reads, the only ones that get logits: a rewriting row's target
   * positions, a KL row's subject token (first). Rows with fewer repeat their first (weight 0).
   */
  positions: number[][];
  /** [rows, P]: target ids and loss weights at those positions. */
  tgt: Arr;
  w: Arr;
  /** Index of the first KL row (rows.length if none); the KL rows' unedited log-probabilities. */
  klFrom: number;
  klRef?: Arr;
  /** [rows, T, d_model]: the unedited residual stream to resume from. */
  resid?: Arr;
  dispose(): void;
}

function chunkInputs(model: Model, chunk: Row[], withResid = false): ChunkInputs {
  const { tokens, mask } = padRight(chunk.map((r) => r.tokens), padIdOf(model.tokenizer));
  const B = chunk.length;
  const T = tokens[0]!.length;
  const d = model.config.dModel;
  const reqs = [...new Set(chunk.map((r) => r.req))];
  const sel = new Float32Array(B * reqs.length);
  const at = new Float32Array(B * T);
  const positions = chunk.map((r) => (r.kl ? [r.at] : r.nll.map((t) => t.pos)));
  const P = Math.max(...positions.map((p) => p.length));
  for (const p of positions) while (p.length < P) p.push(p[0]!);
  const tgt = new Int32Array(B * P);
  const w = new Float32Array(B * P);
  chunk.forEach((r, b) => {
    sel[b * reqs.length + reqs.indexOf(r.req)] = 1;
    at[b * T + r.at] = 1;
    r.nll.forEach(({ id, w: weight }, p) => {
      tgt[b * P + p] = id;
      w[b * P + p] = weight;
    });
  });
  const klFrom = chunk.findIndex((r) => r.kl) < 0 ? B : chunk.findIndex((r) => r.kl);
  const out: ChunkInputs = {
    tokens, mask, T, reqs, klFrom, positions,
    sel: np.array(sel).reshape([B, reqs.length]),
    at: np.array(at).reshape([B, T, 1]),
    tgt: np.array(tgt, { dtype: np.int32 }).reshape([B, P]),
    w: np.array(w).reshape([B, P]),
    dispose: () => disposeTree([out.sel, out.at, out.tgt, out.w, out.klRef, out.resid].filter((a) => a !== undefined) as Arr[]),
  };
  if (klFrom < B) {
    const kl = chunk.slice(klFrom);
    if (kl.every((r) => r.klRef)) {
      const V = kl[0]!.klRef!.length;
      const ref = new Float32Array(kl.length * V);
      kl.forEach((r, k) => ref.set(r.klRef!, k * V));
      out.klRef = np.array(ref).reshape([kl.length, V]);
    }
  }
  if (withResid) {
    const resid = new Float32Array(B * T * d);
    chunk.forEach((r, b) => resid.set(r.resid!, b * T * d));
    out.resid = np.array(resid).reshape([B, T, d]);
  }
  return out;
}

/** log-softmax of the KL rows' logits at their subject token (their first position): [nKl, vocab_padded]. Consumes logits. */
function klLogProbs(logits: Arr, nRewrite: number): Arr {
  const [B, , V] = logits.shape as [number, number, number];
  const picked = logits.slice([nRewrite, B], [0, 1]).reshape([B - nRewrite, V]);
  return picked.ref.sub(nn.logsumexp(picked, -1, { keepdims: true }));
}
