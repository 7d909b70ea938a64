/**
 * Reciprocal and reciprocal square root of per-row statistics (norm variances, softmax sums),
 * written around two jax-js 0.1.25 problems measured here:
 * - under `grad`, `reciprocal` / division applied to a reduction's result leaks one Wasm buffer per
 *   call (counted with test/model/live-buffers.ts); `power`, `exp` and `log` do not;
 * - `power(v, −0.5)` (an exp∘log) is off by ~2e-6 relative, more than HF parity allows.
 * So: start from power / exp(−log), then one Newton step, which squares the relative error
 * (~1e-12) and, being stationary in its starting value, leaves the gradient that of the exact
 * function.
 */
import { numpy as np } from "@jax-js/jax";
import type { Arr } from "./types.js";

/** v^(−1/2). Consumes v. Newton: y ← y·(1.5 − 0.5·v·y²). */
export function rsqrt(v: Arr): Arr {
  const y = np.power(v.ref, -0.5);
  return y.ref.mul(v.mul(np.square(y)).mul(-0.5).add(1.5));
}

/** 1/v for positive v. Consumes v. Newton: y ← y·(2 − v·y). */
export function recip(v: Arr): Arr {
  const y = np.exp(np.log(v.ref).mul(-1));
  return y.ref.mul(v.mul(y).mul(-1).add(2));
}
