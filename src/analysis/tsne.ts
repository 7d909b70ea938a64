/**
 * Exact t-SNE (van der Maaten & Hinton 2008, "Visualizing Data using t-SNE", JMLR 9), with the
 * details of scikit-learn's implementation (sklearn/manifold/_t_sne.py, _utils.pyx; method="exact"):
 *
 * 1. Squared Euclidean distances D_ij = ‖x_i − x_j‖².
 * 2. Conditional P (_utils._binary_search_perplexity): per point i, p_j|i = exp(−β_i D_ij) / Σ_k≠i exp(−β_i D_ik),
 *    with β_i found by binary search so that the entropy H_i = ln Σ_k exp(−β_i D_ik) + β_i Σ_j D_ij p_j|i
 *    (nats) equals ln(perplexity) to within 1e-5 (at most 100 steps; β starts at 1, doubles/halves
 *    until bracketed, then bisects).
 * 3. Joint P (_joint_probabilities): P_ij = (p_j|i + p_i|j) / Σ(all) = (p_j|i + p_i|j) / 2n,
 *    floored at machine epsilon.
 * 4. Student-t Q (_kl_divergence, dof = max(dim − 1, 1)): w_ij = (1 + ‖y_i − y_j‖²/dof)^(−(dof+1)/2),
 *    Q_ij = w_ij / Σ_k≠l w_kl (floored at machine epsilon);
 *    KL(P‖Q) = Σ_i≠j P_ij ln(P_ij / Q_ij);
 *    ∂KL/∂y_i = (2(dof+1)/dof) Σ_j (P_ij − Q_ij) w_ij^(2/(dof+1)) (y_i − y_j)  (= 4 Σ_j (P_ij − Q_ij)(1+‖y_i−y_j‖²)⁻¹(y_i − y_j) in 2-D).
 * 5. Gradient descent (_gradient_descent): update ← momentum·update − lr·(gains ⊙ grad), y ← y + update;
 *    gains (delta-bar-delta, Jacobs 1988) +0.2 where update and grad have opposite signs, ×0.8
 *    otherwise, floored at min_gain = 0.01. First 250 iterations with P × early_exaggeration (12) and
 *    momentum 0.5, then momentum 0.8 up to maxIter (1000). Learning rate "auto":
 *    max(n / early_exaggeration / 4, 50). Stops early, as sklearn does (checked every 50
 *    iterations), when ‖grad‖ < 1e-7 or the KL has not improved for 300 iterations (250 in the
 *    exaggerated phase). Each phase starts with update = 0 and gains = 1 (sklearn calls
 *    _gradient_descent afresh).
 * 6. Initialisation: "pca" (sklearn's default) = the first `dim` principal components scaled so the
 *    first has standard deviation 1e-4; "random" = 1e-4 · N(0, 1) from the project's seeded Rng.
 *
 * Everything is float64 on the host: O(n²) per iteration, meant for a few thousand points at most.
 * Not bit-identical to sklearn (different RNG and PCA solver); the algorithm is the same.
 */
import { Rng } from "../util/rng.js";
import { checkRows, pca } from "./pca.js";

const MACHINE_EPSILON = 2.220446049250313e-16; // np.finfo(np.double).eps
const EPSILON_DBL = 1e-8; // _utils.pyx: floor of Σ_j p_j|i
const PERPLEXITY_TOLERANCE = 1e-5;
const EXPLORATION_ITERATIONS = 250;
const CHECK_EVERY = 50;

export interface TsneOptions {
  /** Output dimension (default 2). */
  dim?: number;
  /** Default 30 (sklearn); must be below the number of points. */
  perplexity?: number;
  /** Default 12. */
  earlyExaggeration?: number;
  /** Default "auto": max(n / earlyExaggeration / 4, 50). */
  learningRate?: number | "auto";
  /** Total iterations, exploration included (default 1000; sklearn requires ≥ 250). */
  maxIter?: number;
  /** Default "pca". */
  init?: "pca" | "random";
  /** Seed of the random initialisation (default 0). */
  seed?: number;
  minGradNorm?: number;
  /** Iterations without KL improvement before stopping (default 300). */
  nIterWithoutProgress?: number;
}

export interface TsneResult {
  /** [n][dim] embedding. */
  embedding: Float64Array[];
  /** KL(P‖Q) at the end (without exaggeration). */
  kl: number;
  /** Iterations run. */
  iterations: number;
  /** β_i = 1/(2σ_i²) of each point's conditional distribution. */
  betas: Float64Array;
}

/** Squared Euclidean distances, row-major n × n. */
export function squaredDistances(rows: readonly ArrayLike<number>[]): Float64Array {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  const D = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const t = rows[i]![k]! - rows[j]![k]!;
        s += t * t;
      }
      D[i * n + j] = s;
      D[j * n + i] = s;
    }
  }
  return D;
}

