/**
 * Float64 dense linear algebra on the host, for the editors' closed-form solves (ROME's C⁻¹k,
 * MEMIT's (λC + KKᵀ)⁻¹, AlphaEdit's null-space projector).
 *
 * Why on the host and not in jax-js: the matrices are d_mlp × d_mlp (512 for the built-in model,
 * 3072 for GPT-2 small) and must be float64 (MEMIT solves in double, memit_main.py). jax-js's
 * float64 path works on the Wasm backend only through `astype` (creating a float64 array from
 * JS data throws on Node 20: its Float16Array check), and measured here (n = 512, 2 cores)
 * np.linalg.solve took 0.83 s and eigh 3.8 s, against ~0.05 s and ~0.6 s for the loops below.
 *
 * Matrices are row-major Float64Array with an explicit size.
 */

export interface Mat64 {
  rows: number;
  cols: number;
  data: Float64Array;
}

export function mat64(rows: number, cols: number, data?: Float64Array): Mat64 {
  const d = data ?? new Float64Array(rows * cols);
  if (d.length !== rows * cols) throw new RangeError(`mat64: ${d.length} entries for a ${rows}×${cols} matrix`);
  return { rows, cols, data: d };
}

export function transpose64(a: Mat64): Mat64 {
  const out = mat64(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out.data[j * a.rows + i] = a.data[i * a.cols + j]!;
  return out;
}

/** a · b (i-k-j loop order: the inner loop runs along rows of b and out, contiguous). */
export function matmul64(a: Mat64, b: Mat64): Mat64 {
  if (a.cols !== b.rows) throw new RangeError(`matmul64: [${a.rows}×${a.cols}]·[${b.rows}×${b.cols}]`);
  const out = mat64(a.rows, b.cols);
  const n = b.cols;
  for (let i = 0; i < a.rows; i++) {
    const oi = i * n;
    for (let k = 0; k < a.cols; k++) {
      const aik = a.data[i * a.cols + k]!;
      if (aik === 0) continue;
      const bk = k * n;
      for (let j = 0; j < n; j++) out.data[oi + j]! += aik * b.data[bk + j]!;
    }
  }
  return out;
}

/**
 * Lower Cholesky factor L of a symmetric positive-definite matrix (A = L Lᵀ), row-major, in a new
 * array. Throws when A is not positive definite (a covariance with too few samples).
 */
export function cholesky64(a: Mat64): Mat64 {
  const n = a.rows;
  if (a.cols !== n) throw new RangeError("cholesky64: matrix is not square");
  const A = a.data;
  const L = new Float64Array(n * n);
  // Cholesky–Crout by rows, four rows at a time: each earlier row j is streamed once per block of
  // four rows instead of once per row (the factor of a 3072² C is 72 MB, so the plain row-by-row
  // loop is memory-bound). Every entry is accumulated in the same order as the one-row loop
  // (a_rj − Σ_k ascending L_rk·L_jk), so the result is bitwise the same.
  const pivot = (r: number, s: number) => {
    if (!(s > 0)) throw new RangeError(`cholesky64: matrix is not positive definite (pivot ${r} = ${s})`);
    return Math.sqrt(s);
  };
  for (let i0 = 0; i0 < n; i0 += 4) {
    const i1 = Math.min(n, i0 + 4);
    for (let j = 0; j < i1; j++) {
      const rj = j * n;
      const first = Math.max(i0, j);
      if (first === i0 && i1 - i0 === 4) {
        const r0 = i0 * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
        let s0 = A[r0 + j]!, s1 = A[r1 + j]!, s2 = A[r2 + j]!, s3 = A[r3 + j]!;
        for (let k = 0; k < j; k++) {
          const l = L[rj + k]!;
          s0 -= L[r0 + k]! * l;
          s1 -= L[r1 + k]! * l;
          s2 -= L[r2 + k]! * l;
          s3 -= L[r3 + k]! * l;
        }
        if (j === i0) L[r0 + j] = pivot(j, s0);
        else L[r0 + j] = s0 / L[rj + j]!;
        const d = L[rj + j]!;
        L[r1 + j] = s1 / d;
        L[r2 + j] = s2 / d;
        L[r3 + j] = s3 / d;
      } else {
        for (let r = first; r < i1; r++) {
          const rr = r * n;
          let s = A[rr + j]!;
          for (let k = 0; k < j; k++) s -= L[rr + k]! * L[rj + k]!;
          L[rr + j] = r === j ? pivot(r, s) : s / L[rj + j]!;
        }
      }
    }
  }
  return mat64(n, n, L);
}

/** Solve A X = B given A's Cholesky factor L (B: [n × m]); returns X. */
export function choleskySolve64(L: Mat64, b: Mat64): Mat64 {
  const n = L.rows;
  const m = b.cols;
  if (b.rows !== n) throw new RangeError(`choleskySolve64: right-hand side has ${b.rows} rows, the matrix ${n}`);
  const x = new Float64Array(b.data);
  // Forward: L Y = B.
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let k = 0; k < i; k++) {
      const lik = L.data[ri + k]!;
      if (lik === 0) continue;
      for (let j = 0; j < m; j++) x[i * m + j]! -= lik * x[k * m + j]!;
    }
    const d = L.data[ri + i]!;
    for (let j = 0; j < m; j++) x[i * m + j]! /= d;
  }
  // Backward: Lᵀ X = Y.
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) {
      const lki = L.data[k * n + i]!;
      if (lki === 0) continue;
      for (let j = 0; j < m; j++) x[i * m + j]! -= lki * x[k * m + j]!;
    }
    const d = L.data[i * n + i]!;
    for (let j = 0; j < m; j++) x[i * m + j]! /= d;
  }
  return mat64(n, m, x);
}

