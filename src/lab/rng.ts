/**
 * Explicit, reproducible randomness for the lab: seeds are derived from a parent seed and a label
 * by hashing, so trial 17 of study seed 0 gets the same seed whether it runs first, last, in a
 * worker process or after a resume.
 */
import { createHash } from "node:crypto";

/** A 32-bit seed derived from `parent` and a label, e.g. deriveSeed(studySeed, "trial", 17). */
export function deriveSeed(parent: number, ...label: (string | number)[]): number {
  const digest = createHash("sha256").update([parent, ...label].join(":")).digest();
  return digest.readUInt32LE(0);
}

/** mulberry32: a small, fast PRNG with good statistical quality for simulation (not crypto). */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal sample (Box–Muller) from a uniform generator. */
export function gaussian(rng: () => number): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