/**
 * Conditional probabilities p_j|i (row i, row-major n × n, zero diagonal) and each row's β, by
 * binary search to the requested perplexity (sklearn _utils._binary_search_perplexity).
 */
export function conditionalP(D: Float64Array, n: number, perplexity: number): { P: Float64Array; betas: Float64Array } {
  if (!(perplexity > 0)) throw new RangeError(`tsne: perplexity must be positive, got ${perplexity}`);
  const P = new Float64Array(n * n);
  const betas = new Float64Array(n);
  const desired = Math.log(perplexity);
  for (let i = 0; i < n; i++) {
    let beta = 1;
    let betaMin = -Infinity;
    let betaMax = Infinity;
    const row = P.subarray(i * n, (i + 1) * n);
    for (let step = 0; step < 100; step++) {
      let sumP = 0;
      for (let j = 0; j < n; j++) {
        row[j] = j === i ? 0 : Math.exp(-D[i * n + j]! * beta);
        sumP += row[j]!;
      }
      if (sumP === 0) sumP = EPSILON_DBL;
      let sumDP = 0;
      for (let j = 0; j < n; j++) {
        row[j] = row[j]! / sumP;
        sumDP += D[i * n + j]! * row[j]!;
      }
      const entropy = Math.log(sumP) + beta * sumDP;
      const diff = entropy - desired;
      if (Math.abs(diff) <= PERPLEXITY_TOLERANCE) break;
      if (diff > 0) {
        betaMin = beta;
        beta = betaMax === Infinity ? beta * 2 : (beta + betaMax) / 2;
      } else {
        betaMax = beta;
        beta = betaMin === -Infinity ? beta / 2 : (beta + betaMin) / 2;
      }
    }
    betas[i] = beta;
  }
  return { P, betas };
}

/** Symmetric joint P_ij = (p_j|i + p_i|j) / Σ, floored at machine epsilon off the diagonal. */
export function jointP(cond: Float64Array, n: number): Float64Array {
  const P = new Float64Array(n * n);
  let sum = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sum += cond[i * n + j]! + cond[j * n + i]!;
  sum = Math.max(sum, MACHINE_EPSILON);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) P[i * n + j] = Math.max((cond[i * n + j]! + cond[j * n + i]!) / sum, MACHINE_EPSILON);
  return P;
}

/**
 * KL(P‖Q) and its gradient with respect to the embedding Y (row-major n × dim), Student-t Q with
 * dof = max(dim − 1, 1) (sklearn _kl_divergence). P must be symmetric with a zero diagonal, as
 * jointP returns it (each pair is visited once). `computeError` false skips the KL sum (NaN is
 * returned), as sklearn does between its convergence checks.
 */
export function klDivergence(P: Float64Array, Y: Float64Array, n: number, dim: number, computeError = true): { kl: number; grad: Float64Array } {
  const dof = Math.max(dim - 1, 1);
  // Unnormalised kernel w_ij (upper triangle used), and Σ_k≠l w_kl.
  const W = new Float64Array(n * n);
  let sumW = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) {
        const t = Y[i * dim + k]! - Y[j * dim + k]!;
        s += t * t;
      }
      const w = dof === 1 ? 1 / (1 + s) : Math.pow(1 + s / dof, -(dof + 1) / 2);
      W[i * n + j] = w;
      sumW += 2 * w;
    }
  }
  let kl = computeError ? 0 : NaN;
  const grad = new Float64Array(n * dim);
  const c = (2 * (dof + 1)) / dof;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const w = W[i * n + j]!;
      const q = Math.max(w / sumW, MACHINE_EPSILON);
      // P is symmetric, so pair (i, j) and (j, i) contribute alike: the KL term twice, and
      // opposite gradient terms to y_i and y_j.
      const p = P[i * n + j]!;
      if (computeError) kl += 2 * p * Math.log(Math.max(p, MACHINE_EPSILON) / q);
      // The exact derivative carries (1 + d/dof)⁻¹ = w^(2/(dof+1)). sklearn multiplies by w itself,
      // which is the same for dof = 1 (2-D embeddings, the usual case) but not the true gradient
      // for dim ≥ 3; the exact term is used here (test/analysis/tsne.test.ts checks it against
      // finite differences in 2-D and 3-D).
      const m = c * (p - q) * (dof === 1 ? w : Math.pow(w, 2 / (dof + 1)));
      for (let k = 0; k < dim; k++) {
        const g = m * (Y[i * dim + k]! - Y[j * dim + k]!);
        grad[i * dim + k]! += g;
        grad[j * dim + k]! -= g;
      }
    }
  }
  return { kl, grad };
}

