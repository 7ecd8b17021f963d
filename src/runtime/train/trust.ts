// What a bundle keeps so a prediction can be trusted and acted on (bundle format 3): the
// evidence (test metric beside the best baseline and the trivial one, on the same split), the
// applicability domain (training-input sketches and a threshold chosen on the validation
// split), and the distribution of the tag's predictions on approved drugs.
import { basename, extname } from 'node:path';
import { loadRDKit } from '../chem/rdkit';
import { readRecords } from '../data/records';
import { InvalidFileError } from '../errors';
import type { TagEvidence, TagTask } from '../tags/bundle';
import { chooseDomainThreshold, inputSketch, nearestSimilarity, packSketches, sketchOf, SKETCH_BITS, type ApplicabilityDomain, type SketchKind } from '../tags/domain';
import { quantileGrid, type ApprovedDistribution } from '../tags/percentile';

type MetricsRecord = Readonly<Record<string, number | null>>;

/** The metric a card shows for each task, and whether larger is better. */
export const EVIDENCE_METRIC: Record<TagTask, { key: string; higherIsBetter: boolean }> = {
  regression: { key: 'rmse', higherIsBetter: false },
  classification: { key: 'auroc', higherIsBetter: true },
};

/** A data file's short name for the card: "esol.csv" → "ESOL". */
export function datasetName(path: string): string {
  return basename(path, extname(path)).toUpperCase();
}

export function tagEvidence(task: TagTask, test: MetricsRecord, baselines: Readonly<Record<string, MetricsRecord>>, dataset: string, nTest: number, nTrain: number): TagEvidence | undefined {
  const { key, higherIsBetter } = EVIDENCE_METRIC[task];
  const value = test[key];
  if (typeof value !== 'number') return undefined;
  const scores: Record<string, number> = {};
  for (const [name, m] of Object.entries(baselines)) if (typeof m[key] === 'number') scores[name] = m[key] as number;
  const names = Object.keys(scores);
  if (names.length === 0) return undefined;
  const best = names.reduce((a, b) => ((higherIsBetter ? scores[b] > scores[a] : scores[b] < scores[a]) ? b : a));
  return { metric: key, value, baselines: scores, best, dataset, nTest, nTrain };
}

/**
 * Sketches of the training inputs and the threshold from the validation rows' similarities
 * to them and their errors. Inputs RDKit cannot sketch are left out.
 */
export async function applicabilityDomain(kind: SketchKind, trainInputs: readonly string[], validInputs: readonly string[], validErrors: readonly number[]): Promise<ApplicabilityDomain> {
  const rdkit = kind === 'morgan' ? await loadRDKit() : undefined;
  const sketches = trainInputs.flatMap((s) => sketchOf(kind, s, rdkit) ?? []);
  const similarities: number[] = [];
  const errors: number[] = [];
  validInputs.forEach((s, k) => {
    const sketch = sketchOf(kind, s, rdkit);
    if (!sketch) return;
    similarities.push(nearestSimilarity(sketch, sketches));
    errors.push(validErrors[k]);
  });
  return { sketch: kind, bits: SKETCH_BITS, count: sketches.length, fingerprints: packSketches(sketches), threshold: chooseDomainThreshold(similarities, errors) };
}

export const APPROVED_SOURCE = 'FDA_APPROVED = 1';

/** The SMILES of the rows with FDA_APPROVED = 1 that RDKit parses, from a ClinTox-style CSV. */
export async function approvedDrugSmiles(path: string): Promise<string[]> {
  const table = readRecords(path);
  const smiles = table.columns.findIndex((c) => c.trim().toLowerCase() === 'smiles');
  const approved = table.columns.findIndex((c) => c.trim() === 'FDA_APPROVED');
  if (smiles < 0 || approved < 0) throw new InvalidFileError(`approved drugs need "smiles" and "FDA_APPROVED" columns; the file has ${table.columns.join(', ')}`, path);
  const kept: string[] = [];
  for (const row of table.rows) {
    const s = row[smiles].trim();
    if (row[approved].trim() === '1' && (await inputSketch('morgan', s)) !== undefined) kept.push(s);
  }
  return kept;
}

/** One output's distribution over approved drugs, from its predictions on them. */
export function approvedDistribution(path: string, predictions: readonly number[]): ApprovedDistribution {
  return { source: `${basename(path)} ${APPROVED_SOURCE}`, n: predictions.length, quantiles: quantileGrid(predictions) };
}
