/**
 * Special functions with tail accuracy: erfc computed directly (not as 1 − erf) so that
 * log Φ(x) stays accurate far into the left tail, which the truncated normals of TPE need.
 *
 * erfc: Chebyshev approximation of Numerical Recipes 3rd ed. §6.2.2 (`Erf::erfccheb`, 28
 * coefficients; the same table jstat's erf uses), relative accuracy ~1e-16 for x ≥ 0.
 * logNdtr: for x < −20 the asymptotic series of scipy.special.log_ndtr / Optuna's
 * `_log_ndtr_single`; otherwise log(Φ(x)), with −Φ(−x) ≈ log Φ(x) for x > 6.
 */
import jStat from "jstat";

const COF = [
  -1.3026537197817094, 6.4196979235649026e-1, 1.9476473204185836e-2, -9.561514786808631e-3, -9.46595344482036e-4,
  3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5, -1.624290004647e-6, 1.30365583558e-6, 1.5626441722e-8,
  -8.5238095915e-8, 6.529054439e-9, 5.059343495e-9, -9.91364156e-10, -2.27365122e-10, 9.6467911e-11, 2.394038e-12,
  -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15, -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17,
];

/** erfc(z) for z ≥ 0 (Chebyshev form). */
function erfcPos(z: number): number {
  const t = 2 / (2 + z);
  const ty = 4 * t - 2;
  let d = 0;
  let dd = 0;
  for (let j = COF.length - 1; j > 0; j--) {
    const tmp = d;
    d = ty * d - dd + COF[j]!;
    dd = tmp;
  }
  return t * Math.exp(-z * z + 0.5 * (COF[0]! + ty * d) - dd);
}

export function erfc(x: number): number {
  return x >= 0 ? erfcPos(x) : 2 - erfcPos(-x);
}

export function erf(x: number): number {
  return x >= 0 ? 1 - erfcPos(x) : erfcPos(-x) - 1;
}

/** Standard normal CDF Φ(x) = erfc(−x/√2)/2, accurate in both tails. */
export function ndtr(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** log Φ(x). */
export function logNdtr(a: number): number {
  if (a > 0) return Math.log1p(-ndtr(-a)); // accurate where Φ(a) ≈ 1 (Optuna: −Φ(−a) for a > 6)
  if (a > -20) return Math.log(ndtr(a));
  // Asymptotic expansion: log Φ(a) = −a²/2 − log(−a) − log(2π)/2 + log(1 − 1/a² + 3/a⁴ − 15/a⁶ …)
  const logLHS = -0.5 * a * a - Math.log(-a) - 0.5 * Math.log(2 * Math.PI);
  let last = 0;
  let rhs = 1;
  let numerator = 1;
  let denomFactor = 1;
  const denomCons = 1 / (a * a);
  let sign = 1;
  for (let i = 1; Math.abs(last - rhs) > Number.EPSILON && i < 100; i++) {
    last = rhs;
    sign = -sign;
    denomFactor *= denomCons;
    numerator *= 2 * i - 1;
    rhs += sign * numerator * denomFactor;
  }
  return logLHS + Math.log(rhs);
}

/** Φ⁻¹(p) (scipy.special.ndtri), from jstat (erfc inverse refined by Newton steps). */
export function ndtri(p: number): number {
  if (p <= 0) return p === 0 ? -Infinity : NaN;
  if (p >= 1) return p === 1 ? Infinity : NaN;
  return jStat.normal.inv(p, 0, 1);
}
