/**
 * Linear probes: L2-regularised logistic regression on activations, the standard probing
 * classifier (Alain & Bengio 2016; as in sklearn's LogisticRegression defaults, which most probing
 * code uses: minimise ½‖w‖² + C Σ_i log(1 + exp(−y_i (w·x_i + b))), intercept unpenalised, C = 1).
 *
 * Features are standardised with the training rows' mean and standard deviation (so C means the
 * same whatever the activation scale); the weights are mapped back to activation space for the
 * probe's direction. Fitting is Newton's method (IRLS) with a Cholesky solve: exact, deterministic,
 * and quick at probe sizes (d ≤ a few hundred).
 *
 * Metrics: accuracy at threshold 0.5, and ROC AUC as the Mann–Whitney statistic with average
 * ranks for ties (Hanley & McNeil 1982): AUC = (R₊ − n₊(n₊+1)/2) / (n₊ n₋).
 */
import { cholesky64, choleskySolve64, mat64 } from "../analysis/linalg64.js";
import { UsageError } from "../errors.js";
import { mean, type Matrix } from "./vectors.js";

export interface ProbeOptions {
  /** Inverse regularisation strength (sklearn's C; default 1). */
  C?: number;
  maxIterations?: number;
}

export interface Probe {
  /** Weights in activation space (standardisation folded in) and bias: logit = w·x + b. */
  w: Float64Array;
  b: number;
  iterations: number;
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Fit on rows `x` with labels 0/1. */
export function fitProbe(x: Matrix, labels: readonly number[], options: ProbeOptions = {}): Probe {
  const { rows: n, cols: d } = x;
  if (n !== labels.length) throw new RangeError(`${n} rows but ${labels.length} labels`);
  if (!labels.includes(0) || !labels.includes(1)) throw new UsageError("ONE_CLASS", "a probe needs both classes in its training split", { fix: "use more data or another split seed" });
  const C = options.C ?? 1;
  const maxIt = options.maxIterations ?? 50;
  const mu = mean(x);
  const sd = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) sd[k]! += (x.data[i * d + k]! - mu[k]!) ** 2;
  for (let k = 0; k < d; k++) sd[k] = Math.sqrt(sd[k]! / n) || 1; // constant feature: leave it unscaled
  const z = new Float64Array(n * (d + 1)); // standardised features plus a constant 1 (the intercept)
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) z[i * (d + 1) + k] = (x.data[i * d + k]! - mu[k]!) / sd[k]!;
    z[i * (d + 1) + d] = 1;
  }
  const D = d + 1;
  const beta = new Float64Array(D);
  let it = 0;
  for (; it < maxIt; it++) {
    // Gradient and Hessian of ½‖w‖²/C·C … written as: f = ½ wᵀw + C Σ ℓ_i (intercept unpenalised).
    const g = new Float64Array(D);
    const H = new Float64Array(D * D);
    for (let k = 0; k < d; k++) {
      g[k] = beta[k]!;
      H[k * D + k] = 1;
    }
    for (let i = 0; i < n; i++) {
      const row = z.subarray(i * D, (i + 1) * D);
      let s = 0;
      for (let k = 0; k < D; k++) s += row[k]! * beta[k]!;
      const p = sigmoid(s);
      const r = C * (p - labels[i]!);
      const wgt = C * p * (1 - p);
      for (let k = 0; k < D; k++) {
        g[k]! += r * row[k]!;
        const wk = wgt * row[k]!;
        if (wk === 0) continue;
        for (let j = k; j < D; j++) H[k * D + j]! += wk * row[j]!;
      }
    }
    for (let k = 0; k < D; k++) for (let j = 0; j < k; j++) H[k * D + j] = H[j * D + k]!;
    H[D * D - 1]! += 1e-10; // the intercept is unpenalised: keep H positive definite when p(1−p) underflows
    const step = choleskySolve(H, g, D);
    let maxStep = 0;
    for (let k = 0; k < D; k++) {
      beta[k]! -= step[k]!;
      maxStep = Math.max(maxStep, Math.abs(step[k]!));
    }
    if (maxStep < 1e-10) {
      it++;
      break;
    }
  }
  const w = new Float64Array(d);
  let b = beta[d]!;
  for (let k = 0; k < d; k++) {
    w[k] = beta[k]! / sd[k]!;
    b -= w[k]! * mu[k]!;
  }
  return { w, b, iterations: it };
}

