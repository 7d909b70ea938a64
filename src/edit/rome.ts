/**
 * ROME: Rank-One Model Editing (Meng et al. 2022, "Locating and Editing Factual Associations in
 * GPT"; code rome/rome_main.py, compute_u.py, compute_v.py).
 *
 * The MLP output projection W of layer l is a linear associative memory v = W k. To store a new
 * (k*, v*) while disturbing the other keys least — minimise ‖Ŵ K − V‖ s.t. Ŵ k* = v*, with the keys'
 * second moment C = K Kᵀ / n — the closed form is (paper eq. 2)
 *
 *   Ŵ = W + Λ (C⁻¹ k*)ᵀ,   Λ = (v* − W k*) / ((C⁻¹ k*)ᵀ k*).
 *
 * - k* (compute_u): the subject's last token's input to W, averaged over context templates (eq. 3);
 *   u = C⁻¹ k* (mom2_adjustment; C = I when off).
 * - v* (compute_v, eq. 4): compute-value.ts, at the MLP output of layer l.
 * - Λ (compute_v's right_vector): ROME's code divides by ⟨k, u⟩ and subtracts W k (+ bias) for the
 *   key k of the *plain* prompt, not of the averaged k*; so W' k = v* holds for that plain key.
 *   r-ROME (Gupta et al. 2024, "Rebuilding ROME") uses the averaged k* there too, so W' k* = v*
 *   for the very key that defines the update (keyMode "r-rome").
 *
 * Layout: our W_out is [d_in = d_mlp, d_out = d_model] (x @ W), the transpose of the paper's W, so
 * the update is ΔW = u Λᵀ / ⟨u, k⟩ ([d_mlp × d_model]; as rome_main's upd_matrix for GPT-2's Conv1D).
 * Several requests are applied one after another, each on the model with the previous ones applied
 * (apply_rome_to_model), and their deltas summed.
 */
import { applyPatch, type WeightPatch } from "../model/patch.js";
import { modelHash } from "../model/hash.js";
import type { Model } from "../model/types.js";
import { readF32 } from "../tensor/own.js";
import { averagedKeys, keysAt } from "./compute-key.js";
import type { ValueResult } from "./compute-value.js";
import { cachedTargetVectors } from "./value-cache.js";
import { contextTemplates } from "./context-templates.js";
import type { RomeHparams } from "./hparams.js";
import { EditCaches } from "./caches.js";
import { cholesky64, choleskySolve64, mat64, solve64 } from "../analysis/linalg64.js";
import { keyCovariance } from "./mom2.js";
import type { EditContext, EditRequest } from "./types.js";

/** What one rank-one update was made of (for tests and diagnostics). */
export interface RomeStep {
  /** The key the update is exact for (plain-prompt key for "rome", averaged k* for "r-rome"). */
  key: Float64Array;
  /** The averaged key k* defining u = C⁻¹ k*. */
  kStar: Float64Array;
  u: Float64Array;
  vStar: Float32Array;
  /** −log P(target) at the end of the v* optimisation. */
  nll: number;
}

export async function romeEdit(model: Model, requests: EditRequest[], hp: RomeHparams, context: EditContext = {}, steps: RomeStep[] = []): Promise<WeightPatch> {
  const name = `blocks.${hp.layer}.mlp.W_out`;
  const [dIn, dOut] = model.params[name]!.shape as [number, number];
  const total = new Float32Array(dIn * dOut);
  let current = model;
  for (const [i, request] of requests.entries()) {
    context.onProgress?.("rome", i, requests.length);
    const { delta, step } = await rankOne(current, request, hp, context);
    steps.push(step);
    for (let j = 0; j < total.length; j++) total[j]! += delta[j]!;
    if (i < requests.length - 1) {
      const next = applyPatch(model, { type: "weights", info: { method: "rome" }, deltas: { [name]: { shape: [dIn, dOut], data: total.slice() } } });
      if (current !== model) current.dispose();
      current = next;
    }
  }
  if (current !== model) current.dispose();
  context.onProgress?.("rome", requests.length, requests.length);
  return {
    type: "weights",
    info: { method: hp.keyMode === "r-rome" ? "r-rome" : "rome", config: hp, seed: context.seed, createdAt: new Date().toISOString(), baseModelHash: await modelHash(model), requests },
    deltas: { [name]: { shape: [dIn, dOut], data: total } },
  };
}

async function rankOne(model: Model, request: EditRequest, hp: RomeHparams, context: EditContext): Promise<{ delta: Float32Array; step: RomeStep }> {
  const l = hp.layer;
  const templates = (await contextTemplates(model, hp, context.seed ?? 0, context.caches)).flat();
  // k* and u = C⁻¹ k* (compute_u).
  const [kStar] = await averagedKeys(model, l, [request], templates.map((t) => [t]), "grouped");
  const u = await inverseCovTimes(model, l, hp, context, kStar!);
  // v* (compute_v).
  const [v] = (await cachedTargetVectors(model, [request], hp, templates, `blocks.${l}.hook_mlp_out`, context, (_, s) => context.onProgress?.("rome v*", s.step + 1, hp.vNumGradSteps))) as [ValueResult];
  // The key the update is exact for.
  const key = hp.keyMode === "r-rome" ? kStar! : Float64Array.from((await keysAt(model, l, [{ template: request.prompt, subject: request.subject }]))[0]!);
  const W = await readF32(model.params[`blocks.${l}.mlp.W_out`]!.ref);
  const bName = `blocks.${l}.mlp.b_out`;
  const b = model.params[bName] ? await readF32(model.params[bName]!.ref) : undefined;
  const dIn = key.length;
  const dOut = v.target.length;
  // Λ = (v* − (W k + b)) / ⟨u, k⟩, in float64.
  const out = new Float64Array(dOut);
  for (let i = 0; i < dIn; i++) {
    const ki = key[i]!;
    if (ki === 0) continue;
    for (let j = 0; j < dOut; j++) out[j]! += ki * W[i * dOut + j]!;
  }
  let uk = 0;
  for (let i = 0; i < dIn; i++) uk += u[i]! * key[i]!;
  const lambda = new Float64Array(dOut);
  for (let j = 0; j < dOut; j++) lambda[j] = (v.target[j]! - out[j]! - (b ? b[j]! : 0)) / uk;
  const delta = new Float32Array(dIn * dOut);
  for (let i = 0; i < dIn; i++) for (let j = 0; j < dOut; j++) delta[i * dOut + j] = u[i]! * lambda[j]!;
  return { delta, step: { key, kStar: kStar!, u, vStar: v.target, nll: v.nll } };
}

/** C⁻¹ x with C the layer's key covariance (Cholesky, cached per matrix on the run's caches), or x when mom2Adjustment is off. */
export async function inverseCovTimes(model: Model, layer: number, hp: RomeHparams, context: EditContext, x: Float64Array): Promise<Float64Array> {
  if (!hp.mom2Adjustment) return x;
  const C = await keyCovariance(model, layer, hp, context);
  const d = x.length;
  const L = (context.caches ?? new EditCaches()).factorOf(C, () => cholesky64(mat64(d, d, C)));
  // A rank-deficient C (fewer key samples than d_mlp): ROME's torch.inverse would fail too;
  // a pivoted LU gives the solution when one exists.
  if (!L) return solve64(mat64(d, d, C), mat64(d, 1, x)).data;
  return choleskySolve64(L, mat64(d, 1, x)).data;
}
