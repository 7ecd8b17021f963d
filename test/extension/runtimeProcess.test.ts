// The runtime process as the extension host sees it: a forked dist bundle spoken to over JSON-RPC.
// Real recognizer, real RDKit, real stories260K: scan, cards, training a function tag, predicting
// with it, evaluating it, and surviving a kill.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { CancellationTokenSource } from 'vscode-jsonrpc';
import { RuntimeClient, RuntimeExitedError } from '../../src/extension/runtimeClient';
import { Configure, DataColumns, Describe, Evaluate, ExportTrainingJob, Predict, Scan, TrainDomainTag, TrainFunctionTag, TrainProgressNotification, type RuntimeConfig, type TrainProgress } from '../../src/extension/protocol';
import { dataPath } from '../helpers/data';
import { createTextGenerator } from '../../src/runtime/generateText';
import { loadModel } from '../../src/runtime/model/load';

const work = mkdtempSync(join(tmpdir(), 'tagllm-runtime-'));
// Inside the checkout (out/ is git-ignored), so the bundle resolves onnxruntime-node and RDKit from node_modules.
const serverPath = join(process.cwd(), 'out', 'test-runtime', 'runtimeServer.js');

async function bundleServer(): Promise<void> {
  await build({
    entryPoints: ['src/extension/runtimeServer.ts'],
    outfile: serverPath,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'error',
    external: ['onnxruntime-node', '@rdkit/rdkit'],
  });
}

/** 48 ESOL molecules as a small training file (read from the shared data at run time, not copied). */
function writeTrainingCsv(): string {
  const lines = readFileSync(dataPath('molnet/esol.csv'), 'utf8').trim().split('\n').slice(1, 49);
  const rows = lines.map((l) => l.split(',').at(-1)!.trim());
  const file = join(work, 'train.csv');
  writeFileSync(file, `smiles\n${rows.join('\n')}\n`);
  return file;
}