/** Solve A x = y for symmetric positive definite A (n × n, row-major): the one Cholesky (analysis/linalg64.ts). */
export function choleskySolve(A: Float64Array, y: Float64Array, n: number): Float64Array {
  return choleskySolve64(cholesky64(mat64(n, n, A)), mat64(n, 1, y)).data;
}

/** Probe logits (w·x + b) for each row. */
export function probeScores(probe: Probe, x: Matrix): Float64Array {
  const out = new Float64Array(x.rows);
  for (let i = 0; i < x.rows; i++) {
    let s = probe.b;
    for (let k = 0; k < x.cols; k++) s += probe.w[k]! * x.data[i * x.cols + k]!;
    out[i] = s;
  }
  return out;
}

export function accuracy(scores: ArrayLike<number>, labels: readonly number[]): number {
  let ok = 0;
  for (let i = 0; i < labels.length; i++) if ((scores[i]! > 0 ? 1 : 0) === labels[i]) ok++;
  return labels.length ? ok / labels.length : NaN;
}

/** ROC AUC (Mann–Whitney, average ranks for ties); NaN when a class is absent. */
export function rocAuc(scores: ArrayLike<number>, labels: readonly number[]): number {
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = r;
    i = j + 1;
  }
  let nPos = 0;
  let rPos = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1) {
    nPos++;
    rPos += ranks[i]!;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * The probe's direction as a steering vector: u = w/‖w‖ oriented towards label 1, with the
 * length of the class-mean difference along it, v = ((μ₁ − μ₀)·u) u — the same scale convention
 * as vectors.ts's PCA vector, so α compares across methods.
 */
export function probeDirection(probe: Probe, x: Matrix, labels: readonly number[]): Float32Array {
  const d = x.cols;
  const m1 = new Float64Array(d);
  const m0 = new Float64Array(d);
  let n1 = 0;
  let n0 = 0;
  for (let i = 0; i < x.rows; i++) {
    const tgt = labels[i] === 1 ? m1 : m0;
    labels[i] === 1 ? n1++ : n0++;
    for (let k = 0; k < d; k++) tgt[k]! += x.data[i * d + k]!;
  }
  let nw = 0;
  for (let k = 0; k < d; k++) nw += probe.w[k]! ** 2;
  nw = Math.sqrt(nw) || 1;
  let proj = 0;
  for (let k = 0; k < d; k++) proj += (m1[k]! / Math.max(n1, 1) - m0[k]! / Math.max(n0, 1)) * (probe.w[k]! / nw);
  return Float32Array.from(probe.w, (x) => (x / nw) * proj);
}

export interface LayerProbeResult {
  hook: string;
  probe: Probe;
  train: { accuracy: number; auc: number };
  val: { accuracy: number; auc: number };
  test: { accuracy: number; auc: number };
}

/** Fit on the train rows, report accuracy and AUC on train, val and test. */
export function evaluateProbe(hook: string, x: Matrix, labels: readonly number[], split: { train: number[]; val: number[]; test: number[] }, options: ProbeOptions = {}): LayerProbeResult {
  const pick = (idx: number[]) => {
    const data = new Float32Array(idx.length * x.cols);
    idx.forEach((r, i) => data.set(x.data.subarray(r * x.cols, (r + 1) * x.cols), i * x.cols));
    return { m: { data, rows: idx.length, cols: x.cols }, y: idx.map((i) => labels[i]!) };
  };
  const tr = pick(split.train);
  const probe = fitProbe(tr.m, tr.y, options);
  const score = (idx: number[]) => {
    const s = pick(idx);
    const sc = probeScores(probe, s.m);
    return { accuracy: accuracy(sc, s.y), auc: rocAuc(sc, s.y) };
  };
  return { hook, probe, train: score(split.train), val: score(split.val), test: score(split.test) };
}
