// Nothing is lost under load: a runtime process killed in the middle of a training run resumes
// from its last checkpoint when asked and ends where an unbroken run ends; and while a training
// run holds the runtime, hovers are answered from the card cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { CancellationTokenSource } from 'vscode-jsonrpc';
import { RuntimeClient, RuntimeExitedError } from '../../src/extension/runtimeClient';
import { Describe, TrainFunctionTag, TrainProgressNotification, type RuntimeConfig, type TrainFunctionParams } from '../../src/extension/protocol';
import { checkpointStateFileFor } from '../../src/runtime/train/checkpointPaths';
import { dataPath } from '../helpers/data';

const work = mkdtempSync(join(tmpdir(), 'tagllm-load-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const serverPath = join(process.cwd(), 'out', 'test-runtime-load', 'runtimeServer.js');

async function bundleServer(): Promise<void> {
  await build({ entryPoints: ['src/extension/runtimeServer.ts'], outfile: serverPath, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'error', external: ['onnxruntime-node', '@rdkit/rdkit'] });
}

function client(): RuntimeClient {
  const config: RuntimeConfig = { modelPath: dataPath('models/stories260K.gguf'), bundlePaths: [], device: 'cpu', cacheSize: 100 };
  return new RuntimeClient({ serverPath, config: () => config, log: () => undefined });
}

function trainingCsv(): string {
  const rows = readFileSync(dataPath('molnet/esol.csv'), 'utf8').trim().split('\n').slice(1, 49).map((l) => l.split(',').at(-1)!.trim());
  const file = join(work, 'train.csv');
  writeFileSync(file, `smiles\n${rows.join('\n')}\n`);
  return file;
}

// 10 steps checkpoint after every step; early stopping ends the run after a few, the same way each time
const STEPS = 10;

test('a runtime killed mid-training resumes from its last checkpoint and ends as an unbroken run does', { timeout: 600_000 }, async () => {
  await bundleServer();
  const csv = trainingCsv();
  const params = (outDir: string): TrainFunctionParams => ({ dataPath: csv, inputColumns: ['smiles'], labelColumn: 'qed', domainTags: ['<SMILES>'], tagName: '<QED>', steps: STEPS, outDir });
  const runtime = client();
  try {
    const unbroken = await runtime.request(TrainFunctionTag, params(join(work, 'unbroken')));
    assert.ok(unbroken.steps >= 3, `the unbroken run took ${unbroken.steps} steps`);

    const outDir = join(work, 'killed');
    let killedAt = -1;
    const subscription = runtime.onNotification(TrainProgressNotification, (p) => {
      // kill once a checkpoint exists, before the end
      if (killedAt < 0 && p.step < unbroken.steps && existsSync(checkpointStateFileFor(outDir))) {
        killedAt = p.step;
        process.kill(runtime.pid!, 'SIGKILL');
      }
    });
    await assert.rejects(runtime.request(TrainFunctionTag, params(outDir)), RuntimeExitedError);
    subscription.dispose();
    assert.ok(killedAt >= 1 && killedAt < unbroken.steps, `killed at step ${killedAt}`);

    const steps: number[] = [];
    const watching = runtime.onNotification(TrainProgressNotification, (p) => steps.push(p.step));
    const resumed = await runtime.request(TrainFunctionTag, { ...params(outDir), resume: true });
    watching.dispose();
    // it went on from the checkpoint (written after the step before the kill), not from step 1
    assert.ok(steps.length > 0 && steps[0] > 1 && steps[0] <= killedAt, `resumed at step ${steps[0]}, killed at ${killedAt}`);
    assert.equal(resumed.steps, unbroken.steps);
    assert.equal(resumed.stoppedBy, unbroken.stoppedBy);
    assert.ok(Math.abs(resumed.test.mse - unbroken.test.mse) <= 1e-6 * Math.max(1, unbroken.test.mse), `mse ${resumed.test.mse} resumed, ${unbroken.test.mse} unbroken`);
    const tags = (dir: string) => readFileSync(join(dir, 'tags.safetensors'));
    const a = new Float32Array(tags(join(work, 'unbroken')).buffer.slice(0));
    const b = new Float32Array(tags(outDir).buffer.slice(0));
    assert.equal(a.length, b.length);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    assert.ok(worst < 1e-5, `tag values differ by up to ${worst}`);
  } finally {
    runtime.dispose();
  }
});

test('while a training run holds the runtime, a hover is answered from the card cache', { timeout: 300_000 }, async () => {
  await bundleServer();
  const runtime = client();
  try {
    const aspirin = { kind: 'smiles' as const, text: 'CC(=O)Oc1ccccc1C(=O)O' };
    const first = await runtime.request(Describe, aspirin);
    const source = new CancellationTokenSource();
    let trainingOver = false;
    let progressSeen = 0;
    const progressed = new Promise<void>((resolve) => runtime.onNotification(TrainProgressNotification, () => ++progressSeen === 2 && resolve()));
    const training = runtime
      .request(TrainFunctionTag, { dataPath: trainingCsv(), inputColumns: ['smiles'], labelColumn: 'qed', domainTags: ['<SMILES>'], tagName: '<QED>', steps: 100_000, outDir: join(work, 'busy') }, source.token)
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => (trainingOver = true));
    await progressed;
    const cards = await Promise.all(Array.from({ length: 5 }, () => runtime.request(Describe, aspirin)));
    assert.equal(trainingOver, false, 'the hovers were answered while the training ran');
    for (const card of cards) assert.deepEqual(card, first);
    source.cancel();
    await training;
  } finally {
    runtime.dispose();
  }
});
