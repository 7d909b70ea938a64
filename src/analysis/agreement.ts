/**
 * Inter-rater agreement.
 *
 * Cohen's kappa (Cohen 1960): κ = (p_o − p_e) / (1 − p_e), p_o the observed agreement, p_e the
 * chance agreement from the two raters' marginals. Weighted κ (Cohen 1968; as
 * sklearn.metrics.cohen_kappa_score(weights="linear"|"quadratic")): κ = 1 − Σ w·O / Σ w·E.
 *
 * Fleiss' kappa (Fleiss 1971), for N subjects each rated by the same n raters into k categories,
 * counts n_ij: P_i = (Σ_j n_ij² − n) / (n(n − 1)), P̄ = mean P_i, p_j = Σ_i n_ij / (N n),
 * P̄_e = Σ_j p_j², κ = (P̄ − P̄_e) / (1 − P̄_e).
 *
 * Krippendorff's alpha (Krippendorff, "Computing Krippendorff's Alpha-Reliability", 2011), any
 * number of observers, missing values allowed: build the coincidence matrix
 * o_ck = Σ_u (number of c–k pairs of values in unit u, from different observers) / (m_u − 1) over
 * units with m_u ≥ 2 values, n_c = Σ_k o_ck, n = Σ_c n_c, then
 * α = 1 − (n − 1) · Σ_{c,k} o_ck δ²_ck / Σ_{c,k} n_c n_k δ²_ck, with metric differences
 *   nominal δ² = [c ≠ k];  interval δ² = (c − k)²;  ratio δ² = ((c − k)/(c + k))²;
 *   ordinal δ²_ck = (Σ_{g from c to k} n_g − (n_c + n_k)/2)²  (values ranked in sorted order).
 * The same definitions are implemented by the `krippendorff` Python package.
 */

export type Label = string | number | boolean;

export function cohenKappa(a: readonly Label[], b: readonly Label[], weights?: "linear" | "quadratic"): number {
  if (a.length !== b.length) throw new RangeError(`cohenKappa: raters must rate the same items (${a.length} vs ${b.length})`);
  if (a.length === 0) throw new RangeError("cohenKappa: no items");
  const cats = sortedCategories([...a, ...b]);
  const idx = new Map(cats.map((c, i) => [c, i] as const));
  const k = cats.length;
  const O = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < a.length; i++) O[idx.get(a[i]!)!]![idx.get(b[i]!)!]!++;
  const n = a.length;
  const rows = O.map((r) => r.reduce((s, x) => s + x, 0));
  const cols = cats.map((_, j) => O.reduce((s, r) => s + r[j]!, 0));
  let num = 0;
  let den = 0;
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      const w = weights === "linear" ? Math.abs(i - j) : weights === "quadratic" ? (i - j) ** 2 : i === j ? 0 : 1;
      num += w * O[i]![j]!;
      den += (w * rows[i]! * cols[j]!) / n;
    }
  return den === 0 ? NaN : 1 - num / den;
}

/**
 * Fleiss' kappa from a subjects × categories count table (each row sums to the number of raters).
 */
export function fleissKappa(counts: readonly (readonly number[])[]): number {
  const N = counts.length;
  if (N === 0) throw new RangeError("fleissKappa: no subjects");
  const n = counts[0]!.reduce((s, x) => s + x, 0);
  if (n < 2) throw new RangeError("fleissKappa: needs at least 2 ratings per subject");
  const k = counts[0]!.length;
  const colSums = new Array<number>(k).fill(0);
  let Pbar = 0;
  for (const row of counts) {
    if (row.length !== k) throw new RangeError("fleissKappa: every row needs one count per category");
    const rs = row.reduce((s, x) => s + x, 0);
    if (rs !== n) throw new RangeError(`fleissKappa: every subject needs the same number of ratings (${rs} vs ${n})`);
    let sq = 0;
    row.forEach((x, j) => {
      sq += x * x;
      colSums[j]! += x;
    });
    Pbar += (sq - n) / (n * (n - 1));
  }
  Pbar /= N;
  const Pe = colSums.reduce((s, c) => s + (c / (N * n)) ** 2, 0);
  return (Pbar - Pe) / (1 - Pe);
}

