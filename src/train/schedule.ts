/**
 * Learning-rate schedule: linear warmup from 0 to `peak` over `warmupSteps`, then cosine decay to
 * `peak · minLrRatio` at `totalSteps` — Hugging Face's get_cosine_schedule_with_warmup
 * (transformers/optimization.py, _get_cosine_schedule_with_warmup_lr_lambda, num_cycles = 0.5)
 * with a floor, as in get_cosine_with_min_lr_schedule_with_warmup (min_lr_rate):
 *
 *   step < warmup:  lr = peak · step / max(1, warmup)
 *   otherwise:      progress = (step − warmup) / max(1, total − warmup)
 *                   cosine = 0.5 · (1 + cos(π · progress))
 *                   lr = peak · (minLrRatio + (1 − minLrRatio) · cosine)
 *
 * `step` is the 0-based index of the optimizer step about to run (HF's LambdaLR calls the lambda
 * with the number of steps already taken), so the first step runs at lr 0 when warmup > 0, as HF.
 * Past totalSteps the lr stays at the floor (progress clamped to 1).
 */
export interface ScheduleOptions {
  peak: number;
  warmupSteps: number;
  totalSteps: number;
  minLrRatio: number;
}

export function learningRate(step: number, o: ScheduleOptions): number {
  if (step < o.warmupSteps) return (o.peak * step) / Math.max(1, o.warmupSteps);
  const progress = Math.min(1, (step - o.warmupSteps) / Math.max(1, o.totalSteps - o.warmupSteps));
  const cosine = 0.5 * (1 + Math.cos(Math.PI * progress));
  return o.peak * (o.minLrRatio + (1 - o.minLrRatio) * cosine);
}
