/**
 * WISE (Wang et al. 2024, "WISE: Rethinking the Knowledge Memory for Lifelong Model Editing of
 * Large Language Models", NeurIPS 2024), following EasyEdit easyeditor/models/wise/WISE.py,
 * wise_main.py and utils.py. Edits go into a side memory — a copy of one layer's mlp.W_out — and a
 * router (model/modules/wise.ts) sends an input to the side memory only when the side memory's
 * output differs enough from the main memory's (activation score above a threshold).
 *
 * One edit call (WISE.edit; the stream calls it once per edit):
 * - Rows: every context template × request, "template(prompt) target" teacher-forced, plus one
 *   irrelevant row per request (utils.tokenize: full_prompt += loc_prompts).
 * - Gradient mask: at the start of each shard (editing_total_cnt % save_freq == 0) a fresh random
 *   mask M ~ Bernoulli(mask_ratio) per entry (generate_activation_mask): the shard's subspace.
 * - n_iter steps of SGD(lr = edit_lr, weight_decay = 1e-5) on the shard W' (WISE.py: torch SGD; the
 *   gradient is masked before the step, weight decay is not): W' ← W' − lr·(M⊙∇L + 1e-5·W'),
 *   then clamped to W₀ ± norm_constraint elementwise (_norm_constraint).
 * - L = L_edit + L_act.
 *   L_edit (objective only_label): per row the mean NLL of the target tokens, averaged over rows.
 *   (WISE.py _cal_ft_loss divides each row's sum by its label-mask count, which also counts one
 *   prompt position and the padding — an off-by-one of the reference we do not copy.)
 *   L_act (_cal_activation_loss, per request, with s_edit the template rows' scores [n_templates]
 *   and s_irr the irrelevant row's score): with ⟨x⟩₊ = the mean of the positive entries of x
 *   (0 when none — the reference's torch.mean(x[x > 0])),
 *     ⟨s_irr − s_edit + γ⟩₊ + ⟨s_irr − α⟩₊ + ⟨β − s_edit⟩₊,   averaged over requests.
 *   Scores are model/modules/wise.ts's ‖act(x·W') − act(x·W₀)‖ averaged over a row's tokens: the
 *   template and prompt tokens for edit rows (the router's span at inference; the reference
 *   averages over the target tokens too), every token of the irrelevant row.
 * - Early stop (EarlyStopMeter): before step i, stop when |L_{i−1} − L_{i−2}| ≤ 1e-4 and
 *   L_{i−1} ≤ 0.02. The editing activation (save_editing_activation: the mean s_edit of the
 *   iteration that stops, or of the last iteration before its step) updates min_act.
 * - Then editing_total_cnt += 1; every save_freq edits the shard is saved to the memory list and a
 *   new shard starts from W₀ (save_weight); every merge_freq edits the saved shards are merged by
 *   TIES (merge_weight, edit/wise-merge.ts):
 *   - WISE-Merge (retrieve false): into one side memory W_s: the first time TIES(W₀; shards,
 *     weights/n each), afterwards TIES(W₀; shards with 0.4/n each, W_s with 0.6).
 *   - WISE-Retrieve: the last merge_freq/save_freq memories into one, whose min_act is theirs.
 * WISE-Merge at inference: WISE.__call__ first saves a non-empty current shard and merges pending
 * shards into W_s once editing_total_cnt ≥ save_freq. The patch returned here is that finalised
 * view (computed on a copy: the editor's own state stays as the reference's between edits).
 *
 * act_ratio: the router's threshold is min_act × act_ratio (WISE.py forward:
 * `threshold = self.editing_mean_act.min_act() * self.config.act_ratio`), min_act the smallest
 * editing activation recorded. It acts only at inference: a larger act_ratio demands a higher
 * score before the side memory answers (fewer inputs routed: locality up, reliability down once the
 * threshold passes the edit prompts' own scores); training does not depend on it. This is
 * EasyEdit's definition; the issue's "REPAIR-style pruning of side-memory activations" has no
 * definition we could find, so none is mixed in.
 *
 * Irrelevant rows: EasyEdit feeds loc_prompts, the loc question + answer of records from the train
 * split (run_wise_editing.py: zsre_mend_train.json), one per request in turn. Given in
 * EditContext.unrelated (edit/experiment.ts unrelatedPool drops any the evaluated cases probe),
 * they are used the same way; without them, text the unedited model generates (context-template
 * style, seeded) stands in. Context templates: EasyEdit's length_params ([[5,5],[10,5]]; default
 * here [[5,2],[10,2]]) from the seeds "I", "You", "Because", "Yes", "Q: " (greedy there; top-k
 * sampling here, edit/context-templates.ts).
 */
