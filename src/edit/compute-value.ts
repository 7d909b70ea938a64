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
 * Nor are a row's positions before the subject's last token recomputed there: δ cannot reach them
 * (attention is causal), so the unedited pass keeps their keys and values in blocks L+1… and each
 * step runs only the row's suffix from the subject's last token on, attending to that cache
 * (startFrom with kv). With ROME's and MEMIT's context templates the suffix is about a third of a
 * row (a generated prefix, the separator and the subject come before it).
 *
 * Logits are computed only where the loss reads them (ForwardOptions.logitsPositions): a rewriting
 * row's target positions, a KL row's subject token. The reference code unembeds every position and
 * gathers; the loss, and so δ, is the same, but the unembedding and its backward pass (most of a
 * pass through the last blocks: vocab × d_model per position) run for 1–3 positions a row, not all.
 */
import { numpy as np, valueAndGrad, nn } from "@jax-js/jax";
import { ConfigError } from "../errors.js";
import { tokenLogprobs } from "../eval/logprobs.js";
import type { Arr, KVCache, Model } from "../model/types.js";
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
  /**
   * Resumed passes: the row's first `pastLen` tokens were cut off (tokens, `at` and the loss
   * positions then count from there), their keys and values in blocks resume.layer… kept here
   * ([kv_heads × pastLen × d_head] per block).
   */
  pastLen?: number;
  past?: { k: Float32Array; v: Float32Array }[];
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
  /** Host bytes for cached prefixes before requests are optimised in groups: PAST_BYTES by default. */
  pastBytes = PAST_BYTES,
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

  // The cached prefixes live on the host for the whole optimisation: past a budget, optimise the
  // requests in groups (each request's result does not depend on the others in its batch).
  if (resume && requests.length > 1) {
    const { nKVHeads, dHead } = model.config;
    const perToken = (nLayers - resume.layer) * 2 * nKVHeads * dHead * 4;
    const bytes = requests.map((_, i) => rows.reduce((t, r) => t + (r.req === i ? r.at * perToken : 0), 0));
    if (bytes.reduce((a, b) => a + b, 0) > pastBytes) {
      const out: ValueResult[] = [];
      for (let i = 0; i < requests.length; ) {
        let j = i + 1;
        for (let sum = bytes[i]!; j < requests.length && sum + bytes[j]! <= pastBytes; j++) sum += bytes[j]!;
        const first = i;
        out.push(...(await computeTargetVectors(model, requests.slice(i, j), hp, templates, hook, observe && ((k, st) => observe(first + k, st)), logitsPerPass, pastBytes)));
        i = j;
      }
      return out;
    }
  }

  // Unedited pass: v₀, the residual stream to resume from, and the KL reference distributions.
  const inits = requests.map(() => new Float32Array(d));
  for (const chunk of chunkRows(rows, model.config.vocabSize, logitsPerPass)) {
    const ch = chunkInputs(model, chunk);
    const points = [...new Set([hook, ...(resume ? [resume.hook] : [])])];
    const { cache, logits, kv } = model.forward(ch.tokens, { attentionMask: ch.mask, cache: points, paddedLogits: true, logitsPositions: ch.positions, returnKV: resume !== undefined });
    const act = await readF32(cache[hook]!);
    const resid = resume && (resume.hook === hook ? act : await readF32(cache[resume.hook]!)); // readF32 consumes
    const pastKV = kv && (await hostKV(kv, resume!.layer));
    if (ch.klFrom < chunk.length) {
      const lp = await readF32(klLogProbs(logits!, ch.klFrom));
      const V = lp.length / (chunk.length - ch.klFrom);
      chunk.slice(ch.klFrom).forEach((r, k) => (r.klRef = lp.slice(k * V, (k + 1) * V)));
    } else logits!.dispose();
    chunk.forEach((r, b) => {
      const rowAt = (b * ch.T + r.at) * d;
      if (rows[firstRow[r.req]!] === r) inits[r.req] = act.slice(rowAt, rowAt + d);
      if (resid) {
        // From here on the row is its suffix from the subject's last token, with its prefix cached.
        const from = r.at;
        r.resid = resid.slice((b * ch.T + from) * d, (b * ch.T + r.tokens.length) * d);
        r.past = pastKV!.map((l) => ({ k: rowPrefix(l.k, b, ch.T, from), v: rowPrefix(l.v, b, ch.T, from) }));
        r.pastLen = from;
        r.tokens = r.tokens.slice(from);
        r.nll = r.nll.map((t) => ({ ...t, pos: t.pos - from }));
        r.at = 0;
      }
    });
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
    // Rows of like length share a pass (a pass is padded to its longest row; suffix rows run 1–10 tokens).
    const byLength = rows.filter((r) => live.has(r.req)).sort((a, b) => a.tokens.length - b.tokens.length);
    for (const chunk of chunkRows(byLength, model.config.vocabSize, logitsPerPass)) {
      await nextMacrotask(); // util/macrotask.ts: lets V8 release what autodiff kept alive
      const ch = chunkInputs(model, chunk, resume !== undefined);
      const D = new Float32Array(ch.reqs.length * d);
      ch.reqs.forEach((i, c) => D.set(deltas[i]!, c * d));
      const loss = (delta: Arr): [Arr, Arr[]] => {
        const add = np.matmul(ch.sel.ref, delta).reshape([chunk.length, 1, d]).mul(ch.at.ref);
        const opts = { attentionMask: ch.mask, paddedLogits: true, logitsPositions: ch.positions } as const;
        const { logits, cache } = resume
          ? model.forward(ch.tokens, { ...opts, ...(ch.kv ? { kv: ch.kv() } : {}), startFrom: { layer: resume.layer, resid: ch.resid!.ref.add(add) } })
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

/**
 * Host memory for the cached prefixes of one optimisation (computeTargetVectors groups requests
 * beyond it): 1,000 MEMIT requests on factworld-m need ~0.2 GB, on a GPT-2-small shape ~3.6 GB.
 */
const PAST_BYTES = 1 << 30;

/** [batch, kv_heads, T, d_head] per block from `from` on, on the host (consumes the cache). */
async function hostKV(kv: KVCache, from: number): Promise<{ k: HostKV; v: HostKV }[]> {
  const out: { k: HostKV; v: HostKV }[] = [];
  for (const [l, { k, v }] of kv.layers.entries()) {
    if (l < from) {
      k.dispose();
      v.dispose();
      continue;
    }
    const shape = k.shape as [number, number, number, number];
    out.push({ k: { data: await readF32(k), shape }, v: { data: await readF32(v), shape } });
  }
  return out;
}

interface HostKV {
  data: Float32Array;
  shape: [number, number, number, number];
}

/** Row b's positions 0…n−1 of one block's keys or values: [kv_heads × n × d_head]. */
function rowPrefix(a: HostKV, b: number, T: number, n: number): Float32Array {
  const [, H, , hd] = a.shape;
  const out = new Float32Array(H * n * hd);
  for (let h = 0; h < H; h++) out.set(a.data.subarray(((b * H + h) * T) * hd, ((b * H + h) * T + n) * hd), h * n * hd);
  return out;
}

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
  /** The rows' cached prefixes, right-padded and masked (a new cache each call: forward consumes it). */
  kv?: () => KVCache;
  dispose(): void;
}

/** `resumed`: the rows start after the z layer (their resid and, where cut, their cached prefixes go in). */
function chunkInputs(model: Model, chunk: Row[], resumed = false): ChunkInputs {
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
  const past: { k: Arr; v: Arr }[] = [];
  const out: ChunkInputs = {
    tokens, mask, T, reqs, klFrom, positions,
    sel: np.array(sel).reshape([B, reqs.length]),
    at: np.array(at).reshape([B, T, 1]),
    tgt: np.array(tgt, { dtype: np.int32 }).reshape([B, P]),
    w: np.array(w).reshape([B, P]),
    dispose: () => disposeTree([out.sel, out.at, out.tgt, out.w, out.klRef, out.resid, ...past.flatMap((l) => [l.k, l.v])].filter((a) => a !== undefined) as Arr[]),
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
  if (resumed) {
    const resid = new Float32Array(B * T * d);
    chunk.forEach((r, b) => resid.set(r.resid!, b * T * d));
    out.resid = np.array(resid).reshape([B, T, d]);
    const S = Math.max(...chunk.map((r) => r.pastLen ?? 0));
    if (S > 0) {
      const { nKVHeads: H, dHead: hd } = model.config;
      const blocks = chunk[0]!.past!.length;
      for (let l = 0; l < blocks; l++) {
        const k = new Float32Array(B * H * S * hd);
        const v = new Float32Array(B * H * S * hd);
        chunk.forEach((r, b) => {
          const n = r.pastLen!;
          for (let h = 0; h < H; h++) {
            k.set(r.past![l]!.k.subarray(h * n * hd, (h + 1) * n * hd), (b * H + h) * S * hd);
            v.set(r.past![l]!.v.subarray(h * n * hd, (h + 1) * n * hd), (b * H + h) * S * hd);
          }
        });
        past.push({ k: np.array(k).reshape([B, H, S, hd]), v: np.array(v).reshape([B, H, S, hd]) });
      }
      const mask = chunk.map((r) => Array.from({ length: S }, (_, t) => (t < r.pastLen! ? 1 : 0)));
      // The blocks after the z layer only, as startFrom reads them.
      out.kv = () => ({ layers: past.map(({ k, v }) => ({ k: k.ref, v: v.ref })), length: S, mask });
    }
  }
  return out;
}

/** log-softmax of the KL rows' logits at their subject token (their first position): [nKl, vocab_padded]. Consumes logits. */
function klLogProbs(logits: Arr, nRewrite: number): Arr {
  const [B, , V] = logits.shape as [number, number, number];
  const picked = logits.slice([nRewrite, B], [0, 1]).reshape([B - nRewrite, V]);
  return picked.ref.sub(nn.logsumexp(picked, -1, { keepdims: true }));
}
