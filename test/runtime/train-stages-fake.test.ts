// The stage logic (templates, splits, tag gradients, heads, baselines, bundles) over a fake
// backend with exact closed-form gradients; the real onnxruntime backend is tested in
// train-stages.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/runtime/model/load';
import { runStage } from '../../src/runtime/train/stages';
import { loadTagBundle } from '../../src/runtime/tags/bundleFiles';
import { createPredictor } from '../../src/runtime/predict';
import type { TagName } from '../../src/runtime/tags/name';
import { SeededRng } from '../../src/runtime/train/rng';
import { dataPath } from '../helpers/data';
import { runningMeanBackend } from './train-fake-backend';
import { floatWeights } from '../helpers/weights';

const dir = mkdtempSync(join(tmpdir(), 'tagllm-stage-'));

/** A CSV of chain alcohols labelled with their carbon count, which the running mean of token embeddings can see. */
function chainsCsv(name: string, rows: number, seed: number): string {
  const rng = new SeededRng(seed);
  const lines = Array.from({ length: rows }, () => {
    const n = 1 + rng.int(12);
    return `${'C'.repeat(n)}O,${n}`;
  });
  const csv = join(dir, name);
  writeFileSync(csv, 'smiles,carbons\n' + lines.join('\n') + '\n');
  return csv;
}

async function stories() {
  const model = await loadModel(dataPath('models', 'stories260K.gguf'));
  const emb = floatWeights(model).get('model.embed_tokens.weight')!;
  return { model, backend: runningMeanBackend(emb.data, emb.shape[0]) };
}

test('stage function on a tiny regression: the tagged model beats the mean baseline and saves a predicting bundle', async () => {
  const { model, backend } = await stories();
  const csv = chainsCsv('chains.csv', 120, 5);
  const out = join(dir, 'chains-bundle');
  const report = await runStage({
    stage: 'function', model, backend, data: csv, inputColumns: ['smiles'], domains: ['<SMILES>' as TagName], functionTag: '<Carbons>' as TagName,
    label: 'carbons', p: 2, lr: 0.02, steps: 80, batchSize: 16, seed: 1, out,
  });
  assert.equal(report.n_train + report.n_valid + report.n_test, 120);
  assert.ok(report.test.mse! < 0.8 * report.baselines.mean.mse!, `tagged ${report.test.mse} vs mean ${report.baselines.mean.mse}`);
  assert.ok('fingerprint_ridge' in report.baselines && 'linear_probe_last' in report.baselines && 'linear_probe_mean' in report.baselines);
  const loaded = await loadTagBundle(out);
  assert.deepEqual([...loaded.bundle.values.keys()].sort(), ['<Carbons>', '<SMILES>']);
  const meta = loaded.bundle.meta.tags['<Carbons>'];
  assert.equal(meta.template, 'Input: The SMILES of the molecule is <SMILES> {smiles}. Output: the carbons is <Carbons>');
  assert.equal(meta.outputs![0].name, 'carbons');
  // format 3: the evidence beside the baselines, the training labels' range, the domain
  assert.equal(meta.task, 'regression');
  assert.equal(report.task_type, 'regression');
  assert.deepEqual([meta.evidence!.metric, meta.evidence!.value, meta.evidence!.baselines.mean, meta.evidence!.nTest], ['rmse', report.test.rmse, report.baselines.mean.rmse, report.n_test]);
  assert.deepEqual(meta.outputs![0].range, [1, 12]);
  assert.equal(meta.domain!.count, report.n_train);
  // the team's predictor reads the bundle (its own decoder, so values differ from the fake's; it must run)
  const predictor = await createPredictor({ model, bundles: [out] });
  const [[prediction]] = await predictor.predict([{ smiles: 'CCCCO' }]);
  assert.equal(prediction.tag, '<Carbons>');
  assert.ok(Number.isFinite(prediction.value));
});

test('stage function keeps the ridge warm start when training only makes validation worse', async () => {
  const { model, backend } = await stories();
  const csv = chainsCsv('chains-wild.csv', 100, 6);
  // a learning rate far too large for tags and head alike
  const report = await runStage({
    stage: 'function', model, backend, data: csv, inputColumns: ['smiles'], domains: ['<SMILES>' as TagName], functionTag: '<Carbons>' as TagName,
    label: 'carbons', p: 2, lr: 50, headLr: 50, steps: 12, batchSize: 16, evalEvery: 2, patience: 100, seed: 2, baselines: false,
  });
  assert.ok(report.valid_loss_start !== null && report.valid_loss_best !== null);
  assert.ok(report.valid_loss_best! <= report.valid_loss_start!, `${report.valid_loss_best} > ${report.valid_loss_start}`);
  assert.equal(report.best_step, 0);
});