test('runtime process: scan, describe, train, predict, evaluate, restart after a kill', { timeout: 600_000 }, async () => {
  await bundleServer();
  const log: string[] = [];
  const config: RuntimeConfig = { modelPath: dataPath('models/stories260K.gguf'), bundlePaths: [], device: 'cpu', cacheSize: 100 };
  const client = new RuntimeClient({ serverPath, config: () => config, log: (l) => log.push(l) });
  try {
    const entities = await client.request(Scan, { text: 'x = "CC(=O)Oc1ccccc1C(=O)O"\nCO is carbon monoxide\n', fileName: '/tmp/a.py', languageId: 'python' });
    assert.deepEqual(entities.map((e) => [e.kind, e.text, e.range.start.line, e.range.start.character]), [['smiles', 'CC(=O)Oc1ccccc1C(=O)O', 0, 5]]);

    const card = await client.request(Describe, { kind: 'smiles', text: 'CC(=O)Oc1ccccc1C(=O)O' });
    assert.match(card.svg ?? '', /<svg/);
    const mw = card.descriptors.find((d) => d.name === 'MW')!.value;
    assert.ok(Math.abs(mw - 180.159) < 0.01, `aspirin MW ${mw}`);

    const csv = writeTrainingCsv();
    assert.deepEqual(await client.request(DataColumns, { dataPath: csv }), ['smiles']);
    const outDir = join(work, '.tagllm', 'logp');
    const progress: TrainProgress[] = [];
    const subscription = client.onNotification(TrainProgressNotification, (p) => progress.push(p));
    const trained = await client.request(TrainFunctionTag, { dataPath: csv, inputColumns: ['smiles'], labelColumn: 'logp', domainTags: ['<SMILES>'], tagName: '<LOGP>', steps: 4, outDir });
    subscription.dispose();
    assert.equal(trained.tag, '<LOGP>');
    assert.ok(existsSync(join(outDir, 'tagbundle.json')));
    assert.ok(progress.length > 0 && progress.every((p) => Number.isFinite(p.loss)), `progress: ${JSON.stringify(progress)}`);
    assert.ok(Number.isFinite(trained.test.mse) && 'mean' in trained.baselines, JSON.stringify(trained));

    config.bundlePaths = [outDir];
    const info = await client.request(Configure, config);
    assert.equal(info.model, 'stories260K.gguf');
    const predicted = await client.request(Predict, { kind: 'smiles', text: 'c1ccccc1O' });
    assert.equal(predicted.device, 'cpu');
    assert.deepEqual(predicted.predictions.map((p) => p.tag), ['<LOGP>']);
    assert.ok(Number.isFinite(predicted.predictions[0].value));

    // Training again into the same folder replaces the loaded tag: predictions follow the new bundle.
    // (Here on another label, TPSA, whose scale differs, so the change cannot be missed.)
    await client.request(TrainFunctionTag, { dataPath: csv, inputColumns: ['smiles'], labelColumn: 'tpsa', domainTags: ['<SMILES>'], tagName: '<LOGP>', steps: 4, outDir });
    await client.request(Configure, config);
    const afterRetraining = await client.request(Predict, { kind: 'smiles', text: 'c1ccccc1O' });
    assert.notEqual(afterRetraining.predictions[0].value, predicted.predictions[0].value);
    await client.request(TrainFunctionTag, { dataPath: csv, inputColumns: ['smiles'], labelColumn: 'logp', domainTags: ['<SMILES>'], tagName: '<LOGP>', steps: 4, outDir });
    await client.request(Configure, config);
    assert.ok(Math.abs((await client.request(Predict, { kind: 'smiles', text: 'c1ccccc1O' })).predictions[0].value! - predicted.predictions[0].value!) < 1e-4, 'the same run again gives the same tag');

    // Requests that arrive together run as one batch; padding must not change a prediction.
    const molecules = ['CCO', 'c1ccc2ccccc2c1', 'CC(C)Cc1ccc(cc1)C(C)C(=O)O'];
    const together = await Promise.all(molecules.map((text) => client.request(Predict, { kind: 'smiles', text: text })));
    const fresh = new RuntimeClient({ serverPath, config: () => config, log: () => undefined });
    try {
      for (const [i, text] of molecules.entries()) {
        const alone = await fresh.request(Predict, { kind: 'smiles', text });
        assert.ok(Math.abs(alone.predictions[0].value! - together[i].predictions[0].value!) < 1e-4, `${text}: ${alone.predictions[0].value!} alone, ${together[i].predictions[0].value!} batched`);
      }
    } finally {
      fresh.dispose();
    }

    const evaluated = await client.request(Evaluate, { bundlePath: outDir, tag: '<LOGP>', dataPath: csv, inputColumns: ['smiles'], labelColumn: 'logp' });
    assert.equal(evaluated.points.length, 48);
    assert.ok(Number.isFinite(evaluated.metrics.mse));

    // A prediction in flight when the process dies fails with RuntimeExitedError; the next request restarts it.
    const firstPid = client.pid!;
    const inFlight = client.request(Predict, { kind: 'smiles', text: 'CCN(CC)CC' });
    process.kill(firstPid, 'SIGKILL');
    await assert.rejects(inFlight, RuntimeExitedError);
    const again = await client.request(Predict, { kind: 'smiles', text: 'c1ccccc1O' });
    assert.notEqual(client.pid, firstPid);
    assert.ok(Math.abs(again.predictions[0].value! - predicted.predictions[0].value!) < 1e-4, 'same prediction after restart');
  } finally {
    client.dispose();
  }
});

/** A client on stories260K with no bundles loaded and its log discarded. */
function bareClient(): RuntimeClient {
  const config: RuntimeConfig = { modelPath: dataPath('models/stories260K.gguf'), bundlePaths: [], device: 'cpu', cacheSize: 10 };
  return new RuntimeClient({ serverPath, config: () => config, log: () => undefined });
}

test('runtime process: Train Domain Tag learns <SMILES> from a .smi file and reports the untagged baseline', { timeout: 120_000 }, async () => {
  await bundleServer();
  const client = bareClient();
  try {
    const smi = join(work, 'corpus.smi');
    writeFileSync(smi, `${readFileSync(writeTrainingCsv(), 'utf8').split('\n').slice(1).join('\n')}`);
    const outDir = join(work, '.tagllm', 'smiles');
    const result = await client.request(TrainDomainTag, { dataPath: smi, inputColumn: null, tagName: '<SMILES>', steps: 2, outDir });
    assert.equal(result.tag, '<SMILES>');
    assert.ok(existsSync(join(outDir, 'tagbundle.json')));
    assert.ok(Number.isFinite(result.test.nll) && Number.isFinite(result.baselines.untagged.nll), JSON.stringify(result));
  } finally {
    client.dispose();
  }
});

