/**
 * GRACE's codebook as an attached module (Hartvigsen et al. 2023, "Aging with GRACE: Lifelong
 * Model Editing with Discrete Key-Value Adaptors", NeurIPS; reference code: EasyEdit
 * easyeditor/models/grace/GRACE.py `GRACEAdapter.forward` and Thartvigsen/GRACE
 * grace/editors/grace.py). The editor that fills it is edit/grace.ts.
 *
 * The codebook wraps one layer's MLP down projection W_out. For each batch row b, with h^{l-1}
 * the W_out input (hook blocks.{l}.mlp.hook_post) at the row's query token q_b
 * (HookContext.queryPositions: the last token of the input, EasyEdit's key_id):
 *
 *   i*  = argmin_i d(h, K_i),        d = Euclidean distance (torch.cdist p=2, EasyEdit `euc`)
 *   out = V_{i*}   if d(h, K_{i*}) ≤ ε_{i*}       (the paper's Eq. 1: h^l = V_{i*} if matched)
 *   out = W_out(h) otherwise                      (the layer's own output, untouched)
 *
 * written into the W_out output (hook blocks.{l}.hook_mlp_out) at the positions the replacement
 * rule names (EasyEdit's `replacement`):
 *   replace_last    position q_b only (the default)
 *   replace_all     every position of the row
 *   replace_prompt  positions 0 … q_b − 1 (EasyEdit writes layer_out[:, :token_to_edit]: the
 *                   query token itself is not replaced; we compute the same)
 *
 * Rows with no match take the layer's output through `where`, so they are bit-identical to the
 * unedited model; an empty codebook adds no hooks at all. Per-pass values (the queries) go from
 * hook_post to hook_mlp_out through the pass closure (HandOver), never through module state.
 * Gemma-2 normalises after W_out (ln2_post) before hook_mlp_out: replacing there would replace a
 * different quantity, so that family is refused (as lora.ts refuses unmerged W_out adapters).
 */
import { numpy as np } from "@jax-js/jax";
import { HandOver, type ModuleKind } from "../attached.js";
import type { HostF32, PatchInfo } from "../patch.js";
import type { Arr, Hook, Model } from "../types.js";

export const GRACE_REPLACEMENTS = ["replace_last", "replace_all", "replace_prompt"] as const;
export type GraceReplacement = (typeof GRACE_REPLACEMENTS)[number];

export interface GraceCodebook {
  kind: "grace";
  /** Which block's mlp.W_out the codebook wraps. */
  layer: number;
  replacement: GraceReplacement;
  /** [n, d_mlp]: W_out inputs (hook_post) at the edits' query tokens. */
  keys: HostF32;
  /** [n, d_model]: what the W_out output becomes where a key matches. */
  values: HostF32;
  /** [n]: each key's deferral radius ε_i. */
  epsilons: HostF32;
  /** The edit target each key was made for (GRACE's key labels, compared for expand vs split). */
  labels: string[];
  info?: PatchInfo;
}

/** Number of entries of a codebook. */
export const codebookSize = (c: Pick<GraceCodebook, "labels">) => c.labels.length;

/** An empty codebook at `layer` for a model of these widths. */
export function emptyCodebook(layer: number, dMlp: number, dModel: number, replacement: GraceReplacement = "replace_last"): GraceCodebook {
  return { kind: "grace", layer, replacement, keys: { shape: [0, dMlp], data: new Float32Array(0) }, values: { shape: [0, dModel], data: new Float32Array(0) }, epsilons: { shape: [0], data: new Float32Array(0) }, labels: [] };
}

/** Where the codebook reads its query and writes its value; refuses models it cannot wrap. */
export function graceSite(model: Model, layer: number): { input: string; output: string } {
  const { nLayers, postNorms } = model.config;
  if (!(Number.isInteger(layer) && layer >= 0 && layer < nLayers)) throw new RangeError(`GRACE layer ${layer} does not exist (the model has ${nLayers} layers): choose layers: [l] with l in 0…${nLayers - 1}`);
  if (postNorms) throw new RangeError(`GRACE at blocks.${layer}.mlp.W_out: this model normalises the MLP output (post-MLP norm) before blocks.${layer}.hook_mlp_out, so the codebook cannot replace W_out's output there`);
  return { input: `blocks.${layer}.mlp.hook_post`, output: `blocks.${layer}.hook_mlp_out` };
}

/** Checks shapes and fields; a RangeError naming the bad field. */
export function checkCodebook(c: GraceCodebook, dMlp?: number, dModel?: number): void {
  const n = c.labels.length;
  if (!GRACE_REPLACEMENTS.includes(c.replacement)) throw new RangeError(`GRACE replacement "${c.replacement}" is not one of ${GRACE_REPLACEMENTS.join(", ")}`);
  const [kn, kd] = c.keys.shape;
  const [vn, vd] = c.values.shape;
  if (kn !== n || vn !== n || c.epsilons.shape[0] !== n) throw new RangeError(`GRACE codebook: ${n} labels but keys [${c.keys.shape}], values [${c.values.shape}], epsilons [${c.epsilons.shape}]; each needs one row per entry`);
  if (c.keys.data.length !== n * kd! || c.values.data.length !== n * vd! || c.epsilons.data.length !== n) throw new RangeError("GRACE codebook: a tensor's data length does not match its shape");
  if (dMlp !== undefined && kd !== dMlp) throw new RangeError(`GRACE keys have width ${kd}; this model's W_out input (d_mlp) is ${dMlp}`);
  if (dModel !== undefined && vd !== dModel) throw new RangeError(`GRACE values have width ${vd}; this model's d_model is ${dModel}`);
}