import { lax, numpy as np, valueAndGrad } from "@jax-js/jax";
import { lossPositions, tokenLogprobs } from "../eval/logprobs.js";
import { HandOver } from "../model/attached.js";
import { modelHash } from "../model/hash.js";
import { type WiseMemory, type WiseModule, wiseActivation, wiseSite, wiseTokenDistance } from "../model/modules/wise.js";
import type { ModulePatch, Patch } from "../model/patch.js";
import type { Arr, Model, ModelConfig } from "../model/types.js";
import { readF32 } from "../tensor/own.js";
import { deriveSeed, makeRng } from "../util/rng.js";
import { EditCaches } from "./caches.js";
import { contextTemplates } from "./context-templates.js";
import { encodePrompt, fill, padIdOf, padRight, targetIds } from "./tokens.js";
import { tiesMerge } from "./wise-merge.js";
import type { EditContext, Editor, EditorDefinition, EditRequest } from "./types.js";

export interface WiseHparams {
  /** [l]: the layer whose mlp.W_out gets side memories (EasyEdit inner_params). */
  layers: number[];
  maskRatio: number;
  editLr: number;
  nIter: number;
  normConstraint: number | false;
  /** act_margin [α, β, γ]. */
  actMarginAlpha: number;
  actMarginBeta: number;
  actMarginGamma: number;
  actRatio: number;
  saveFreq: number;
  mergeFreq: number;
  mergeAlg: string;
  densities: number;
  weights: number;
  retrieve: boolean;
  replay: boolean;
  objectiveOptimization: string;
  /** Context templates: [length, count] pairs (EasyEdit get_context_templates length_params). */
  contextTemplateLengthParams: [number, number][];
  /** How many irrelevant texts to generate (used one per request, in turn). */
  irrelevantCount: number;
}

/**
 * Defaults: EasyEdit hparams/WISE/llama-7b.yaml — mask_ratio 0.2, edit_lr 1.0, norm_constraint
 * 1.0, act_margin [5, 20, 10], act_ratio 0.88, save_freq 500, merge_freq 1000, ties, densities
 * 0.53, weights 1.0, retrieve false (the yaml's WISE-Merge alternative) — except:
 * - layer: ≈ 0.85 depth like llama-7b's 27 of 32 (the last layer of the 4-layer fact-world model);
 * - n_iter 30 (yaml 70) and context templates [[5,2],[10,2]] (EasyEdit [[5,5],[10,5]]): what a
 *   100-edit stream on models/factworld affords on this machine (≈ 4 s per edit, 2 shared cores).
 * Measured on models/factworld, zsre.json, first 100 distinct-subject cases, sequential, after
 * all: bench/README.md "Lifelong editing" has the numbers.
 */
export function wiseDefaults(config: ModelConfig): WiseHparams {
  const layer = Math.min(config.nLayers - 1, Math.round(0.85 * config.nLayers));
  return {
    layers: [layer],
    maskRatio: 0.2,
    editLr: 1.0,
    nIter: 30,
    normConstraint: 1.0,
    actMarginAlpha: 5.0,
    actMarginBeta: 20.0,
    actMarginGamma: 10.0,
    actRatio: 0.88,
    saveFreq: 500,
    mergeFreq: 1000,
    mergeAlg: "ties",
    densities: 0.53,
    weights: 1.0,
    retrieve: false,
    replay: false,
    objectiveOptimization: "only_label",
    contextTemplateLengthParams: [[5, 2], [10, 2]],
    irrelevantCount: 20,
  };
}

const TEMPLATE_SEEDS = ["I", "You", "Because", "Yes", "Q:"];

