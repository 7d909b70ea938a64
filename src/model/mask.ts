/**
 * Position ids and attention biases from the attention mask and the KV cache, in plain JS (they
 * depend only on which tokens are real, never on activations, so they need no gradients).
 *
 * Position ids follow transformers' generate(): position_ids = cumsum(mask) − 1 over the whole
 * sequence (cached part included), so a left-padded row starts at position 0 at its first real
 * token; padding positions get 1 (generate's masked_fill(mask == 0, 1)), a value that only has to
 * be a valid index because padding keys are masked out anyway.
 *
 * The bias is additive ([batch, 1, q, k]): 0 where query i may attend key j, MASKED otherwise.
 * Key j is visible to query i (both counted in cache positions, past + t) when j ≤ i, key j is a
 * real token, and, for sliding-window layers, fewer than `window` real tokens lie in [j, i)
 * (transformers' sliding_window_overlay, kv_idx > q_idx − sliding_window, which is i − j < window
 * where no padding lies between: left-padded rows; a cache of right-padded prefixes has padding
 * inside, which counts as no distance). A query whose keys are all masked (a padding query) gets a
 * uniform, finite pattern instead of NaN; its output is never used by real tokens.
 */
import { numpy as np } from "@jax-js/jax";
import type { Arr } from "./types.js";

/** Added to disallowed scores: exp() underflows to exactly 0 after softmax's max subtraction. */
export const MASKED = -1e9;

export interface MaskPlan {
  batch: number;
  /** Tokens in this call. */
  len: number;
  /** Cached positions before this call. */
  past: number;
  /** [batch][len] position ids. */
  positionIds: number[][];
  /** [batch][past + len] 1 for real tokens. */
  keyMask: number[][];
  /** Whether any key is padding (otherwise one causal bias serves every row). */
  padded: boolean;
}

export function planMask(batch: number, len: number, past: number, pastMask: number[][] | undefined, mask: number[][] | undefined): MaskPlan {
  const keyMask: number[][] = [];
  const positionIds: number[][] = [];
  let padded = false;
  for (let b = 0; b < batch; b++) {
    const prev = pastMask?.[b] ?? new Array<number>(past).fill(1);
    const cur = mask?.[b] ?? new Array<number>(len).fill(1);
    const row = [...prev, ...cur].map((m) => (m ? 1 : 0));
    let count = 0;
    for (const m of prev) if (m) count++;
    const pos: number[] = [];
    for (const m of cur) {
      if (m) pos.push(count++);
      else pos.push(1);
    }
    if (row.includes(0)) padded = true;
    keyMask.push(row);
    positionIds.push(pos);
  }
  return { batch, len, past, positionIds, keyMask, padded };
}

/**
 * The additive attention bias [batch or 1, 1, len, keys]; `window` for sliding-window layers.
 * `keys` defaults to past + len; a larger value covers a KV cache with room (KVCache.padTo): the
 * extra keys lie after every query, so causality masks them.
 */
export function attentionBias(plan: MaskPlan, window?: number, keys = plan.past + plan.len): Arr {
  const { data, shape } = attentionBiasData(plan, window, keys);
  return np.array(data).reshape(shape);
}

/** attentionBias on the host: the values and their shape [rows, 1, len, keys]. */
export function attentionBiasData(plan: MaskPlan, window?: number, keys = plan.past + plan.len): { data: Float32Array; shape: number[] } {
  const { len, past } = plan;
  const rows = plan.padded ? plan.batch : 1;
  const bias = new Float32Array(rows * len * keys);
  let o = 0;
  for (let b = 0; b < rows; b++) {
    const km = plan.keyMask[b]!;
    // The window counts real tokens: padding inside the cache (ragged prefixes cached side by side) is no distance.
    const realBefore = window === undefined ? undefined : new Int32Array(keys + 1);
    if (realBefore) for (let j = 0; j < keys; j++) realBefore[j + 1] = realBefore[j]! + (km[j] === 1 ? 1 : 0);
    for (let t = 0; t < len; t++) {
      const i = past + t;
      for (let j = 0; j < keys; j++, o++) {
        const visible = j <= i && km[j] === 1 && (!realBefore || realBefore[i]! - realBefore[j]! < window!);
        if (!visible) bias[o] = MASKED;
      }
    }
  }
  return { data: bias, shape: [rows, 1, len, keys] };
}