/**
 * The [B, T, 1] boolean mask of the positions the replacement rule writes in each row, before the
 * match test (host data: positions are known before the pass).
 */
export function replacementMask(replacement: GraceReplacement, queryPositions: readonly number[], T: number): Arr {
  const B = queryPositions.length;
  const m = new Float32Array(B * T);
  queryPositions.forEach((q, b) => {
    for (let t = 0; t < T; t++) {
      const on = replacement === "replace_last" ? t === q : replacement === "replace_all" ? true : t < q;
      if (on) m[b * T + t] = 1;
    }
  });
  return np.greater(np.array(m).reshape([B, T, 1]), 0);
}

/** x [B, T, D] at each row's query token → [B, D] (a one-hot sum over positions: exact). */
export function gatherQueries(x: Arr, queryPositions: readonly number[]): Arr {
  const [B, T] = x.shape as [number, number, number];
  const sel = new Float32Array(B * T);
  queryPositions.forEach((q, b) => (sel[b * T + q] = 1));
  return x.mul(np.array(sel).reshape([B, T, 1]).astype(x.dtype)).sum(1);
}

/**
 * Nearest key per query: distances [B, n] = ‖q_b − K_i‖₂ computed from the differences
 * (torch.cdist's direct formula; the ‖q‖² − 2q·k + ‖k‖² expansion loses the small distances that
 * decide ε-matches), then the nearest index, its distance and the one-hot of the choice. The
 * differences take B·n·d_mlp floats per pass (64 rows × 100 keys × 512 = 13 MB on the fact world).
 */
export function nearestKeys(q: Arr, K: Arr): { dist: Arr; onehot: Arr } {
  const n = K.shape[0]!;
  const diff = q.reshape([q.shape[0]!, 1, q.shape[1]!]).astype(np.float32).sub(K.reshape([1, n, K.shape[1]!]));
  const dists = np.sqrt(diff.ref.mul(diff).sum(2));
  const idx = np.argmin(dists.ref, 1);
  const dist = np.min(dists, 1);
  const onehot = np.equal(np.arange(n).reshape([1, n]), idx.reshape([-1, 1])).astype(np.float32);
  return { dist, onehot };
}

/**
 * y [B, T, d_model] with `value` [B, d_model] written where `where` [B, T, 1] (bool) holds.
 * np.where takes y itself elsewhere, so unreplaced entries are y's bits.
 */
export function writeValues(y: Arr, value: Arr, where: Arr): Arr {
  const [B, , d] = y.shape as [number, number, number];
  return np.where(where, value.astype(y.dtype).reshape([B, 1, d]), y);
}

/** One pass's hooks for a non-empty codebook (device copies made per pass, released after it). */
function passHooks(site: { input: string; output: string }, c: GraceCodebook): Record<string, Hook> {
  const pass = new HandOver();
  return {
    [site.input]: (x, ctx) => {
      // put() keeps its own reference; ours is released here.
      const q = gatherQueries(x.ref, ctx.queryPositions);
      pass.put(site.input, q, 1);
      q.dispose();
      return x;
    },
    [site.output]: (y, ctx) => {
      const q = pass.take(site.input);
      const n = c.labels.length;
      const K = np.array(c.keys.data).reshape(c.keys.shape);
      const { dist, onehot } = nearestKeys(q, K);
      const V = np.array(c.values.data).reshape(c.values.shape);
      const eps = np.array(c.epsilons.data).reshape([1, n]);
      const chosenEps = onehot.ref.mul(eps).sum(1);
      const value = np.matmul(onehot, V);
      const matched = np.lessEqual(dist, chosenEps).reshape([-1, 1, 1]);
      const where = np.logicalAnd(replacementMask(c.replacement, ctx.queryPositions, y.shape[1]!), matched);
      return writeValues(y, value, where);
    },
  };
}

export const graceKind: ModuleKind<GraceCodebook> = {
  kind: "grace",
  hooks(model, c) {
    const site = graceSite(model, c.layer);
    checkCodebook(c, model.config.dMlp, model.config.dModel);
    // An empty codebook changes nothing: no hooks at all.
    if (c.labels.length === 0) return () => ({});
    return () => passHooks(site, c);
  },
  encode(c) {
    const n = c.labels.length;
    // Zero-row tensors are left out (the widths travel in meta), so an empty codebook saves too.
    const tensors: Record<string, HostF32> = n ? { keys: c.keys, values: c.values, epsilons: c.epsilons } : {};
    return { meta: { layer: c.layer, replacement: c.replacement, labels: c.labels, dMlp: c.keys.shape[1], dModel: c.values.shape[1] }, tensors, about: c.info ?? null };
  },
  decode({ meta, tensors, about }) {
    const m = meta as { layer: number; replacement: GraceReplacement; labels: string[]; dMlp: number; dModel: number };
    if (!Number.isInteger(m?.layer) || !Array.isArray(m.labels) || !Number.isInteger(m.dMlp) || !Number.isInteger(m.dModel)) throw new RangeError("a GRACE module needs layer, labels, dMlp and dModel in its meta");
    const info = (about ?? undefined) as PatchInfo | undefined;
    const c = emptyCodebook(m.layer, m.dMlp, m.dModel, m.replacement);
    if (m.labels.length) {
      for (const k of ["keys", "values", "epsilons"]) if (!tensors[k]) throw new RangeError(`a GRACE module with ${m.labels.length} entries lacks its ${k} tensor`);
      Object.assign(c, { keys: tensors.keys, values: tensors.values, epsilons: tensors.epsilons });
    }
    c.labels = [...m.labels];
    if (info) c.info = info;
    checkCodebook(c, m.dMlp, m.dModel);
    return c;
  },
};