function checkHparams(hp: WiseHparams): number {
  const bad = (field: string, fix: string) => new RangeError(`WISE hparams: ${field} ${fix}`);
  if (hp.layers.length !== 1) throw bad("layers", `must name exactly one layer ([l]); got [${hp.layers}]`);
  if (!(hp.maskRatio > 0 && hp.maskRatio <= 1)) throw bad("mask_ratio", `must be in (0, 1]; got ${hp.maskRatio}`);
  if (!(hp.editLr > 0)) throw bad("edit_lr", `must be > 0; got ${hp.editLr}`);
  if (!Number.isInteger(hp.nIter) || hp.nIter < 1) throw bad("n_iter", `must be an integer ≥ 1; got ${hp.nIter}`);
  if (!Number.isInteger(hp.saveFreq) || hp.saveFreq < 1) throw bad("save_freq", `must be an integer ≥ 1; got ${hp.saveFreq}`);
  if (!Number.isInteger(hp.mergeFreq) || hp.mergeFreq % hp.saveFreq !== 0) throw bad("merge_freq", `must be a multiple of save_freq (${hp.saveFreq}); got ${hp.mergeFreq}`);
  if (hp.mergeAlg !== "ties") throw bad("merge_alg", `"${hp.mergeAlg}" is not implemented: use "ties"`);
  if (!(hp.densities > 0 && hp.densities <= 1)) throw bad("densities", `must be in (0, 1]; got ${hp.densities}`);
  if (hp.replay) throw bad("replay", "true (Appendix B.3 replay) is not implemented: set replay: false");
  if (hp.objectiveOptimization !== "only_label") throw bad("objective_optimization", `"${hp.objectiveOptimization}" is not implemented: use "only_label"`);
  if (!(hp.actRatio >= 0)) throw bad("act_ratio", `must be ≥ 0; got ${hp.actRatio}`);
  if (hp.normConstraint !== false && !(hp.normConstraint > 0)) throw bad("norm_constraint", `must be > 0 or false; got ${hp.normConstraint}`);
  if (!Number.isInteger(hp.irrelevantCount) || hp.irrelevantCount < 1) throw bad("irrelevant_count", `must be an integer ≥ 1; got ${hp.irrelevantCount}`);
  return hp.layers[0]!;
}

/**
 * ⟨x⟩₊ over the last axis: the mean of the positive entries, 0 when none (torch.mean(x[x > 0])).
 * The count n is piecewise constant (no gradient); 1/n is taken as exp(−log n) under stopGradient
 * because jax-js's `div` by a traced array leaks buffers under grad (measured: 2 per call).
 */
export function meanPositive(x: Arr): Arr {
  const pos = np.greater(x.ref, 0).astype(np.float32);
  const n = np.maximum(pos.ref.sum(-1), 1);
  return x.mul(pos).sum(-1).mul(lax.stopGradient(np.exp(np.log(n).mul(-1))));
}

/**
 * L_act for one batch: sEdit [n_req, n_templates], sIrr [n_req] → scalar (consumed), the mean over
 * requests of ⟨s_irr − s_edit + γ⟩₊ + ⟨s_irr − α⟩₊ + ⟨β − s_edit⟩₊ (WISE.py _cal_activation_loss).
 */
export function wiseMarginLoss(sEdit: Arr, sIrr: Arr, alpha: number, beta: number, gamma: number): Arr {
  const nReq = sIrr.shape[0]!;
  const irr = sIrr.reshape([nReq, 1]);
  const l1 = meanPositive(irr.ref.sub(sEdit.ref).add(gamma));
  const l2 = meanPositive(irr.sub(alpha));
  const l3 = meanPositive(sEdit.mul(-1).add(beta));
  return l1.add(l2).add(l3).mean();
}

/** The shard's gradient mask: 1 with probability mask_ratio per entry (generate_activation_mask). */
export function wiseMask(n: number, maskRatio: number, seed: number): Float32Array {
  const rng = makeRng(seed);
  return Float32Array.from({ length: n }, () => (rng() < maskRatio ? 1 : 0));
}

interface Rows {
  tokens: number[][];
  mask: number[][];
  /** [R·T] target ids and their loss weights (1/(|target|·n_edit_rows)). */
  targets: Int32Array;
  ftWeights: Float32Array;
  /** [R·T] 1/|span| on each row's score span. */
  span: Float32Array;
  nEditRows: number;
  nTemplates: number;
}

