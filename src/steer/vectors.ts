/**
 * Steering vectors from activations (host math in float64; rows are [n × d] row-major).
 *
 * - CAA (Rimsky et al. 2024, generate_vectors.py): for contrastive pairs, the activation at the
 *   answer letter with the behaviour-matching answer (p_i) and with the other answer (n_i), at one
 *   layer; v = (1/N) Σ_i (p_i − n_i)  ("vec = (all_pos_layer - all_neg_layer).mean(dim=0)").
 * - Mean difference of two unpaired groups (e.g. probe data by label): v = mean(pos) − mean(neg)
 *   (the "diff-in-means" direction of Marks & Tegmark 2023 / Arditi et al. 2024).
 * - PCA (Im & Li 2024, "A Unified Understanding and Evaluation of Steering Methods", the PCA
 *   baseline; RepE's PCA reader, Zou et al. 2023): the first principal component of the paired
 *   differences d_i = p_i − n_i (centred, as sklearn's PCA centres), computed by power iteration.
 *   A component has no sign or length, so we orient it along the mean difference and give it the
 *   mean difference's length along it: v = (d̄·u) u. Thus α means the same scale for CAA and PCA.
 */
import { UsageError } from "../errors.js";

export interface Matrix {
  data: Float32Array | Float64Array;
  rows: number;
  cols: number;
}

export function mean(m: Matrix): Float64Array {
  const out = new Float64Array(m.cols);
  for (let i = 0; i < m.rows; i++) for (let k = 0; k < m.cols; k++) out[k]! += m.data[i * m.cols + k]!;
  for (let k = 0; k < m.cols; k++) out[k]! /= m.rows;
  return out;
}

function need(m: Matrix, what: string): void {
  if (m.rows === 0) throw new UsageError("EMPTY_SET", `${what} has no rows`, { fix: "give a dataset with at least one item per side" });
}

/** CAA: mean of paired differences p_i − n_i. */
export function caaVector(pos: Matrix, neg: Matrix): Float32Array {
  need(pos, "the behaviour-matching set");
  if (pos.rows !== neg.rows || pos.cols !== neg.cols) throw new RangeError(`CAA needs paired rows: ${pos.rows}×${pos.cols} vs ${neg.rows}×${neg.cols}`);
  return diffMeans(pos, neg);
}

/** Difference of the group means. */
export function meanDifferenceVector(pos: Matrix, neg: Matrix): Float32Array {
  need(pos, "the positive set");
  need(neg, "the negative set");
  return diffMeans(pos, neg);
}

function diffMeans(pos: Matrix, neg: Matrix): Float32Array {
  const a = mean(pos);
  const b = mean(neg);
  return Float32Array.from(a, (x, k) => x - b[k]!);
}

/** First principal component of the paired differences, oriented and scaled as described above. */
export function pcaVector(pos: Matrix, neg: Matrix, iterations = 500): Float32Array {
  need(pos, "the behaviour-matching set");
  if (pos.rows !== neg.rows || pos.cols !== neg.cols) throw new RangeError(`PCA needs paired rows: ${pos.rows}×${pos.cols} vs ${neg.rows}×${neg.cols}`);
  const n = pos.rows;
  const d = pos.cols;
  const diffs = new Float64Array(n * d);
  for (let i = 0; i < n * d; i++) diffs[i] = pos.data[i]! - neg.data[i]!;
  const dbar = mean({ data: diffs, rows: n, cols: d });
  const u = firstComponent({ data: diffs, rows: n, cols: d }, dbar, iterations);
  let proj = 0;
  for (let k = 0; k < d; k++) proj += dbar[k]! * u[k]!;
  return Float32Array.from(u, (x) => x * proj);
}

/**
 * Unit leading eigenvector of the covariance of the rows of `m` (centred at `center`), by power
 * iteration on C = Xcᵀ Xc without forming C (O(n·d) per step). Deterministic start: the mean
 * difference when non-zero (it is the direction we orient towards anyway), else e_0.
 */
export function firstComponent(m: Matrix, center: Float64Array, iterations = 500): Float64Array {
  const { rows: n, cols: d } = m;
  let v: Float64Array = Float64Array.from(center);
  if (norm(v) === 0) v[0] = 1;
  v = scale(v, 1 / norm(v));
  const xc = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) xc[i * d + k] = m.data[i * d + k]! - center[k]!;
  for (let it = 0; it < iterations; it++) {
    const w = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += xc[i * d + k]! * v[k]!;
      for (let k = 0; k < d; k++) w[k]! += dot * xc[i * d + k]!;
    }
    const nw = norm(w);
    if (nw === 0) return v; // no variance: every direction is a component; keep the start
    const next = scale(w, 1 / nw);
    let change = 0;
    for (let k = 0; k < d; k++) change = Math.max(change, Math.abs(next[k]! - v[k]!));
    v = next;
    if (change < 1e-12) break;
  }
  return v;
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

function scale(v: Float64Array, c: number): Float64Array {
  return Float64Array.from(v, (x) => x * c);
}

/** Rows [i] of a matrix picked by indices (new matrix). */
export function pickRows(m: Matrix, indices: readonly number[]): Matrix {
  const out = new Float32Array(indices.length * m.cols);
  indices.forEach((r, i) => out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols));
  return { data: out, rows: indices.length, cols: m.cols };
}

/**
 * CAA's cross-behaviour normalisation (nrimsky/CAA normalize_vectors.py): at each layer, every
 * behaviour's vector is rescaled to the mean norm of all behaviours' vectors at that layer
 * ("mean_norm = t.tensor(list(norms.values())).mean()"; "vecs[behavior] * mean_norm / norms[behavior]").
 * CAA's published multipliers apply to these normalised vectors. Directions are unchanged; a zero
 * vector stays zero (it has no direction to rescale). `vectors` is behaviour → layer → vector;
 * every behaviour must have the same layers. Pure: new arrays, inputs untouched.
 */
export function normalizeVectors(vectors: Readonly<Record<string, Readonly<Record<number, Float32Array>>>>): {
  vectors: Record<string, Record<number, Float32Array>>;
  /** Per layer: the mean norm every vector now has. */
  meanNorm: Record<number, number>;
  /** Per behaviour and layer: the norm before rescaling. */
  norms: Record<string, Record<number, number>>;
} {
  const names = Object.keys(vectors);
  if (names.length === 0) return { vectors: {}, meanNorm: {}, norms: {} };
  const layers = Object.keys(vectors[names[0]!]!).map(Number);
  for (const b of names) {
    const ls = Object.keys(vectors[b]!).map(Number);
    if (ls.length !== layers.length || ls.some((l) => !layers.includes(l))) throw new RangeError(`normalizeVectors: behaviour '${b}' has layers ${ls.join(",")}, '${names[0]}' has ${layers.join(",")}`);
  }
  const out: Record<string, Record<number, Float32Array>> = Object.fromEntries(names.map((b) => [b, {}]));
  const norms: Record<string, Record<number, number>> = Object.fromEntries(names.map((b) => [b, {}]));
  const meanNorm: Record<number, number> = {};
  for (const l of layers) {
    for (const b of names) norms[b]![l] = norm(vectors[b]![l]!);
    const m = names.reduce((s, b) => s + norms[b]![l]!, 0) / names.length;
    meanNorm[l] = m;
    for (const b of names) {
      const v = vectors[b]![l]!;
      const n = norms[b]![l]!;
      out[b]![l] = n === 0 ? Float32Array.from(v) : Float32Array.from(v, (x) => (x * m) / n);
    }
  }
  return { vectors: out, meanNorm, norms };
}
