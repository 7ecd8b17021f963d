// Learning-rate schedule of the paper: linear warm-up over the first few percent of the
// steps, then cosine decay to zero.

export const DEFAULT_WARMUP_FRACTION = 0.03;

/**
 * Learning rate for optimizer step `step` (0-based) of `totalSteps`. Warm-up ramps
 * (step+1)/warmup so the first update already moves the parameters.
 */
export function cosineWithWarmup(step: number, totalSteps: number, peakLr: number, warmupFraction = DEFAULT_WARMUP_FRACTION): number {
  const warmup = Math.max(1, Math.ceil(warmupFraction * totalSteps));
  if (step < warmup) return (peakLr * (step + 1)) / warmup;
  const progress = Math.min(1, (step - warmup) / Math.max(1, totalSteps - warmup));
  return 0.5 * peakLr * (1 + Math.cos(Math.PI * progress));
}