test('stage domain lowers held-out NLL below the untagged model (fake backend)', async () => {
  const { model, backend } = await stories();
  const smi = join(dir, 'corpus.smi');
  const rng = new SeededRng(9);
  const atoms = ['C', 'N', 'O', 'c1ccccc1', 'C(=O)', 'Cl'];
  writeFileSync(smi, Array.from({ length: 80 }, () => Array.from({ length: 3 + rng.int(4) }, () => atoms[rng.int(atoms.length)]).join('')).join('\n') + '\n');
  const report = await runStage({
    stage: 'domain', model, backend, data: smi, inputColumns: ['smiles'], domains: ['<SMILES>' as TagName], p: 2, lr: 0.05, steps: 25, batchSize: 8, seed: 2,
  });
  assert.ok(report.test.nll! < report.baselines.untagged.nll!, `tagged ${report.test.nll} vs untagged ${report.baselines.untagged.nll}`);
});

test('stage function on a multi-label task with missing labels: learns probabilities, reports classification metrics beside the baselines, stores evidence, domain and percentiles', async () => {
  const { model, backend } = await stories();
  const rng = new SeededRng(21);
  // long: 7+ carbons; even: an even carbon count (missing for every fifth row)
  const lines = Array.from({ length: 160 }, (_, i) => {
    const n = 1 + rng.int(12);
    return `${'C'.repeat(n)}O,${n >= 7 ? 1 : 0},${i % 5 === 0 ? '' : n % 2 === 0 ? 1 : 0}`;
  });
  const csv = join(dir, 'chains-multi.csv');
  writeFileSync(csv, 'smiles,long,even\n' + lines.join('\n') + '\n');
  const approved = join(dir, 'approved.csv');
  writeFileSync(approved, 'smiles,FDA_APPROVED,CT_TOX\n' + ['CO', 'CCO', 'CCCO', 'CCCCCCCCO', 'c1ccccc1', 'not a smiles', 'CCCCO'].map((s, i) => `${s},${i === 4 ? 0 : 1},0`).join('\n') + '\n');
  const out = join(dir, 'chains-multi-bundle');
  const report = await runStage({
    stage: 'function', model, backend, data: csv, inputColumns: ['smiles'], domains: ['<SMILES>' as TagName], functionTag: '<Chain>' as TagName,
    label: 'long,even', p: 2, lr: 0.02, steps: 40, batchSize: 16, seed: 3, approvedDrugs: approved, datasetName: 'Chains', out,
  });
  assert.equal(report.task_type, 'classification');
  assert.deepEqual(Object.keys(report.test).sort(), ['accuracy', 'auprc', 'auroc', 'brier']);
  assert.deepEqual(Object.keys(report.baselines).sort(), ['fingerprint_logistic', 'logistic_probe_last', 'logistic_probe_mean', 'majority']);
  assert.equal(report.baselines.majority.auroc, 0.5);
  assert.ok(report.test.auroc! > 0.7, `auroc ${report.test.auroc}`);
  const meta = (await loadTagBundle(out)).bundle.meta.tags['<Chain>'];
  assert.equal(meta.task, 'classification');
  assert.deepEqual(meta.outputs!.map((o) => [o.name, o.units, o.bounds]), [['long', 'probability', [0, 1]], ['even', 'probability', [0, 1]]]);
  assert.deepEqual({ ...meta.evidence!, baselines: undefined }, { metric: 'auroc', value: report.test.auroc, baselines: undefined, best: meta.evidence!.best, dataset: 'Chains', nTest: report.n_test, nTrain: report.n_train });
  assert.equal(meta.evidence!.baselines.majority, 0.5);
  assert.equal(meta.domain!.sketch, 'morgan');
  assert.equal(meta.domain!.count, report.n_train);
  // five approved molecules parse (the benzene row is not approved; one SMILES is invalid)
  assert.equal(meta.outputs![0].approved!.n, 5);
  const predictor = await createPredictor({ model, bundles: [out] });
  const [near, far] = await predictor.predict([{ smiles: 'CCCCO' }, { smiles: 'FC(F)(F)c1nc2ccccc2[nH]1' }]);
  assert.deepEqual(near.map((p) => p.output), ['long', 'even']);
  for (const p of [...near, ...far]) {
    assert.ok(p.value >= 0 && p.value <= 1 && p.task === 'classification');
    assert.ok(p.percentile! >= 0 && p.percentile! <= 100);
  }
  assert.equal(near[0].similarity, 1);
  assert.ok(!near[0].flags.includes('outside-domain'));
  assert.ok(far[0].flags.includes('outside-domain'), `similarity ${far[0].similarity}, threshold ${meta.domain!.threshold}`);
});