function buildRows(model: Model, requests: EditRequest[], templates: string[], irrelevant: string[]): Rows {
  const tok = model.tokenizer;
  const rows: number[][] = [];
  const spans: number[] = [];
  const scored: { row: number; pos: number; id: number; w: number }[] = [];
  const nEdit = requests.length * templates.length;
  for (const r of requests) {
    for (const t of templates) {
      const text = fill(t, fill(r.prompt, r.subject));
      const prompt = encodePrompt(tok, text);
      const target = targetIds(tok, text, r.targetNew);
      const row = rows.length;
      rows.push([...prompt, ...target.slice(0, -1)]);
      spans.push(prompt.length);
      target.forEach((id, j) => scored.push({ row, pos: prompt.length - 1 + j, id, w: 1 / (target.length * nEdit) }));
    }
  }
  for (const text of irrelevant) {
    const ids = encodePrompt(tok, text);
    rows.push(ids);
    spans.push(ids.length);
  }
  const { tokens, mask } = padRight(rows, padIdOf(tok));
  const T = tokens[0]!.length;
  const targets = new Int32Array(rows.length * T);
  const ftWeights = new Float32Array(rows.length * T);
  for (const s of scored) {
    targets[s.row * T + s.pos] = s.id;
    ftWeights[s.row * T + s.pos] = s.w;
  }
  const span = new Float32Array(rows.length * T);
  spans.forEach((n, r) => span.fill(1 / n, r * T, r * T + n));
  return { tokens, mask, targets, ftWeights, span, nEditRows: nEdit, nTemplates: templates.length };
}

/** The editor's whole memory, host-side (what exportState/importState carry). */
interface WiseMemoryState {
  layer: number;
  /** Current shard W' (EasyEdit new_weight). */
  shard: Float32Array;
  /** WISE-Merge's merged side memory (EasyEdit adapter.layer.weight once it differs from W₀). */
  merged: Float32Array | null;
  /** Saved shards awaiting a merge (Merge) / the memories (Retrieve). */
  saved: Float32Array[];
  savedMinAct: number[];
  /** editing_mean_act.min_act() (1e9 before any edit, as EditingMeanAct). */
  minAct: number;
  totalCnt: number;
  mergeCnt: number;
}

const NO_ACT = 1e9;

function b64(a: Float32Array): string {
  const u = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let s = "";
  for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
  return btoa(s);
}

function unb64(s: string): Float32Array {
  const bin = atob(s);
  const u = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
  return new Float32Array(u.buffer);
}

export class WiseEditor implements Editor<WiseHparams> {
  readonly name = "wise";
  readonly sequential = "memory" as const;
  private mem: WiseMemoryState | null = null;
  private W0: Float32Array | null = null;
  private texts: { key: string; templates: string[]; irrelevant: string[] } | null = null;

  defaults(config: ModelConfig): WiseHparams {
    return wiseDefaults(config);
  }

  reset(): void {
    this.mem = null;
    this.W0 = null;
  }

  exportState(): unknown {
    const m = this.mem;
    if (!m) return null;
    return { ...m, shard: b64(m.shard), merged: m.merged ? b64(m.merged) : null, saved: m.saved.map(b64) };
  }

  importState(state: unknown, _memory?: Patch): void {
    if (state === null || state === undefined) return this.reset();
    const s = state as Record<string, unknown>;
    if (typeof s.shard !== "string" || !Array.isArray(s.saved) || typeof s.totalCnt !== "number") throw new RangeError("WISE importState: not a state from WiseEditor.exportState");
    this.mem = {
      layer: s.layer as number,
      shard: unb64(s.shard),
      merged: typeof s.merged === "string" ? unb64(s.merged) : null,
      saved: (s.saved as string[]).map(unb64),
      savedMinAct: s.savedMinAct as number[],
      minAct: s.minAct as number,
      totalCnt: s.totalCnt,
      mergeCnt: s.mergeCnt as number,
    };
    this.W0 = null;
  }

