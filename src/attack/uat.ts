/**
 * Universal adversarial triggers (Wallace et al. 2019, "Universal Adversarial Triggers for
 * Attacking and Analyzing NLP", §2; reference code Eric-Wallace/universal-triggers): one sequence
 * of k tokens, prepended to every input of a batch, chosen to push a loss over the whole batch.
 * Each iteration:
 *
 *   1. g_i = mean over the batch of ∂L/∂e at trigger position i (the HotFlip linearisation);
 *   2. per trigger position, candidates = the `candidates` tokens b with the best (e_b − e_{t_i}) · g_i
 *      (largest for an untargeted attack that raises the loss of the correct continuation,
 *      smallest for a targeted one that lowers a target string's loss);
 *   3. every candidate trigger (one position changed) is scored by its true batch loss, and the
 *      best replaces the trigger only if it improves the objective — so the objective never gets
 *      worse than the initial trigger's (the reference's beam search with beam 1).
 *
 * The trigger goes right after a leading BOS (when the rows start with one), else first.
 */
import type { Model } from "../model/types.js";
import { bestFirstOrderSwaps } from "./hotflip.js";
import { candidateVocabulary, lossAndEmbeddingGrad, rowLosses, tokenEmbeddings, type AttackRow } from "./objective.js";

export interface UatOptions {
  /** Trigger length k (default 3). */
  length?: number;
  /** Initial trigger (default k copies of the first allowed token, as the reference's "the the the"). */
  init?: number[];
  /** "untargeted": raise the rows' target loss (default); "targeted": lower it (the rows' targets are the wanted string). */
  goal?: "untargeted" | "targeted";
  /** Iterations (default 10). */
  iterations?: number;
  /** Candidates per trigger position and iteration (default 8). */
  candidates?: number;
}

export interface UatStep {
  iteration: number;
  trigger: number[];
  /** Mean target loss over the batch with this trigger. */
  loss: number;
}

export interface UatResult {
  trigger: number[];
  /** Mean target loss without any trigger, with the initial and with the final trigger. */
  lossClean: number;
  lossInitial: number;
  lossFinal: number;
  /** Per-row target losses without and with the final trigger. */
  rowsClean: number[];
  rowsTriggered: number[];
  history: UatStep[];
}

/** `row` with `trigger` inserted after a leading BOS (or first). */
export function withTrigger(row: AttackRow, trigger: readonly number[], bos: number | undefined): AttackRow {
  const at = row.tokens[0] === bos && bos !== undefined ? 1 : 0;
  return { tokens: [...row.tokens.slice(0, at), ...trigger, ...row.tokens.slice(at)], targetStart: row.targetStart + trigger.length };
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

export async function universalTrigger(model: Model, rows: readonly AttackRow[], options: UatOptions = {}): Promise<UatResult> {
  const k = options.length ?? 3;
  const sign = (options.goal ?? "untargeted") === "untargeted" ? 1 : -1;
  const bos = model.tokenizer.bosId;
  const allowed = candidateVocabulary(model);
  const E = await tokenEmbeddings(model);
  const d = model.config.dModel;
  let trigger = options.init ? [...options.init] : new Array<number>(k).fill(allowed.indexOf(1));
  if (trigger.length !== k && options.init) throw new RangeError(`init has ${trigger.length} tokens, length is ${k}`);
  const triggered = (t: readonly number[]) => rows.map((r) => withTrigger(r, t, bos));
  const rowsClean = await rowLosses(model, rows);
  let loss = mean(await rowLosses(model, triggered(trigger)));
  const lossInitial = loss;
  const history: UatStep[] = [{ iteration: 0, trigger: [...trigger], loss }];
  const at = rows[0]!.tokens[0] === bos && bos !== undefined ? 1 : 0;
  for (let it = 1; it <= (options.iterations ?? 10); it++) {
    const { grads } = await lossAndEmbeddingGrad(model, triggered(trigger));
    // Batch-mean gradient at the trigger positions, sign-adjusted so that "larger is better".
    const g = new Float32Array(k * d);
    for (const gr of grads) for (let i = 0; i < k; i++) for (let j = 0; j < d; j++) g[i * d + j]! += (sign * gr[(at + i) * d + j]!) / grads.length;
    const candidates: number[][] = [];
    for (let i = 0; i < k; i++) {
      for (const f of bestFirstOrderSwaps(trigger, g, E, d, [i], allowed, options.candidates ?? 8)) {
        const t = trigger.slice();
        t[i] = f.to;
        candidates.push(t);
      }
    }
    // All candidates' rows in one scoring pass.
    const all = await rowLosses(model, candidates.flatMap(triggered));
    let best: { t: number[]; loss: number } | undefined;
    candidates.forEach((t, c) => {
      const l = mean(all.slice(c * rows.length, (c + 1) * rows.length));
      if (sign * l > sign * (best?.loss ?? loss)) best = { t, loss: l };
    });
    if (best) {
      trigger = best.t;
      loss = best.loss;
    }
    history.push({ iteration: it, trigger: [...trigger], loss });
    if (!best) break; // no candidate improves: a local optimum of the search
  }
  return { trigger, lossClean: mean(rowsClean), lossInitial, lossFinal: loss, rowsClean, rowsTriggered: await rowLosses(model, triggered(trigger)), history };
}
