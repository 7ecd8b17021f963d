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