  async edit(model: Model, requests: EditRequest[], hp: WiseHparams, context: EditContext = {}): Promise<Patch> {
    const layer = checkHparams(hp);
    const site = wiseSite(model, layer);
    const shape = model.params[site.weight]!.shape as number[];
    const W0 = (this.W0 ??= await readF32(model.params[site.weight]!.ref));
    if (this.mem && (this.mem.layer !== layer || this.mem.shard.length !== W0.length)) throw new RangeError(`WISE: this editor's memory is for layer ${this.mem.layer}; call reset() before editing layer ${layer}`);
    const m = (this.mem ??= { layer, shard: W0.slice(), merged: null, saved: [], savedMinAct: [], minAct: NO_ACT, totalCnt: 0, mergeCnt: 0 });
    const seed = context.seed ?? 0;
    const texts = await this.textsFor(model, hp, seed, context.caches);
    // EasyEdit's loc_prompts (loc + ' ' + loc_ans from the train split) when the caller gives them.
    const pool = context.unrelated?.length ? context.unrelated.map((u) => `${u.prompt} ${u.target}`) : texts.irrelevant;
    const irrelevant = requests.map((_, i) => pool[(m.totalCnt + i) % pool.length]!);
    const rows = buildRows(model, requests, texts.templates, irrelevant);

    // A new shard's subspace (WISE.edit: editing_total_cnt % save_freq == 0 → a fresh mask).
    const shardIndex = Math.floor(m.totalCnt / hp.saveFreq);
    const mask = wiseMask(W0.length, hp.maskRatio, deriveSeed(seed, "wise-mask", shardIndex));

    const minAct = await this.train(model, site, shape, m.shard, W0, mask, rows, requests.length, hp, context);
    m.minAct = Math.min(m.minAct, minAct);
    this.afterEdit(m, W0, hp);
    return this.patch(model, m, W0, shape, hp, requests, context);
  }

  private async textsFor(model: Model, hp: WiseHparams, seed: number, caches = new EditCaches()): Promise<{ key: string; templates: string[]; irrelevant: string[] }> {
    const key = JSON.stringify([hp.contextTemplateLengthParams, hp.irrelevantCount, seed]);
    if (this.texts?.key === key) return this.texts;
    const base = { contextTemplateSeeds: TEMPLATE_SEEDS, contextTemplateSeparator: " " };
    const templates = (await contextTemplates(model, { ...base, contextTemplateLengthParams: hp.contextTemplateLengthParams }, seed, caches)).flat();
    // Unrelated text from the unedited model (another seed and length than the templates).
    const gen = await contextTemplates(model, { ...base, contextTemplateLengthParams: [[12, hp.irrelevantCount]] }, deriveSeed(seed, "wise-irrelevant"), caches);
    const irrelevant = gen.slice(1).flat().map((t) => fill(t, "").trim()).filter((t) => t.length > 0);
    if (irrelevant.length === 0) throw new RangeError("WISE: the model generated no irrelevant text to train the router against");
    return (this.texts = { key, templates, irrelevant });
  }

