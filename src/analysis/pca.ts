/**
 * PCA projection: centre the rows, eigendecompose the sample covariance C = XcᵀXc/(n−1) (symEig64,
 * float64 on the host), keep the top-k eigenvectors as components and project:
 *   Z = Xc V_k,   explained variance λ_i,   ratio λ_i / Σ_j λ_j   (sklearn.decomposition.PCA's
 *   explained_variance_ and explained_variance_ratio_, whose Σ_j is over all components).
 * Sign: an eigenvector's sign is arbitrary; each component is flipped so that its entry of largest
 * magnitude is positive, so the same data always give the same picture.
 *
 * Cost O(n d² + d³): meant for hidden states (d ≤ a few thousand), as t-SNE's init and for plots.
 */
import { mat64, symEig64 } from "./linalg64.js";

export interface PcaResult {
  /** [n][k] coordinates of each row on the components. */
  projection: Float64Array[];
  /** [k][d] unit principal axes, by decreasing variance. */
  components: Float64Array[];
  /** Variance along each kept component (eigenvalues of the covariance, ddof = 1). */
  explainedVariance: number[];
  /** explainedVariance / total variance (over all d directions). */
  explainedVarianceRatio: number[];
  /** [d] the mean that was subtracted. */
  mean: Float64Array;
}

/** Rows of equal length, at least two, all finite; RangeError naming the bad row otherwise. */
export function checkRows(rows: readonly ArrayLike<number>[], what: string): number {
  if (rows.length < 2) throw new RangeError(`${what}: need at least 2 rows, got ${rows.length}`);
  const d = rows[0]!.length;
  if (d === 0) throw new RangeError(`${what}: rows are empty (dimension 0)`);
  rows.forEach((r, i) => {
    if (r.length !== d) throw new RangeError(`${what}: row ${i} has ${r.length} values, row 0 has ${d}; give vectors of one dimension`);
    for (let j = 0; j < d; j++) if (!Number.isFinite(r[j]!)) throw new RangeError(`${what}: row ${i} has a non-finite value at ${j}`);
  });
  return d;
}

export function pca(rows: readonly ArrayLike<number>[], k = 2): PcaResult {
  const d = checkRows(rows, "pca");
  const n = rows.length;
  if (!Number.isInteger(k) || k < 1 || k > d) throw new RangeError(`pca: k must be an integer in 1…${d} (the dimension), got ${k}`);
  const mean = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j]! += r[j]! / n;
  const X = rows.map((r) => Float64Array.from({ length: d }, (_, j) => r[j]! - mean[j]!));
  const C = mat64(d, d);
  for (const x of X) {
    for (let a = 0; a < d; a++) {
      const xa = x[a]! / (n - 1);
      if (xa === 0) continue;
      for (let b = a; b < d; b++) C.data[a * d + b]! += xa * x[b]!;
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) C.data[a * d + b] = C.data[b * d + a]!;
  const { values, vectors } = symEig64(C); // ascending
  let total = 0;
  for (const v of values) total += Math.max(v, 0);
  const components: Float64Array[] = [];
  const explainedVariance: number[] = [];
  for (let c = 0; c < k; c++) {
    const col = d - 1 - c;
    const v = Float64Array.from({ length: d }, (_, j) => vectors.data[j * d + col]!);
    let big = 0;
    for (let j = 1; j < d; j++) if (Math.abs(v[j]!) > Math.abs(v[big]!)) big = j;
    if (v[big]! < 0) for (let j = 0; j < d; j++) v[j] = -v[j]!;
    components.push(v);
    explainedVariance.push(Math.max(values[col]!, 0));
  }
  const projection = X.map((x) => Float64Array.from(components, (v) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[j]! * v[j]!;
    return s;
  }));
  return { projection, components, explainedVariance, explainedVarianceRatio: explainedVariance.map((v) => (total > 0 ? v / total : 0)), mean };
}
