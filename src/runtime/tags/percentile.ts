// Percentiles among approved drugs (as ADMET-AI shows them): a bundle stores 101 quantiles
// (0th..100th percentile) of a tag's predictions on the FDA-approved molecules of ClinTox, and a
// new value's percentile is read back by linear interpolation between them.

export const QUANTILE_COUNT = 101;

/** What a bundle stores per head output (tagbundle.json `outputs[k].approved`). */
export interface ApprovedDistribution {
  /** The molecules the distribution is over, e.g. "clintox.csv FDA_APPROVED = 1". */
  readonly source: string;
  readonly n: number;
  /** QUANTILE_COUNT values, the k-th the k-th percentile (linear interpolation between order statistics). */
  readonly quantiles: readonly number[];
}

export function quantileGrid(values: readonly number[]): number[] {
  if (values.length === 0) throw new RangeError('no values to take quantiles of');
  const sorted = [...values].sort((a, b) => a - b);
  return Array.from({ length: QUANTILE_COUNT }, (_, k) => {
    const at = (k / (QUANTILE_COUNT - 1)) * (sorted.length - 1);
    const lo = Math.floor(at);
    const hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (at - lo) * (sorted[hi] - sorted[lo]);
  });
}

/**
 * The percentile (0–100) of `value` in the distribution: the interpolated position between
 * the quantiles it falls between; 0 below the minimum and 100 above the maximum. Within a run
 * of equal quantiles it takes the run's middle.
 */
export function percentileOf(value: number, quantiles: readonly number[]): number {
  const last = quantiles.length - 1;
  if (value < quantiles[0]) return 0;
  if (value > quantiles[last]) return 100;
  const first = quantiles.findIndex((q) => q >= value);
  if (quantiles[first] === value) {
    let end = first;
    while (end < last && quantiles[end + 1] === value) end++;
    return ((first + end) / 2 / last) * 100;
  }
  const lo = first - 1;
  return ((lo + (value - quantiles[lo]) / (quantiles[first] - quantiles[lo])) / last) * 100;
}
