/**
 * Truncated standard normal on [a, b], as Optuna's optuna/samplers/_tpe/_truncnorm.py (itself
 * adapted from scipy.stats.truncnorm): log-space mass, inverse-CDF sampling and log-density.
 * Computations run in the left tail and use symmetry for the right one, as there.
 */
import { logNdtr, ndtr } from "../special.js";

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** log(exp(p) − exp(q)) for p ≥ q. */
function logDiff(p: number, q: number): number {
  return p + Math.log1p(-Math.exp(q - p));
}

function logSum(p: number, q: number): number {
  const m = Math.max(p, q);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(Math.exp(p - m) + Math.exp(q - m));
}

/** log ∫_a^b φ(z) dz. */
export function logGaussMass(a: number, b: number): number {
  if (b <= 0) return logDiff(logNdtr(b), logNdtr(a));
  if (a > 0) return logDiff(logNdtr(-a), logNdtr(-b));
  // Central case: 1 − Φ(a) − Φ(−b), avoiding cancellation near 1.
  return Math.log1p(-ndtr(a) - ndtr(-b));
}

/** Inverse of logNdtr by bisection on [−100, 100] (Optuna's `_ndtri_exp`, 100 halvings). */
function ndtriExp(y: number): number {
  let lo = -100;
  let hi = 100;
  let m = 0;
  for (let i = 0; i < 100; i++) {
    m = (lo + hi) / 2;
    if (logNdtr(m) < y) lo = m;
    else hi = m;
  }
  return m;
}

/** Quantile function of the standard normal truncated to [a, b]. */
export function ppf(q: number, a: number, b: number): number {
  if (a === b) return NaN;
  if (q === 0) return a;
  if (q === 1) return b;
  if (a < 0) return ndtriExp(logSum(logNdtr(a), Math.log(q) + logGaussMass(a, b)));
  return -ndtriExp(logSum(logNdtr(-b), Math.log1p(-q) + logGaussMass(a, b)));
}

/** Sample: loc + scale · ppf(u, a, b), u ~ U[0, 1) (Optuna's `rvs`). */
export function rvs(u: number, a: number, b: number, loc: number, scale: number): number {
  return ppf(u, a, b) * scale + loc;
}

/** log-density at x of N(loc, scale²) truncated to standardized bounds [a, b]. */
export function logpdf(x: number, a: number, b: number, loc: number, scale: number): number {
  const z = (x - loc) / scale;
  if (a === b) return NaN;
  if (z < a || z > b) return -Infinity;
  // Current Optuna subtracts log(scale) (early versions omitted it; kernels of different widths
  // then mixed wrongly). This equals scipy.stats.truncnorm(a, b, loc, scale).logpdf(x).
  return -(z * z) / 2 - LOG_SQRT_2PI - logGaussMass(a, b) - Math.log(scale);
}
