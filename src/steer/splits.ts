/**
 * Train / validation / test splits fixed by a seed: a seeded Fisher–Yates shuffle of the item
 * indices, cut by the fractions. Disjoint by construction and the same for the same seed and
 * size on every machine (analysis/rng.ts is platform-independent). Vectors are fitted on train,
 * α and the layer chosen on validation, and test is read once for the final number.
 */
import { Rng } from "../util/rng.js";
import { UsageError } from "../errors.js";

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

export interface Splits {
  train: number[];
  val: number[];
  test: number[];
}

export const DEFAULT_FRACTIONS: SplitFractions = { train: 0.6, val: 0.2, test: 0.2 };

export function splitIndices(n: number, seed: number, fractions: SplitFractions = DEFAULT_FRACTIONS): Splits {
  const { train, val, test } = fractions;
  if (![train, val, test].every((f) => f >= 0) || Math.abs(train + val + test - 1) > 1e-9) {
    throw new UsageError("BAD_SPLIT", `split fractions must be ≥ 0 and sum to 1, got train ${train}, val ${val}, test ${test}`, { fix: "e.g. 0.6 / 0.2 / 0.2" });
  }
  const idx = new Rng(seed).shuffle(Array.from({ length: n }, (_, i) => i));
  const nTrain = Math.round(n * train);
  const nVal = Math.round(n * val);
  return { train: idx.slice(0, nTrain).sort((a, b) => a - b), val: idx.slice(nTrain, nTrain + nVal).sort((a, b) => a - b), test: idx.slice(nTrain + nVal).sort((a, b) => a - b) };
}

/** Pick items by indices. */
export function take<T>(items: readonly T[], indices: readonly number[]): T[] {
  return indices.map((i) => items[i]!);
}
