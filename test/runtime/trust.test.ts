// What makes a prediction trustworthy: Tanimoto sketches and the applicability domain, the
// threshold chosen where the validation error grows, percentiles read back from a stored
// distribution, flags for values outside the training range or known bounds, and the evidence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRDKit } from '../../src/runtime/chem/rdkit';
import { assessPrediction } from '../../src/runtime/tags/assess';
import { chooseDomainThreshold, nearestSimilarity, packSketches, sketchOf, tanimoto, unpackSketches } from '../../src/runtime/tags/domain';
import { percentileOf, quantileGrid } from '../../src/runtime/tags/percentile';
import { applicabilityDomain, tagEvidence } from '../../src/runtime/train/trust';
import { readFileSync } from 'node:fs';
import { dataPath } from '../helpers/data';

test('Tanimoto on packed sketches, by hand; sketches survive packing', () => {
  const a = Uint8Array.of(0b1011, 0);
  const b = Uint8Array.of(0b0011, 0b1);
  // a ∩ b = 2 bits, a ∪ b = 4 bits
  assert.equal(tanimoto(a, b), 2 / 4);
  assert.equal(tanimoto(new Uint8Array(2), new Uint8Array(2)), 1);
  const seq = sketchOf('kmer', 'MKVLAAGIK')!;
  // 7 distinct 3-mers, at most 7 bits set
  const bits = Array.from(seq).reduce((n, byte) => n + byte.toString(2).split('1').length - 1, 0);
  assert.ok(bits >= 6 && bits <= 7, `${bits} bits`);
  assert.equal(tanimoto(seq, sketchOf('kmer', 'mkvlaagik')!), 1);
  const [back] = unpackSketches({ sketch: 'kmer', bits: 1024, count: 1, fingerprints: packSketches([seq]), threshold: 0 });
  assert.deepEqual(back, seq);
});

test('the domain flag is set for a molecule far from the training set and not for a training neighbour', async () => {
  const rdkit = await loadRDKit();
  // ESOL's first 200 molecules train; the validation rows' errors grow where similarity falls
  const rows = readFileSync(dataPath('molnet', 'esol.csv'), 'utf8').trim().split(/\r?\n/).slice(1, 241).map((l) => l.split(',').at(-1)!.trim());
  const train = rows.slice(0, 200);
  const valid = rows.slice(200);
  const training = train.map((s) => sketchOf('morgan', s, rdkit)!);
  const similarity = valid.map((s) => nearestSimilarity(sketchOf('morgan', s, rdkit)!, training));
  // the least similar 15% of validation rows have 4× the error of the others
  const q15 = [...similarity].sort((a, b) => a - b)[Math.floor(0.15 * similarity.length)];
  const errors = similarity.map((s) => (s < q15 ? 2 : 0.5));
  const domain = await applicabilityDomain('morgan', train, valid, errors);
  assert.equal(domain.count, 200);
  assert.equal(domain.threshold, q15);
  const stored = unpackSketches(domain);
  const check = (smiles: string) => {
    const s = nearestSimilarity(sketchOf('morgan', smiles, rdkit)!, stored);
    return assessPrediction({ name: 'y', units: '', targetMean: 0, targetStd: 1 }, 0, { similarity: s, threshold: domain.threshold });
  };
  // a training molecule itself (similarity 1) and a ring-carbon neighbour of one are inside
  assert.deepEqual(check(train[10]).flags, []);
  assert.equal(check(train[10]).similarity, 1);
  // a metal-organic cage nothing like small organic solutes is outside
  const far = check('[Fe+2].[O-]P(=O)([O-])OP(=O)([O-])[O-].[Si](F)(F)(F)F');
  assert.ok(far.similarity! < domain.threshold, `similarity ${far.similarity}`);
  assert.deepEqual(far.flags, ['outside-domain']);
});

test('the threshold sits where the validation error grows; without such a place, at the 5% quantile', () => {
  const similarities = Array.from({ length: 100 }, (_, k) => k / 100);
  // the error is high below 0.2
  const threshold = chooseDomainThreshold(similarities, similarities.map((s) => (s < 0.2 ? 3 : 1)));
  assert.equal(threshold, 0.2);
  assert.equal(chooseDomainThreshold(similarities, similarities.map(() => 1)), 0.05);
});

test('a percentile read back from the stored distribution', () => {
  // predictions 0, 1, ..., 200 on "approved drugs": the k-th percentile is 2k
  const q = quantileGrid(Array.from({ length: 201 }, (_, i) => 200 - i));
  assert.equal(q.length, 101);
  assert.equal(q[0], 0);
  assert.equal(q[50], 100);
  assert.equal(q[71], 142);
  assert.equal(percentileOf(142, q), 71);
  assert.equal(percentileOf(143, q), 71.5);
  assert.equal(percentileOf(-5, q), 0);
  assert.equal(percentileOf(500, q), 100);
  // a run of equal quantiles (a tag that predicts one value for most drugs) reads as its middle
  const flat = quantileGrid([...new Array(50).fill(0.2), ...Array.from({ length: 51 }, (_, i) => 0.2 + (i + 1) / 100)]);
  const first = flat.indexOf(0.2);
  const last = flat.lastIndexOf(0.2);
  assert.equal(percentileOf(0.2, flat), (first + last) / 2);
  const approved = { source: 'clintox.csv FDA_APPROVED = 1', n: 201, quantiles: q };
  assert.equal(assessPrediction({ name: 'y', units: '', targetMean: 0, targetStd: 1, approved }, 142).percentile, 71);
});

test('values outside the training labels\' range or the known bounds are flagged', () => {
  const qed = { name: 'qed', units: '', targetMean: 0.6, targetStd: 0.2, range: [0.05, 0.94] as const, bounds: [0, 1] as const };
  assert.deepEqual(assessPrediction(qed, 0.5).flags, []);
  assert.deepEqual(assessPrediction(qed, 0.97).flags, ['outside-training-range']);
  assert.deepEqual(assessPrediction(qed, -0.4).flags, ['outside-training-range', 'outside-bounds']);
  const mw = { name: 'mw', units: 'g/mol', targetMean: 300, targetStd: 80, bounds: [0, null] as const };
  assert.deepEqual(assessPrediction(mw, 5000).flags, []);
  assert.deepEqual(assessPrediction(mw, -1).flags, ['outside-bounds']);
});

test('evidence: the tag\'s metric beside the best baseline, lower RMSE or higher ROC-AUC being better', () => {
  const reg = tagEvidence('regression', { rmse: 1.13 }, { mean: { rmse: 2.1 }, fingerprint_ridge: { rmse: 1.43 }, linear_probe_last: { rmse: 1.5 } }, 'ESOL', 113, 902)!;
  assert.deepEqual(reg, { metric: 'rmse', value: 1.13, baselines: { mean: 2.1, fingerprint_ridge: 1.43, linear_probe_last: 1.5 }, best: 'fingerprint_ridge', dataset: 'ESOL', nTest: 113, nTrain: 902 });
  const cls = tagEvidence('classification', { auroc: 0.8 }, { majority: { auroc: 0.5 }, fingerprint_logistic: { auroc: 0.88 }, logistic_probe_mean: { auroc: null } }, 'BBBP', 205, 1640)!;
  assert.equal(cls.best, 'fingerprint_logistic');
  assert.deepEqual(Object.keys(cls.baselines), ['majority', 'fingerprint_logistic']);
  assert.equal(tagEvidence('regression', { rmse: null }, {}, 'X', 1, 1), undefined);
});
