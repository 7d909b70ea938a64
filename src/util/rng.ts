/**
 * All of scalpel's seeded randomness, in one module (browser-safe: 32-bit integer math only):
 *
 * - `Rng`: xoshiro128** (Blackman & Vigna, 2018, https://prng.di.unimi.it/) seeded through
 *   splitmix32 — bootstrap, samplers, splits, data generators; `Rng.forRow(seed, row)` is the
 *   token sampler's per-row stream (model/generate.ts);
 * - `deriveSeed(seed, ...labels)`: the one way to derive an independent seed (a trial's, a
 *   stage's, an epoch's) from a parent seed and labels (numbers, or strings such as "trial");
 * - `makeRng` / `gaussian`: mulberry32 uniforms and Box–Muller normals, for the streams that
 *   recorded results were made with (the engine's test kind, causal tracing's noise).
 *
 * Not cryptographic. Not bit-compatible with numpy (no JS library is); reproducibility is within
 * scalpel: a seed in, the same numbers out.
 */

import { sha256Bytes } from "./hash.js";

/** splitmix32 step (the 32-bit variant of Steele et al.'s splitmix64), used to expand a seed. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Mix a seed with further labels (trial number, resample index, "stage", a stage's name …) into a
 * new 32-bit seed, so that independent streams can be derived without sharing state:
 * deriveSeed(7, "trial", 3) is the seed of trial 3 of the study seeded 7 whichever process
 * computes it. Integer labels mix in directly; string labels by their SHA-256.
 */
export function deriveSeed(seed: number, ...keys: (number | string)[]): number {
  const st = { s: toUint32(seed) };
  let h = splitmix32(st);
  for (const k of keys) {
    st.s = (h ^ (typeof k === "string" ? labelId(k) : toUint32(k))) | 0;
    h = splitmix32(st);
    h = splitmix32(st);
  }
  return h;
}

/** A string label as a uint32: the first 4 bytes (little-endian) of its SHA-256. */
function labelId(label: string): number {
  const b = sha256Bytes(label);
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

/** Any finite number to a uint32 (fractional and negative seeds are allowed and distinct). */
function toUint32(x: number): number {
  if (!Number.isFinite(x)) throw new RangeError(`seed must be a finite number, got ${x}`);
  if (Number.isInteger(x) && x >= 0 && x <= 0xffffffff) return x >>> 0;
  // Hash the float's bytes so e.g. -1 and 4294967295 give different streams.
  const f = new Float64Array([x]);
  const u = new Uint32Array(f.buffer);
  return (Math.imul(u[0]! ^ 0x5bd1e995, 0x27d4eb2d) ^ u[1]!) >>> 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | undefined;

  constructor(seed: number) {
    const st = { s: toUint32(seed) };
    this.s0 = splitmix32(st);
    this.s1 = splitmix32(st);
    this.s2 = splitmix32(st);
    this.s3 = splitmix32(st);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // all-zero state is a fixed point
  }

  /**
   * The token sampler's stream for batch row `row` (model/generate.ts): its own expansion of the
   * seed (seeds above 2^32 still matter), kept so that recorded generations reproduce.
   */
  static forRow(seed: number, row = 0): Rng {
    let x = (Math.trunc(seed) ^ Math.imul(row + 1, 0x9e3779b9)) >>> 0;
    const hi = Math.floor(Math.trunc(seed) / 2 ** 32) >>> 0;
    x = (x ^ Math.imul(hi, 0x85ebca6b)) >>> 0;
    const s: number[] = [];
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      s.push((z ^ (z >>> 16)) >>> 0);
    }
    if (!s.some((v) => v !== 0)) s[0] = 1; // all-zero state is a fixed point
    return Rng.fromState(s[0]!, s[1]!, s[2]!, s[3]!);
  }

  /** A generator with an explicit xoshiro128** state (for reference test vectors). */
  static fromState(s0: number, s1: number, s2: number, s3: number): Rng {
    const r = new Rng(0);
    r.s0 = s0 | 0;
    r.s1 = s1 | 0;
    r.s2 = s2 | 0;
    r.s3 = s3 | 0;
    return r;
  }

  /** Next uint32 (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform double in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.random();
  }

  /** Uniform integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!(n >= 1) || !Number.isInteger(n)) throw new RangeError(`int(n) needs a positive integer, got ${n}`);
    if (n <= 0x100000000) {
      // Rejection sampling on 32 bits.
      const limit = Math.floor(0x100000000 / n) * n;
      for (;;) {
        const r = this.nextUint32();
        if (r < limit) return r % n;
      }
    }
    return Math.floor(this.random() * n);
  }

  /** Standard normal (Marsaglia polar method; the second value is kept for the next call). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return mean + std * z;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * this.random() - 1;
      v = 2 * this.random() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * f;
    return mean + std * u * f;
  }

  /** Index drawn with probability proportional to `weights` (non-negative, positive sum). */
  choiceIndex(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i]!;
    const u = this.random() * total;
    let acc = 0;
    for (let i = 0; i < weights.length; i++) {
      acc += weights[i]!;
      if (u < acc) return i;
    }
    // Rounding: fall back to the last index with positive weight.
    for (let i = weights.length - 1; i >= 0; i--) if (weights[i]! > 0) return i;
    throw new RangeError("choiceIndex: weights must have a positive sum");
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** mulberry32: a small, fast PRNG (not crypto); uniforms in [0, 1). */
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
