/** Levenshtein distance, used to turn typos into "did you mean …" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/**
 * The valid choice closest to `input` (case-insensitive match first), or undefined when nothing is
 * close enough to be a plausible typo (distance above max(2, a third of the input's length)).
 */
export function closest(input: string, choices: readonly string[]): string | undefined {
  const lower = input.toLowerCase();
  const exactCase = choices.find((c) => c.toLowerCase() === lower);
  if (exactCase) return exactCase;
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of choices) {
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= Math.max(2, Math.floor(input.length / 3)) ? best : undefined;
}

/** " Did you mean 'x'?" or "" — ready to append to an error message. */
export function didYouMean(input: string, choices: readonly string[]): string {
  const c = closest(input, choices);
  return c === undefined ? "" : ` Did you mean '${c}'?`;
}