  /** The optimisation of one edit call on `W` (in place); returns the editing activation. */
  private async train(model: Model, site: ReturnType<typeof wiseSite>, shape: number[], W: Float32Array, W0: Float32Array, mask: Float32Array, rows: Rows, nReq: number, hp: WiseHparams, context: EditContext): Promise<number> {
    const act = wiseActivation(model.config.act);
    const R = rows.tokens.length;
    const T = rows.tokens[0]!.length;
    const bias = model.params[site.bias];
    const nT = rows.nTemplates;
    // Row-selection matrices: edit rows → [n_req, n_templates], irrelevant rows → [n_req].
    const selEdit = new Float32Array(R * nReq * nT);
    for (let r = 0; r < rows.nEditRows; r++) selEdit[r * nReq * nT + r] = 1;
    const selIrr = new Float32Array(R * nReq);
    for (let b = 0; b < nReq; b++) selIrr[(rows.nEditRows + b) * nReq + b] = 1;
    // Logits only where the fine-tuning loss reads them (the activation score reads every position, from the hook).
    const scored = lossPositions(rows.targets, rows.ftWeights, R, T);
    const loss = (Wn: Arr): [Arr, [Arr, Arr]] => {
      const pass = new HandOver();
      let dist: Arr | null = null;
      const { logits } = model.forward(rows.tokens, {
        attentionMask: rows.mask,
        paddedLogits: true,
        logitsPositions: scored.positions,
        hooks: {
          [site.input]: (a) => (pass.put(site.input, a, 1), a),
          [site.output]: (y) => {
            const s0 = np.matmul(pass.take(site.input), Wn);
            const s = bias ? s0.add(bias.ref) : s0;
            dist = wiseTokenDistance(act, s.ref, y);
            return s;
          },
        },
      });
      const { logprobs, greedy } = tokenLogprobs(logits!, np.array(scored.targets, { dtype: np.int32 }).reshape([R, scored.P]));
      greedy.dispose();
      const ft = logprobs.mul(np.array(scored.weights).reshape([R, scored.P])).sum().mul(-1);
      const score = (dist as unknown as Arr).mul(np.array(rows.span).reshape([R, T])).sum(-1); // [R]
      const sEdit = np.matmul(score.ref, np.array(selEdit).reshape([R, nReq * nT])).reshape([nReq, nT]);
      const sIrr = np.matmul(score, np.array(selIrr).reshape([R, nReq]));
      const la = wiseMarginLoss(sEdit.ref, sIrr, hp.actMarginAlpha, hp.actMarginBeta, hp.actMarginGamma);
      return [ft.ref.add(la), [sEdit.mean(), ft]];
    };
    const vg = valueAndGrad(loss, { hasAux: true }) as unknown as (w: Arr) => [[Arr, [Arr, Arr]], Arr];
    let pre = 0;
    let val = 1e9;
    let editingAct = NO_ACT;
    for (let i = 0; i < hp.nIter; i++) {
      const [[value, [aux, ftValue]], grad] = vg(np.array(W).reshape(shape));
      const l = (await readF32(value))[0]!;
      const a = (await readF32(aux))[0]!;
      const lEdit = (await readF32(ftValue))[0]!;
      context.onProgress?.(`wise loss ${l.toFixed(3)} (edit ${lEdit.toFixed(3)} + act ${(l - lEdit).toFixed(3)})`, i, hp.nIter);
      const g = await readF32(grad);
      // EarlyStopMeter.stop() looks at the losses recorded so far (before this iteration's).
      if (Math.abs(val - pre) <= 1e-4 && val <= 0.02) {
        editingAct = a;
        break;
      }
      if (i === hp.nIter - 1) editingAct = a;
      for (let j = 0; j < W.length; j++) W[j] = W[j]! - hp.editLr * (g[j]! * mask[j]! + 1e-5 * W[j]!);
      if (hp.normConstraint !== false) {
        const eps = hp.normConstraint;
        for (let j = 0; j < W.length; j++) W[j] = Math.min(W0[j]! + eps, Math.max(W0[j]! - eps, W[j]!));
      }
      pre = val;
      val = l;
    }
    context.onProgress?.("wise", hp.nIter, hp.nIter);
    return editingAct;
  }

  /** Counters, save_weight and merge_weight after an edit (WISE.edit's tail). */
  private afterEdit(m: WiseMemoryState, W0: Float32Array, hp: WiseHparams): void {
    m.totalCnt += 1;
    if (m.totalCnt % hp.saveFreq === 0) {
      m.saved.push(m.shard);
      m.shard = W0.slice();
      if (hp.retrieve) {
        m.savedMinAct.push(m.minAct);
        m.minAct = NO_ACT;
      }
    }
    if (m.totalCnt % hp.mergeFreq === 0) this.merge(m, W0, hp);
  }

