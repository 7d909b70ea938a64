/**
 * TIES merging of WISE's side-memory shards (Yadav et al. 2023, "TIES-Merging"), as EasyEdit's
 * WISE calls it: merge_dict["ties"] = GTA("magnitude", "sum", normalize=True)
 * (easyeditor/models/wise/merge/gta.py, merge/utils.py). For a base W₀ and shards W₁…W_n with
 * weights w_i and density ρ:
 *
 *   δ_i   = W_i − W₀                                   (get_task_vectors)
 *   δ̂_i   = δ_i ⊙ [|δ_i| among the top k = ⌊ρ·N⌋ of |δ_i|]   (magnitude: trim; ρ ≥ 1 keeps all)
 *   σ     = sign(Σ_i w_i·δ̂_i), with 0 counted as +           (get_mask "sum": elect the sign)
 *   m_i   = [sign(w_i·δ̂_i) = σ]                             (zeros never agree: sign 0 ≠ ±1)
 *   W     = W₀ + Σ_i m_i·w_i·δ̂_i / Σ_i m_i·w_i               (disjoint mean; divisor 0 → 1)
 *
 * Host-side (Float32Array) because merging happens once per merge_freq edits on one matrix.
 * torch.topk's order among equal magnitudes is unspecified; here the earlier index wins.
 */

/** Keep the k = ⌊density·N⌋ largest-magnitude entries of `delta` (merge/utils.py `magnitude`). */
export function trimByMagnitude(delta: Float32Array, density: number): Float32Array {
  if (density >= 1) return delta.slice();
  const k = Math.floor(density * delta.length);
  if (k <= 0) throw new RangeError(`WISE densities ${density} keeps no entry of a ${delta.length}-entry shard: use a density in (1/${delta.length}, 1]`);
  const order = Array.from(delta.keys()).sort((a, b) => Math.abs(delta[b]!) - Math.abs(delta[a]!) || a - b);
  const out = new Float32Array(delta.length);
  for (let j = 0; j < k; j++) out[order[j]!] = delta[order[j]!]!;
  return out;
}

/**
 * TIES merge of `shards` onto `base` (GTA.execute with sparsify "magnitude", consensus "sum",
 * normalize). `weights[i]` weighs shard i. Returns the merged matrix (same length as base).
 */
export function tiesMerge(base: Float32Array, shards: readonly Float32Array[], weights: readonly number[], density: number): Float32Array {
  if (shards.length !== weights.length) throw new RangeError(`TIES merge: ${shards.length} shards but ${weights.length} weights`);
  if (shards.length === 0) return base.slice();
  for (const s of shards) if (s.length !== base.length) throw new RangeError(`TIES merge: a shard has ${s.length} entries, the base ${base.length}`);
  const deltas = shards.map((s) => trimByMagnitude(s.map((v, j) => v - base[j]!), density));
  const out = new Float32Array(base.length);
  for (let j = 0; j < base.length; j++) {
    let sum = 0;
    for (let i = 0; i < deltas.length; i++) sum += weights[i]! * deltas[i]![j]!;
    const elected = sum >= 0 ? 1 : -1;
    let mixed = 0;
    let divisor = 0;
    for (let i = 0; i < deltas.length; i++) {
      const wd = weights[i]! * deltas[i]![j]!;
      if (Math.sign(wd) === elected) {
        mixed += wd;
        divisor += weights[i]!;
      }
    }
    out[j] = base[j]! + mixed / (divisor === 0 ? 1 : divisor);
  }
  return out;
}
