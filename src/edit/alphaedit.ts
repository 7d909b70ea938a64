/**
 * AlphaEdit: null-space constrained knowledge editing (Fang et al. 2025, "AlphaEdit: Null-Space
 * Constrained Knowledge Editing for Language Models"; code AlphaEdit/AlphaEdit_main.py and
 * experiments/evaluate.py get_project).
 *
 * MEMIT's keys, z* and layer loop (memit.ts), with the update projected onto the null space of the
 * preserved knowledge's keys K₀, so that (ΔW)ᵀ k₀ = 0 for every preserved key: what the model knew
 * stays exactly as it was, edit after edit.
 *
 * - P (get_project): eigen-decompose C = E[k₀k₀ᵀ] (the covariance statistics); P = Û Ûᵀ where Û
 *   are the eigenvectors whose eigenvalues are below nullspace_threshold (the "small" directions
 *   preserved keys do not use).
 * - Per layer (AlphaEdit_main, paper eq. 9, our [d_mlp × d_model] layout):
 *     ΔW = (P (K₁K₁ᵀ + K_pK_pᵀ) + α I)⁻¹ P K₁ Rᵀ
 *   with K₁ the current edits' keys, K_pK_pᵀ the accumulated keys of earlier (sequential) edits
 *   (cache_c) and α = L2. ΔW lies in the range of P, so k₀ᵀ ΔW = (P k₀)ᵀ(…) ≈ 0.
 * - After the edit, cache_c += K₁K₁ᵀ with keys recomputed on the edited model (AlphaEdit_main's
 *   last loop). This state lives in the editor instance, per unedited model: a sequential run uses
 *   one instance (getEditor("alphaedit")) and calls edit() on the successively edited models.
 */
import { unpatch, type WeightPatch } from "../model/patch.js";
import { modelHash } from "../model/hash.js";
import type { Model } from "../model/types.js";
import { averagedKeys } from "./compute-key.js";
import type { AlphaEditHparams } from "./hparams.js";
import { mat64, solve64, symEig64, type Mat64 } from "../analysis/linalg64.js";
import { spreadOverLayers, type LayerSolver } from "./memit.js";
import { keyCovariance } from "./mom2.js";
import type { EditContext, EditRequest } from "./types.js";
import { base64ToFloat64, float64ToBase64 } from "../util/base64.js";

/** P = Û Ûᵀ over eigenvectors of C with eigenvalue < threshold ([d × d] row-major), and their count. */
export function nullSpaceProjector(C: Float64Array, d: number, threshold: number): { P: Float64Array; rank: number } {
  const { values, vectors } = symEig64(mat64(d, d, C));
  const keep: number[] = [];
  values.forEach((v, i) => v < threshold && keep.push(i));
  const P = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let s = 0;
      for (const c of keep) s += vectors.data[i * d + c]! * vectors.data[j * d + c]!;
      P[i * d + j] = s;
      P[j * d + i] = s;
    }
  }
  return { P, rank: keep.length };
}

/** ΔW = (P(KKᵀ + Cp) + αI)⁻¹ P K Rᵀ, [d × d_out]. */
export function alphaEditLayerUpdate(P: Float64Array, cacheC: Float64Array, keys: Float64Array[], resid: Float64Array[], L2: number): Mat64 {
  const d = keys[0]!.length;
  const dOut = resid[0]!.length;
  // M = KKᵀ + Cp.
  const M = new Float64Array(cacheC);
  for (const k of keys) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) M[i * d + j]! += k[i]! * k[j]!;
  // A = P M + αI.
  const A = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const p = P[i * d + k]!;
      if (p === 0) continue;
      for (let j = 0; j < d; j++) A[i * d + j]! += p * M[k * d + j]!;
    }
    A[i * d + i]! += L2;
  }
  // B = P K Rᵀ = P (Σ_c k_c r_cᵀ).
  const KR = new Float64Array(d * dOut);
  keys.forEach((k, c) => {
    const r = resid[c]!;
    for (let i = 0; i < d; i++) for (let j = 0; j < dOut; j++) KR[i * dOut + j]! += k[i]! * r[j]!;
  });
  const B = new Float64Array(d * dOut);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const p = P[i * d + k]!;
      if (p === 0) continue;
      for (let j = 0; j < dOut; j++) B[i * dOut + j]! += p * KR[k * dOut + j]!;
    }
  }
  return solve64(mat64(d, d, A), mat64(d, dOut, B));
}

