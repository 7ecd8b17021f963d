// How far to trust one prediction, from what the bundle recorded about its tag (format 3):
// its percentile among approved drugs, its nearest training neighbour's similarity, and flags
// for an input outside the training domain, a value outside the training labels' range, and a
// value outside the quantity's known bounds. Pure: the predictor supplies the similarity.
import type { HeadOutputMeta } from './bundle';
import { percentileOf } from './percentile';

export type PredictionFlag = 'outside-domain' | 'outside-training-range' | 'outside-bounds';

export interface Assessment {
  /** 0–100, among approved drugs; absent when the bundle has no distribution for the output. */
  readonly percentile?: number;
  /** Tanimoto similarity to the nearest training input; absent without a stored domain. */
  readonly similarity?: number;
  readonly flags: PredictionFlag[];
}

export function assessPrediction(output: HeadOutputMeta, value: number, domain?: { similarity: number; threshold: number }): Assessment {
  const flags: PredictionFlag[] = [];
  if (domain && domain.similarity < domain.threshold) flags.push('outside-domain');
  if (output.range && (value < output.range[0] || value > output.range[1])) flags.push('outside-training-range');
  const [low, high] = output.bounds ?? [null, null];
  if ((low !== null && value < low) || (high !== null && value > high)) flags.push('outside-bounds');
  return {
    ...(output.approved && { percentile: percentileOf(value, output.approved.quantiles) }),
    ...(domain && { similarity: domain.similarity }),
    flags,
  };
}