/** Category counts per subject from raw ratings (subjects × raters) for fleissKappa. */
export function ratingsToCounts(ratings: readonly (readonly Label[])[]): { categories: Label[]; counts: number[][] } {
  const categories = sortedCategories(ratings.flat());
  const idx = new Map(categories.map((c, i) => [c, i] as const));
  const counts = ratings.map((r) => {
    const row = new Array<number>(categories.length).fill(0);
    for (const x of r) row[idx.get(x)!]!++;
    return row;
  });
  return { categories, counts };
}

export type AlphaLevel = "nominal" | "ordinal" | "interval" | "ratio";

/**
 * Krippendorff's alpha. `data` is observers × units (reliability data matrix); null/undefined/NaN
 * mark missing values. Ordinal/interval/ratio need numeric values.
 */
export function krippendorffAlpha(data: readonly (readonly (Label | null | undefined)[])[], level: AlphaLevel = "nominal"): number {
  if (data.length === 0) throw new RangeError("krippendorffAlpha: no observers");
  const nUnits = Math.max(...data.map((r) => r.length));
  const present = (v: Label | null | undefined): v is Label => v !== null && v !== undefined && !(typeof v === "number" && Number.isNaN(v));
  const values = sortedCategories(data.flat().filter(present));
  if (level !== "nominal" && values.some((v) => typeof v !== "number"))
    throw new RangeError(`krippendorffAlpha: level "${level}" needs numeric values`);
  const idx = new Map(values.map((v, i) => [v, i] as const));
  const V = values.length;
  const o = Array.from({ length: V }, () => new Array<number>(V).fill(0));
  for (let u = 0; u < nUnits; u++) {
    const vals: number[] = [];
    for (const row of data) {
      const v = row[u];
      if (present(v)) vals.push(idx.get(v)!);
    }
    const m = vals.length;
    if (m < 2) continue; // unpairable
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (i !== j) o[vals[i]!]![vals[j]!]! += 1 / (m - 1);
  }
  const nc = o.map((r) => r.reduce((s, x) => s + x, 0));
  const n = nc.reduce((s, x) => s + x, 0);
  if (n === 0) throw new RangeError("krippendorffAlpha: no unit has two or more values");
  const delta2 = (c: number, k: number): number => {
    if (c === k) return 0;
    const vc = values[c] as number;
    const vk = values[k] as number;
    switch (level) {
      case "nominal":
        return 1;
      case "interval":
        return (vc - vk) ** 2;
      case "ratio":
        return vc + vk === 0 ? 0 : ((vc - vk) / (vc + vk)) ** 2;
      case "ordinal": {
        const [lo, hi] = c < k ? [c, k] : [k, c];
        let s = 0;
        for (let g = lo; g <= hi; g++) s += nc[g]!;
        return (s - (nc[c]! + nc[k]!) / 2) ** 2;
      }
    }
  };
  let Do = 0;
  let De = 0;
  for (let c = 0; c < V; c++)
    for (let k = 0; k < V; k++) {
      const d = delta2(c, k);
      Do += o[c]![k]! * d;
      De += nc[c]! * nc[k]! * d;
    }
  if (De === 0) return NaN;
  return 1 - ((n - 1) * Do) / De;
}

/** Distinct labels, numbers ascending, then strings/booleans in lexical order. */
function sortedCategories(xs: readonly Label[]): Label[] {
  const uniq = [...new Set(xs)];
  return uniq.sort((p, q) => {
    if (typeof p === "number" && typeof q === "number") return p - q;
    if (typeof p === "number") return -1;
    if (typeof q === "number") return 1;
    return String(p) < String(q) ? -1 : String(p) > String(q) ? 1 : 0;
  });
}