interface LayerState {
  P: Float64Array;
  rank: number;
  /** Σ over earlier edits of K Kᵀ (AlphaEdit's cache_c). */
  cacheC: Float64Array;
}

/** An AlphaEdit editor's memory of earlier edits, per unedited model and layer. */
export class AlphaEditState {
  private byModel = new WeakMap<Model, Map<string, LayerState>>();
  /** The layers of the model edited last (what a checkpoint saves). */
  private last?: Map<string, LayerState>;
  /** cache_c restored from a checkpoint, taken up by the layer it belongs to when first used. */
  private restored = new Map<string, Float64Array>();

  async layer(model: Model, layer: number, hp: AlphaEditHparams, context: EditContext): Promise<LayerState> {
    const base = unpatch(model);
    let m = this.byModel.get(base);
    if (!m) this.byModel.set(base, (m = new Map()));
    const key = JSON.stringify([layer, hp.nullspaceThreshold, hp.mom2Dataset, hp.mom2NSamples, hp.mom2MaxLength ?? null]);
    let s = m.get(key);
    if (!s) {
      const C = await keyCovariance(base, layer, hp, context);
      const d = model.config.dMlp;
      const { P, rank } = nullSpaceProjector(C, d, hp.nullspaceThreshold);
      s = { P, rank, cacheC: this.restored.get(key) ?? new Float64Array(d * d) };
      this.restored.delete(key);
      m.set(key, s);
    }
    this.last = m;
    return s;
  }

  /** Forget earlier edits (a new sequential run on the same model). */
  reset(): void {
    this.byModel = new WeakMap();
    this.last = undefined;
    this.restored.clear();
  }

  /** The accumulated keys (cache_c) per layer, exact, as JSON-serialisable data. P is recomputed from C. */
  export(): { layers: { key: string; cacheC: string }[] } {
    return { layers: [...(this.last ?? new Map<string, LayerState>())].map(([key, st]) => ({ key, cacheC: float64ToBase64(st.cacheC) })) };
  }

  /** Restore what `export` saved; applied to each layer when it is next used. */
  import(state: unknown): void {
    const layers = (state as { layers?: { key: string; cacheC: string }[] } | undefined)?.layers ?? [];
    for (const { key, cacheC } of layers) this.restored.set(key, base64ToFloat64(cacheC));
  }
}

export async function alphaEdit(model: Model, requests: EditRequest[], hp: AlphaEditHparams, context: EditContext = {}, state = new AlphaEditState()): Promise<WeightPatch> {
  const states: LayerState[] = [];
  for (const layer of hp.layers) states.push(await state.layer(model, layer, hp, context));
  const solve: LayerSolver = async (i, _layer, keys, resid) => alphaEditLayerUpdate(states[i]!.P, states[i]!.cacheC, keys, resid, hp.L2);
  const { deltas, edited, templates } = await spreadOverLayers(model, requests, hp, context, solve, "alphaedit");
  // cache_c += K Kᵀ, keys of the edited model.
  for (const [i, layer] of hp.layers.entries()) {
    const keys = await averagedKeys(edited, layer, requests, templates, "grouped");
    const C = states[i]!.cacheC;
    const d = keys[0]!.length;
    for (const k of keys) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) C[a * d + b]! += k[a]! * k[b]!;
  }
  if (edited !== model) edited.dispose();
  return {
    type: "weights",
    info: {
      method: "alphaedit",
      config: hp,
      seed: context.seed,
      createdAt: new Date().toISOString(),
      baseModelHash: await modelHash(model),
      nullSpaceDims: states.map((s) => s.rank),
      requests,
    },
    deltas,
  };
}
