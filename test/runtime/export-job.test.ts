// `tagllm export-job` (src/runtime/train/exportJob.ts): the job folder holds the rows runStage
// would train on, labelled and split the same way, with every default resolved; the launch
// scripts are valid bash; start bundles are copied after their model is checked; bundles the TS
// side writes pass the shared schema (python/tagllm_torch/tagbundle.schema.json) as the
// companion checks it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPath } from '../helpers/data';
import { pythonExecutable } from '../helpers/python';
import { loadModel } from '../../src/runtime/model/load';
import { exportTrainingJob, type TrainingJob } from '../../src/runtime/train/exportJob';
import { readStageData, trainingSchedule } from '../../src/runtime/train/stages';
import { parseTagName } from '../../src/runtime/tags/name';
import { makeTagBundle } from '../../src/runtime/tags/bundle';
import { saveTagBundle } from '../../src/runtime/tags/bundleFiles';
import { initTagValue } from '../../src/runtime/tags/init';
import { EMBEDDING_WEIGHT, modelFingerprint } from '../../src/runtime/tags/fingerprint';
import { ShapeMismatchError, UsageError } from '../../src/runtime/errors';

const scratch = mkdtempSync(join(tmpdir(), 'tagllm-job-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
const esol = dataPath('molnet', 'esol.csv');
const run = {
  stage: 'function' as const, data: esol, inputColumns: ['smiles'], domains: [parseTagName('<SMILES>')], functionTag: parseTagName('<QED>'),
  label: 'qed', limit: 50, seed: 3, batchSize: 8, p: 2,
};

function parseCsv(text: string): string[][] {
  return text.trim().split('\n').map((line) => line.split(','));
}

test('the job holds the rows, labels and split runStage trains on, with the defaults resolved', async () => {
  const model = await loadModel(dataPath('models', 'stories260K.gguf'));
  const out = join(scratch, 'qed');
  const { job, rows: rowCount } = await exportTrainingJob({ ...run, model, out });
  const written = JSON.parse(readFileSync(join(out, 'job.json'), 'utf8')) as TrainingJob;
  assert.deepEqual(written, job);
  const data = await readStageData(run);
  assert.equal(job.template, data.task.template.text);
  assert.deepEqual(job.slots, ['smiles']);
  assert.deepEqual(job.trainable, ['<SMILES>', '<QED>']);
  assert.deepEqual({ steps: job.steps, evalEvery: job.evalEvery, checkpointEvery: job.checkpointEvery }, trainingSchedule({}, data.split.train.length, 8));
  assert.equal(job.steps, Math.ceil(3 * Math.ceil(data.split.train.length / 8)));
  assert.equal(job.headLr, job.lr * 0.1);
  assert.deepEqual(job.baseModel, modelFingerprint(model));
  const [header, ...rows] = parseCsv(readFileSync(join(out, 'data.csv'), 'utf8'));
  assert.deepEqual(header, ['smiles', 'label', 'split']);
  assert.equal(rows.length, data.set.examples.length);
  assert.equal(rowCount, rows.length);
  rows.forEach((row, i) => {
    assert.equal(row[0], data.set.examples[i].inputs[0]);
    assert.equal(Number(row[1]), data.set.examples[i].label);
  });
  for (const name of ['train', 'valid', 'test'] as const) {
    assert.deepEqual(rows.flatMap((r, i) => (r[2] === name ? [i] : [])), data.split[name]);
  }
  for (const script of ['train-torchrun.sh', 'train-slurm.sbatch']) {
    assert.ok(statSync(join(out, script)).mode & 0o100, `${script} is executable`);
    assert.match(readFileSync(join(out, script), 'utf8'), /-m tagllm_torch train --job/);
    assert.equal(spawnSync('bash', ['-n', join(out, script)]).status, 0, `${script} parses`);
  }
  await assert.rejects(exportTrainingJob({ ...run, model, out }), UsageError);
});

test('start bundles are copied into the job, and one made for another model is refused', async () => {
  const model = await loadModel(dataPath('models', 'stories260K.gguf'));
  const smiles = { name: parseTagName('<SMILES>'), kind: 'domain' as const, description: 'SMILES', value: initTagValue(model.weights.get(EMBEDDING_WEIGHT)!, 2) };
  await saveTagBundle(join(scratch, 'smiles'), makeTagBundle(modelFingerprint(model), [smiles]));
  const { job } = await exportTrainingJob({ ...run, stage: 'cross', model, out: join(scratch, 'cross'), startBundles: [join(scratch, 'smiles')] });
  assert.deepEqual(job.startBundles, ['start/0']);
  assert.deepEqual(job.trainable, ['<QED>']);
  assert.deepEqual(readFileSync(join(scratch, 'cross', 'start', '0', 'tags.safetensors')), readFileSync(join(scratch, 'smiles', 'tags.safetensors')));
  const other = { ...modelFingerprint(model), embeddingSha256: '0'.repeat(64) };
  await saveTagBundle(join(scratch, 'other'), makeTagBundle(other, [smiles]));
  await assert.rejects(exportTrainingJob({ ...run, model, out: join(scratch, 'refused'), startBundles: [join(scratch, 'other')] }), ShapeMismatchError);
});

test('bundles the TS side writes pass the shared schema and load in the companion', async () => {
  const model = await loadModel(dataPath('models', 'stories260K.gguf'));
  const E = model.weights.get(EMBEDDING_WEIGHT)!;
  const bundle = makeTagBundle(modelFingerprint(model), [
    { name: parseTagName('<SMILES>'), kind: 'domain', description: 'SMILES', value: initTagValue(E, 3) },
    {
      name: parseTagName('<QED>'), kind: 'function', description: 'qed', template: 'Input: <SMILES> {smiles}. Output: qed is <QED>', value: initTagValue(E, 3),
      head: { outputs: 1, hiddenSize: 64, weight: new Float32Array(64).fill(0.5), bias: new Float32Array([0.25]) },
      outputs: [{ name: 'qed', units: '', targetMean: 0.5, targetStd: 0.2 }], training: { stage: 'function', n_train: 3 }, metrics: { mae: 0.1 },
    },
  ]);
  await saveTagBundle(join(scratch, 'ts-bundle'), bundle);
  const check = (path: string) =>
    spawnSync(pythonExecutable(), ['-c', 'import sys; from tagllm_torch.bundle import load_bundle; b = load_bundle(sys.argv[1]); print(sorted(b.values))', path], { encoding: 'utf8' });
  const ok = check(join(scratch, 'ts-bundle'));
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), "['<QED>', '<SMILES>']");
  // and the schema is not vacuous: a bundle whose metadata breaks it is refused, naming the field
  const meta = JSON.parse(readFileSync(join(scratch, 'ts-bundle', 'tagbundle.json'), 'utf8'));
  meta.tags['<QED>'].outputs[0].targetStd = -1;
  writeFileSync(join(scratch, 'ts-bundle', 'tagbundle.json'), JSON.stringify(meta));
  const bad = check(join(scratch, 'ts-bundle'));
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /targetStd/);
});