  /** merge_weight (WISE.py WISEAdapter.merge_weight). */
  private merge(m: WiseMemoryState, W0: Float32Array, hp: WiseHparams): void {
    if (!hp.retrieve) {
      if (m.saved.length === 0) return;
      const n = m.saved.length;
      m.merged = m.merged === null
        ? tiesMerge(W0, m.saved, m.saved.map(() => hp.weights / n), hp.densities)
        : tiesMerge(W0, [...m.saved, m.merged], [...m.saved.map(() => 0.4 / n), 0.6], hp.densities);
      m.saved = [];
      m.shard = W0.slice();
      return;
    }
    const k = hp.mergeFreq / hp.saveFreq;
    if (m.saved.length < k) throw new RangeError(`WISE retrieve: ${m.saved.length} memories to merge, merge_freq/save_freq = ${k}`);
    const group = m.saved.splice(m.saved.length - k, k);
    const acts = m.savedMinAct.splice(m.savedMinAct.length - k, k);
    m.saved.push(tiesMerge(W0, group, group.map(() => hp.weights / k), hp.densities));
    m.savedMinAct.push(Math.min(NO_ACT, ...acts));
    m.shard = W0.slice();
    m.mergeCnt += 1;
  }

  /** The memory as one module patch (Merge: the finalised view WISE.__call__ evaluates). */
  private async patch(model: Model, m: WiseMemoryState, W0: Float32Array, shape: number[], hp: WiseHparams, requests: EditRequest[], context: EditContext): Promise<ModulePatch> {
    const host = (data: Float32Array) => ({ shape: shape.slice(), data: data.slice() });
    const same = (a: Float32Array) => a.every((v, j) => v === W0[j]);
    let memories: WiseMemory[];
    if (!hp.retrieve) {
      // WISE.__call__: once editing_total_cnt ≥ save_freq a non-empty shard joins the pending ones
      // and they merge into the side memory; before that the shard itself is the side memory.
      let merged = m.merged;
      let shard = m.shard;
      if (m.totalCnt >= hp.saveFreq) {
        const pending = same(shard) ? m.saved : [...m.saved, shard];
        if (pending.length > 0) {
          const n = pending.length;
          merged = merged === null
            ? tiesMerge(W0, pending, pending.map(() => hp.weights / n), hp.densities)
            : tiesMerge(W0, [...pending, merged], [...pending.map(() => 0.4 / n), 0.6], hp.densities);
          shard = W0;
        }
      }
      memories = [];
      if (merged !== null) memories.push({ W: host(merged), minAct: m.minAct });
      if (!same(shard)) memories.push({ W: host(shard), minAct: m.minAct });
    } else {
      memories = [{ W: host(m.shard), minAct: m.minAct }, ...m.saved.map((W, i) => ({ W: host(W), minAct: m.savedMinAct[i]! }))];
    }
    const module: WiseModule = { kind: "wise", layer: m.layer, act: model.config.act, actRatio: hp.actRatio, routing: hp.retrieve ? "retrieve" : "merge", memories };
    return {
      type: "module",
      info: { method: "wise", config: hp, seed: context.seed, createdAt: new Date().toISOString(), baseModelHash: await modelHash(model), edits: m.totalCnt, lastRequests: requests },
      module,
    };
  }
}

export const wiseEditor: EditorDefinition<WiseHparams> = {
  name: "wise",
  keys: {
    layers: { field: "layers", kind: "int[]" },
    mask_ratio: { field: "maskRatio", kind: "number" },
    edit_lr: { field: "editLr", kind: "number" },
    n_iter: { field: "nIter", kind: "int" },
    norm_constraint: { field: "normConstraint", kind: "numberOrFalse" },
    // act_margin [α, β, γ] as three keys until a "number[]" HparamKind exists.
    act_margin_alpha: { field: "actMarginAlpha", kind: "number" },
    act_margin_beta: { field: "actMarginBeta", kind: "number" },
    act_margin_gamma: { field: "actMarginGamma", kind: "number" },
    act_ratio: { field: "actRatio", kind: "number" },
    save_freq: { field: "saveFreq", kind: "int" },
    merge_freq: { field: "mergeFreq", kind: "int" },
    merge_alg: { field: "mergeAlg", kind: "string" },
    densities: { field: "densities", kind: "number" },
    weights: { field: "weights", kind: "number" },
    retrieve: { field: "retrieve", kind: "bool" },
    replay: { field: "replay", kind: "bool" },
    objective_optimization: { field: "objectiveOptimization", kind: "string" },
    context_template_length_params: { field: "contextTemplateLengthParams", kind: "pairs" },
    irrelevant_count: { field: "irrelevantCount", kind: "int" },
  },
  defaults: wiseDefaults,
  create: () => new WiseEditor(),
};
