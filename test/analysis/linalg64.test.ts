/** Float64 linear algebra of the editors and probes (analysis/linalg64.ts) against worked examples and identities. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { cholesky64, choleskySolve64, mat64, matmul64, solve64, symEig64, transpose64 } from "../../src/analysis/linalg64.js";

function spd(n: number, seed = 1): Float64Array {
  let s = seed;
  const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5;
  const a = mat64(n, n, Float64Array.from({ length: n * n }, rnd));
  const A = matmul64(a, transpose64(a));
  for (let i = 0; i < n; i++) A.data[i * n + i]! += 0.1;
  return A.data;
}

test("symEig64: [[2,1],[1,2]] has eigenvalues 1 and 3 with eigenvectors (1,−1)/√2 and (1,1)/√2", () => {
  const { values, vectors } = symEig64(mat64(2, 2, Float64Array.from([2, 1, 1, 2])));
  assert.ok(Math.abs(values[0]! - 1) < 1e-14 && Math.abs(values[1]! - 3) < 1e-14, `${values}`);
  const v1 = [vectors.data[0]!, vectors.data[2]!];
  assert.ok(Math.abs(Math.abs(v1[0]!) - Math.SQRT1_2) < 1e-14 && Math.abs(v1[0]! + v1[1]!) < 1e-14);
});

test("symEig64 reconstructs a random 40×40 SPD matrix with orthonormal eigenvectors, ascending", () => {
  const n = 40;
  const A = spd(n);
  const { values, vectors: V } = symEig64(mat64(n, n, A));
  for (let i = 1; i < n; i++) assert.ok(values[i]! >= values[i - 1]!);
  const D = mat64(n, n);
  for (let i = 0; i < n; i++) D.data[i * n + i] = values[i]!;
  const R = matmul64(matmul64(V, D), transpose64(V));
  const I = matmul64(transpose64(V), V);
  for (let i = 0; i < n * n; i++) {
    assert.ok(Math.abs(R.data[i]! - A[i]!) < 1e-11, `A[${i}]`);
    assert.ok(Math.abs(I.data[i]! - (i % (n + 1) === 0 ? 1 : 0)) < 1e-12, `VᵀV[${i}]`);
  }
});

test("Cholesky solve and LU solve agree and satisfy A X = B", () => {
  const n = 25;
  const A = mat64(n, n, spd(n, 5));
  const B = mat64(n, 3, Float64Array.from({ length: n * 3 }, (_, i) => Math.sin(i)));
  const x1 = choleskySolve64(cholesky64(A), B);
  const x2 = solve64(A, B);
  const AX = matmul64(A, x1);
  for (let i = 0; i < n * 3; i++) {
    assert.ok(Math.abs(x1.data[i]! - x2.data[i]!) < 1e-9 * (1 + Math.abs(x2.data[i]!)));
    assert.ok(Math.abs(AX.data[i]! - B.data[i]!) < 1e-10);
  }
  assert.throws(() => cholesky64(mat64(2, 2, Float64Array.from([1, 2, 2, 1]))), /not positive definite/);
});

test("the four-row Cholesky equals the one-row Cholesky–Crout loop bitwise (sizes not divisible by 4 too)", () => {
  const reference = (A: Float64Array, n: number) => {
    const L = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let s = A[i * n + j]!;
        for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
        L[i * n + j] = i === j ? Math.sqrt(s) : s / L[j * n + j]!;
      }
    }
    return L;
  };
  for (const n of [1, 3, 4, 5, 37, 64]) {
    const A = spd(n, 7);
    assert.deepEqual(cholesky64(mat64(n, n, A)).data, reference(A, n), `n = ${n}`);
  }
});