/** Gradient descent with momentum and gains (sklearn _gradient_descent); returns the last KL and the iteration reached. */
function descend(
  P: Float64Array, Y: Float64Array, n: number, dim: number,
  o: { from: number; to: number; momentum: number; lr: number; minGain: number; minGradNorm: number; withoutProgress: number },
): { kl: number; iteration: number } {
  const state = { update: new Float64Array(n * dim), gains: new Float64Array(n * dim).fill(1) };
  let best = Infinity;
  let bestIter = o.from;
  let kl = Infinity;
  let it = o.from;
  for (; it < o.to; it++) {
    const check = (it + 1) % CHECK_EVERY === 0;
    const r = klDivergence(P, Y, n, dim, check || it === o.to - 1);
    if (check || it === o.to - 1) kl = r.kl;
    const { grad } = r;
    const { update, gains } = state;
    let norm = 0;
    for (let a = 0; a < grad.length; a++) {
      const inc = update[a]! * grad[a]! < 0;
      gains[a] = Math.max(inc ? gains[a]! + 0.2 : gains[a]! * 0.8, o.minGain);
      grad[a] = grad[a]! * gains[a]!;
      update[a] = o.momentum * update[a]! - o.lr * grad[a]!;
      Y[a] = Y[a]! + update[a]!;
      norm += grad[a]! * grad[a]!;
    }
    if (check) {
      if (kl < best) {
        best = kl;
        bestIter = it;
      } else if (it - bestIter > o.withoutProgress) break;
      if (Math.sqrt(norm) <= o.minGradNorm) break;
    }
  }
  return { kl, iteration: Math.min(it + 1, o.to) };
}

export function tsne(rows: readonly ArrayLike<number>[], options: TsneOptions = {}): TsneResult {
  checkRows(rows, "tsne");
  const n = rows.length;
  const dim = options.dim ?? 2;
  const perplexity = options.perplexity ?? 30;
  const ee = options.earlyExaggeration ?? 12;
  const maxIter = options.maxIter ?? 1000;
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`tsne: dim must be a positive integer, got ${dim}`);
  if (!(perplexity > 0 && perplexity < n)) throw new RangeError(`tsne: perplexity (${perplexity}) must be positive and less than the number of points (${n}); lower options.perplexity`);
  if (!(ee >= 1)) throw new RangeError(`tsne: earlyExaggeration must be ≥ 1, got ${ee}`);
  if (!Number.isInteger(maxIter) || maxIter < EXPLORATION_ITERATIONS) throw new RangeError(`tsne: maxIter must be an integer ≥ ${EXPLORATION_ITERATIONS} (the exaggeration phase), got ${maxIter}`);
  const lrOpt = options.learningRate ?? "auto";
  const lr = lrOpt === "auto" ? Math.max(n / ee / 4, 50) : lrOpt;
  if (!(lr > 0)) throw new RangeError(`tsne: learningRate must be positive or "auto", got ${lrOpt}`);

  const D = squaredDistances(rows);
  const { P: cond, betas } = conditionalP(D, n, perplexity);
  const P = jointP(cond, n);

  const Y = new Float64Array(n * dim);
  const init = options.init ?? "pca";
  if (init === "pca") {
    if (dim > rows[0]!.length) throw new RangeError(`tsne: init "pca" needs dim ≤ the input dimension (${rows[0]!.length}); use init "random"`);
    const proj = pca(rows, dim).projection;
    let m = 0;
    for (const p of proj) m += p[0]! / n;
    let v = 0;
    for (const p of proj) v += (p[0]! - m) ** 2 / n; // np.std: ddof = 0
    const scale = v > 0 ? 1e-4 / Math.sqrt(v) : 1;
    proj.forEach((p, i) => p.forEach((x, k) => (Y[i * dim + k] = x * scale)));
  } else if (init === "random") {
    const rng = new Rng(options.seed ?? 0);
    for (let a = 0; a < Y.length; a++) Y[a] = 1e-4 * rng.normal();
  } else {
    throw new RangeError(`tsne: init must be "pca" or "random", got ${String(init)}`);
  }

  const common = { lr, minGain: 0.01, minGradNorm: options.minGradNorm ?? 1e-7 };
  const withoutProgress = options.nIterWithoutProgress ?? 300;
  for (let a = 0; a < P.length; a++) P[a] = P[a]! * ee;
  const explore = descend(P, Y, n, dim, { ...common, from: 0, to: EXPLORATION_ITERATIONS, momentum: 0.5, withoutProgress: EXPLORATION_ITERATIONS });
  for (let a = 0; a < P.length; a++) P[a] = P[a]! / ee;
  let iterations = explore.iteration;
  if (iterations < maxIter) {
    const r = descend(P, Y, n, dim, { ...common, from: iterations, to: maxIter, momentum: 0.8, withoutProgress });
    iterations = r.iteration;
  }
  const kl = klDivergence(P, Y, n, dim).kl;
  const embedding = Array.from({ length: n }, (_, i) => Y.slice(i * dim, (i + 1) * dim));
  return { embedding, kl, iterations, betas };
}
