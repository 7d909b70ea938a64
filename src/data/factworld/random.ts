/** Seeded choices for the fact world's generators (one Rng stream per purpose, so parts stay independent). */
import { Rng, deriveSeed } from "../../util/rng.js";

export function rngFor(seed: number, stream: number): Rng {
  return new Rng(deriveSeed(seed, stream));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)]!;
}

/** Fisher–Yates shuffle of a copy. */
export function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Streams: each generator draws from its own, so adding a part never changes another's output. */
export const STREAM = {
  names: 1,
  facts: 2,
  corpus: 3,
  arithmeticTrain: 4,
  arithmeticTest: 5,
  behaviour: 6,
  tools: 7,
  counterfact: 8,
  zsre: 9,
  behaviourTest: 10,
  toolsTest: 11,
  /** tools.ts toolEvalSet: the tool-call evaluation set (positive / negative / out-of-distribution). */
  toolsEval: 12,
  /** tools.ts toolSftExamples: train-split prompt/completion pairs for fine-tuning. */
  toolsSft: 13,
  /** world.ts: genders of an attribute world's people (FACTWORLD_M_SIZE). */
  attributes: 14,
  /** profiles.ts: an attribute world's pronoun and demonym text. */
  profiles: 15,
  /** seesaw-exports.ts: the seesaw-style pair files. */
  seesaw: 16,
} as const;
