/**
 * Global L2 gradient-norm clipping, as torch.nn.utils.clip_grad_norm_ (torch/nn/utils/clip_grad.py):
 *   total_norm = ‖(‖g_1‖₂, …, ‖g_n‖₂)‖₂ = √(Σ_i Σ g_i²)
 *   clip_coef  = max_norm / (total_norm + 1e-6); when clip_coef < 1 every gradient is scaled by it
 * (torch multiplies by clamp(clip_coef, max=1), which is the identity otherwise).
 */
import type { Arr, Params } from "../model/types.js";
import { readF32 } from "../tensor/own.js";

/** Consumes `grads`; returns the (possibly scaled) gradients and the pre-clip norm. maxNorm ≤ 0 or ∞: no clipping. */
export async function clipGradNorm(grads: Params, maxNorm: number): Promise<{ grads: Params; norm: number }> {
  let total: Arr | undefined;
  for (const g of Object.values(grads)) {
    const s = g.ref.mul(g.ref).sum();
    total = total ? total.add(s) : s;
  }
  const norm = total ? Math.sqrt((await readF32(total))[0]!) : 0;
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) return { grads, norm };
  const coef = maxNorm / (norm + 1e-6);
  if (coef >= 1) return { grads, norm };
  const out: Params = {};
  for (const [name, g] of Object.entries(grads)) out[name] = g.mul(coef);
  return { grads: out, norm };
}
