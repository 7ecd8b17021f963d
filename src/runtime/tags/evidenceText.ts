// A tag's evidence as one line a scientist reads beside the value: the tag's test metric, the
// best baseline's and the trivial baseline's on the same split, and the data set, e.g.
// "RMSE 1.13 · fingerprints 1.43 · mean 2.10 (ESOL, n = 113)".
import type { TagEvidence } from './bundle';

const METRIC_NAMES: Readonly<Record<string, string>> = { rmse: 'RMSE', mse: 'MSE', mae: 'MAE', auroc: 'ROC-AUC', auprc: 'PR-AUC' };

const BASELINE_NAMES: Readonly<Record<string, string>> = {
  mean: 'mean',
  majority: 'majority class',
  fingerprint_ridge: 'fingerprints',
  fingerprint_logistic: 'fingerprints',
  composition_ridge: 'composition',
  composition_logistic: 'composition',
  linear_probe_last: 'last-token probe',
  linear_probe_mean: 'mean-pooled probe',
  logistic_probe_last: 'last-token probe',
  logistic_probe_mean: 'mean-pooled probe',
};

/** The baselines that predict without looking at the input. */
const TRIVIAL = ['mean', 'majority'];

export const baselineName = (key: string): string => BASELINE_NAMES[key] ?? key;

const num = (v: number) => v.toPrecision(3);

export function evidenceText(e: TagEvidence): string {
  const parts = [`${METRIC_NAMES[e.metric] ?? e.metric} ${num(e.value)}`, `${baselineName(e.best)} ${num(e.baselines[e.best])}`];
  const trivial = TRIVIAL.find((k) => k in e.baselines && k !== e.best);
  if (trivial) parts.push(`${baselineName(trivial)} ${num(e.baselines[trivial])}`);
  return `${parts.join(' · ')} (${e.dataset}, n = ${e.nTest})`;
}
