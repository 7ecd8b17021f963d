// The stages on the real onnxruntime training session and stories260K: exact resume,
// cancellation leaving loadable bundles, and tags that beat the mean on a small regression.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/runtime/model/load';
import { TrainSession } from '../../src/runtime/session/trainSession';
import { runStage, type StageOptions } from '../../src/runtime/train/stages';
import { checkpointFolderFor, CHECKPOINT_BUNDLE } from '../../src/runtime/train/checkpoint';
import { loadTagBundle } from '../../src/runtime/tags/bundleFiles';
import { modelFingerprint } from '../../src/runtime/tags/fingerprint';
import type { TagName } from '../../src/runtime/tags/name';
import { dataPath } from '../helpers/data';

const dir = mkdtempSync(join(tmpdir(), 'tagllm-stages-'));

// one model and one compiled training session for the whole file
const shared = (async () => {
  const model = await loadModel(dataPath('models', 'stories260K.gguf'));
  return { model, backend: await TrainSession.create(model) };
})();
const setup = () => shared;

function esolOptions(model: StageOptions['model'], backend: StageOptions['backend'], extra: Partial<StageOptions>): StageOptions {
  return {
    stage: 'function', model, backend, data: dataPath('molnet', 'esol.csv'), inputColumns: ['smiles'], domains: ['<SMILES>' as TagName],
    functionTag: '<LogP>' as TagName, label: 'logp', limit: 40, p: 2, batchSize: 8, microBatch: 4, seed: 3, steps: 6,
    evalEvery: 2, checkpointEvery: 2, baselines: false, ...extra,
  };
}

test('a run cancelled mid-way and resumed ends with the same tags as an uninterrupted run; the cancelled run leaves loadable bundles', async () => {
  const { model, backend } = await setup();
  const fullOut = join(dir, 'full');
  const full = await runStage(esolOptions(model, backend, { out: fullOut }));

  const out = join(dir, 'split');
  const controller = new AbortController();
  const cancelled = await runStage(esolOptions(model, backend, { out, signal: controller.signal, onProgress: (p) => p.step === 3 && controller.abort() }));
  assert.equal(cancelled.stopped_by, 'cancelled');
  assert.equal(cancelled.steps, 3);
  const fingerprint = modelFingerprint(model);
  const atCancel = await loadTagBundle(join(checkpointFolderFor(out), CHECKPOINT_BUNDLE), fingerprint);
  assert.ok(atCancel.bundle.values.has('<LogP>' as TagName));
  await loadTagBundle(out, fingerprint);

  const resumed = await runStage(esolOptions(model, backend, { out, resume: true }));
  assert.equal(resumed.steps, full.steps);
  const a = (await loadTagBundle(fullOut, fingerprint)).bundle;
  const b = (await loadTagBundle(out, fingerprint)).bundle;
  for (const tag of ['<SMILES>', '<LogP>'] as TagName[]) {
    const x = a.values.get(tag)!.data;
    const y = b.values.get(tag)!.data;
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
    assert.ok(worst < 1e-5, `${tag} differs by ${worst}`);
  }
  assert.ok(Math.abs(full.test.mse! - resumed.test.mse!) < 1e-6 * Math.max(1, full.test.mse!));
});

test('tags trained on a small computed-logP regression beat the training-mean baseline', async () => {
  const { model, backend } = await setup();
  const report = await runStage(esolOptions(model, backend, { limit: 200, steps: 6, batchSize: 16, microBatch: 16, baselines: true, lr: 0.01 }));
  assert.ok(report.test.mse! < report.baselines.mean.mse!, `tagged ${report.test.mse} vs mean ${report.baselines.mean.mse}`);
  assert.equal(report.n_skipped, 0);
  await backend.release();
});