test('runtime process: cancelling a training stops it', { timeout: 120_000 }, async () => {
  await bundleServer();
  const client = bareClient();
  try {
    const csv = writeTrainingCsv();
    const source = new CancellationTokenSource();
    const training = client.request(TrainFunctionTag, { dataPath: csv, inputColumns: ['smiles'], labelColumn: 'qed', domainTags: ['<SMILES>'], tagName: '<QED>', steps: 100_000, outDir: join(work, 'cancelled') }, source.token);
    const subscription = client.onNotification(TrainProgressNotification, () => source.cancel());
    const result = await training.then(
      (r) => r.stoppedBy,
      (e: Error) => e.message,
    );
    subscription.dispose();
    assert.match(result, /cancel|abort/i);
  } finally {
    client.dispose();
  }
});

test('runtime process: Train Function Tag with a text output column, then the tag writes text in predictions as the library does', { timeout: 600_000 }, async () => {
  await bundleServer();
  const config: RuntimeConfig = { modelPath: dataPath('models/stories260K.gguf'), bundlePaths: [], device: 'cpu', cacheSize: 100 };
  const client = new RuntimeClient({ serverPath, config: () => config, log: () => undefined });
  try {
    // ESOL's compound names as the text a <Name> tag learns to write after the molecule
    const rows = readFileSync(dataPath('molnet/esol.csv'), 'utf8').trim().split('\n').slice(1, 61).map((l) => l.split(','));
    const csv = join(work, 'names.csv');
    writeFileSync(csv, `smiles,name\n${rows.map((r) => `${r.at(-1)!.trim()},${r[0].replace(/"/g, '')}`).join('\n')}\n`);
    const outDir = join(work, '.tagllm', 'name');
    const trained = await client.request(TrainFunctionTag, { dataPath: csv, inputColumns: ['smiles'], labelColumn: 'name', domainTags: ['<SMILES>'], tagName: '<Name>', steps: 3, outDir, output: 'text' });
    assert.deepEqual(Object.keys(trained.test).sort(), ['bleu', 'chrf']);
    assert.deepEqual(Object.keys(trained.baselines).sort(), ['few_shot_3', 'instruction']);

    await client.request(Configure, { ...config, bundlePaths: [outDir] });
    const predicted = await client.request(Predict, { kind: 'smiles', text: 'c1ccccc1O' });
    const written = predicted.predictions.find((p) => p.tag === '<Name>')!;
    assert.equal(written.value, undefined);
    const model = await loadModel(dataPath('models/stories260K.gguf'));
    const [expected] = await (await createTextGenerator({ model, bundles: [outDir] })).generate([{ smiles: 'c1ccccc1O' }], { maxNewTokens: 32 });
    assert.equal(written.text, expected.text);
  } finally {
    client.dispose();
  }
});

test('runtime process: Export Training Job writes the Train Function Tag run as a job folder', { timeout: 120_000 }, async () => {
  await bundleServer();
  const client = bareClient();
  try {
    const csv = writeTrainingCsv();
    const outDir = join(work, '.tagllm', 'jobs', 'qed');
    const result = await client.request(ExportTrainingJob, { dataPath: csv, inputColumns: ['smiles'], labelColumn: 'qed', domainTags: ['<SMILES>'], tagName: '<QED>', steps: 7, outDir });
    assert.deepEqual(result, { jobDir: outDir, rows: 48, steps: 7 });
    const job = JSON.parse(readFileSync(join(outDir, 'job.json'), 'utf8'));
    assert.equal(job.stage, 'function');
    assert.equal(job.functionTag, '<QED>');
    assert.equal(readFileSync(join(outDir, 'data.csv'), 'utf8').trim().split('\n').length, 49);
    assert.ok(existsSync(join(outDir, 'train-slurm.sbatch')));
    await assert.rejects(client.request(ExportTrainingJob, { dataPath: csv, inputColumns: ['smiles'], labelColumn: 'qed', domainTags: ['<SMILES>'], tagName: '<QED>', steps: 7, outDir }), /not empty/);
  } finally {
    client.dispose();
  }
});