/** Solve A X = B for a general square A (LU with partial pivoting). */
export function solve64(a: Mat64, b: Mat64): Mat64 {
  const n = a.rows;
  const m = b.cols;
  if (a.cols !== n || b.rows !== n) throw new RangeError(`solve64: [${a.rows}×${a.cols}] X = [${b.rows}×${b.cols}]`);
  const A = new Float64Array(a.data);
  const X = new Float64Array(b.data);
  for (let c = 0; c < n; c++) {
    let p = c;
    let best = Math.abs(A[c * n + c]!);
    for (let r = c + 1; r < n; r++) {
      const v = Math.abs(A[r * n + c]!);
      if (v > best) [p, best] = [r, v];
    }
    if (best === 0) throw new RangeError(`solve64: matrix is singular (column ${c})`);
    if (p !== c) {
      for (let j = 0; j < n; j++) [A[c * n + j], A[p * n + j]] = [A[p * n + j]!, A[c * n + j]!];
      for (let j = 0; j < m; j++) [X[c * m + j], X[p * m + j]] = [X[p * m + j]!, X[c * m + j]!];
    }
    const piv = A[c * n + c]!;
    for (let r = c + 1; r < n; r++) {
      const f = A[r * n + c]! / piv;
      if (f === 0) continue;
      for (let j = c; j < n; j++) A[r * n + j]! -= f * A[c * n + j]!;
      for (let j = 0; j < m; j++) X[r * m + j]! -= f * X[c * m + j]!;
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    for (let k = r + 1; k < n; k++) {
      const f = A[r * n + k]!;
      if (f === 0) continue;
      for (let j = 0; j < m; j++) X[r * m + j]! -= f * X[k * m + j]!;
    }
    const d = A[r * n + r]!;
    for (let j = 0; j < m; j++) X[r * m + j]! /= d;
  }
  return mat64(n, m, X);
}

/**
 * Eigen-decomposition of a symmetric matrix: A = V diag(w) Vᵀ, eigenvalues ascending, V's columns
 * the eigenvectors (row-major [n × n]). Householder tridiagonalisation then the implicit QL
 * algorithm (tred2 / tql2 of EISPACK as in the public-domain JAMA library), O(n³).
 */
export function symEig64(a: Mat64): { values: Float64Array; vectors: Mat64 } {
  const n = a.rows;
  if (a.cols !== n) throw new RangeError("symEig64: matrix is not square");
  // Work column-major-agnostic: V[i][j] as V[i*n+j]; A is symmetric so layout is moot.
  const V = new Float64Array(a.data);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tred2(n, V, d, e);
  tql2(n, V, d, e);
  return { values: d, vectors: mat64(n, n, V) };
}

function tred2(n: number, V: Float64Array, d: Float64Array, e: Float64Array): void {
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j]!;
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k]! /= scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        V[j * n + i] = f;
        g = e[j]! + V[j * n + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j]! * d[k]!;
          e[k]! += V[k * n + j]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j]! /= h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j]! -= hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) V[k * n + j]! -= f * e[k]! + g * d[k]!;
        d[j] = V[(i - 1) * n + j]!;
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i]!;
    V[i * n + i] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1]! / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1]! * V[k * n + j]!;
        for (let k = 0; k <= i; k++) V[k * n + j]! -= g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[(n - 1) * n + j]!;
    V[(n - 1) * n + j] = 0;
  }
  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

function tql2(n: number, V: Float64Array, d: Float64Array, e: Float64Array): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      do {
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i]! -= h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          for (let k = 0; k < n; k++) {
            const vk = k * n;
            h = V[vk + i + 1]!;
            V[vk + i + 1] = s * V[vk + i]! + c * h;
            V[vk + i] = c * V[vk + i]! - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
  // Sort ascending, permuting columns of V.
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i]!;
    for (let j = i + 1; j < n; j++) if (d[j]! < p) [k, p] = [j, d[j]!];
    if (k !== i) {
      d[k] = d[i]!;
      d[i] = p;
      for (let j = 0; j < n; j++) [V[j * n + i], V[j * n + k]] = [V[j * n + k]!, V[j * n + i]!];
    }
  }
}
