import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainParameters, type TrainObjective, type TrainerOptions } from '../../src/runtime/train/trainer';
import { SeededRng } from '../../src/runtime/train/rng';
import { makeTagBundle } from '../../src/runtime/tags/bundle';
import { loadTagBundle } from '../../src/runtime/tags/bundleFiles';
import type { TagName } from '../../src/runtime/tags/name';

// A linear-regression objective in plain TypeScript: loss = mean (w·x - y)², exact gradients.
function linearObjective(nTrain: number, nValid: number, seed: number, params: Map<string, Float32Array>): TrainObjective {
  const rng = new SeededRng(seed);
  const d = 4;
  const truth = [1, -2, 0.5, 3];
  const make = (n: number) =>
    Array.from({ length: n }, () => {
      const x = Array.from({ length: d }, () => rng.next() * 2 - 1);
      return { x, y: x.reduce((s, v, j) => s + v * truth[j], 0) + 0.05 * (rng.next() - 0.5) };
    });
  const train = make(nTrain);
  const valid = make(nValid);
  const lossOn = (rows: typeof train) => rows.reduce((s, r) => s + (r.x.reduce((t, v, j) => t + v * params.get('w')![j], 0) - r.y) ** 2, 0) / rows.length;
  return {
    nTrain,
    async lossAndGradients(indices) {
      const w = params.get('w')!;
      const g = new Float32Array(d);
      let loss = 0;
      for (const i of indices) {
        const r = train[i];
        const e = r.x.reduce((t, v, j) => t + v * w[j], 0) - r.y;
        loss += e * e;
        r.x.forEach((v, j) => (g[j] += (2 * e * v) / indices.length));
      }
      return { loss: loss / indices.length, gradients: new Map([['w', g]]) };
    },
    async validationLoss() {
      return nValid > 0 ? lossOn(valid) : undefined;
    },
  };
}

const base: TrainerOptions = { lr: 0.05, steps: 60, batchSize: 8, microBatch: 3, seed: 11, evalEvery: 5, patience: 100, checkpointEvery: 10 };

test('the loop lowers the loss to the noise floor with accumulated micro-batches', async () => {
  const params = new Map([['w', new Float32Array(4)]]);
  const obj = linearObjective(200, 50, 1, params);
  const before = (await obj.validationLoss())!;
  const r = await trainParameters(params, obj, { ...base, steps: 300 });
  assert.equal(r.stoppedBy, 'steps');
  assert.ok(r.bestValidationLoss! < before / 100, `${before} -> ${r.bestValidationLoss}`);
  assert.ok(Math.abs(params.get('w')![1] - -2) < 0.1);
});

test('early stopping halts when validation stops improving and restores the best parameters', async () => {
  const params = new Map([['w', new Float32Array(4)]]);
  const obj = linearObjective(200, 50, 2, params);
  // a learning rate far too large makes validation worsen after the first evaluations
  const r = await trainParameters(params, obj, { ...base, lr: 5, steps: 500, evalEvery: 1, patience: 3, warmupFraction: 0 });
  assert.equal(r.stoppedBy, 'early-stopping');
  assert.ok(r.steps < 500);
  assert.ok(Math.abs((await obj.validationLoss())! - r.bestValidationLoss!) < 1e-6);
});

test('a cancelled run resumed from its checkpoint ends exactly where an uninterrupted run ends', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagllm-train-'));
  const full = new Map([['w', new Float32Array(4)]]);
  const rFull = await trainParameters(full, linearObjective(100, 20, 3, full), { ...base, checkpointDir: join(dir, 'full.ck') });

  const split = new Map([['w', new Float32Array(4)]]);
  const controller = new AbortController();
  const ck = join(dir, 'split.ck');
  const first = await trainParameters(split, linearObjective(100, 20, 3, split), {
    ...base, checkpointDir: ck, signal: controller.signal, onProgress: (p) => p.step === 23 && controller.abort(),
  });
  assert.equal(first.stoppedBy, 'cancelled');
  assert.equal(first.steps, 23);
  const resumed = new Map([['w', new Float32Array(4)]]);
  const second = await trainParameters(resumed, linearObjective(100, 20, 3, resumed), { ...base, checkpointDir: ck, resume: true });
  assert.equal(second.steps, rFull.steps);
  assert.deepEqual(Array.from(resumed.get('w')!), Array.from(full.get('w')!));
  assert.deepEqual(second.history, rFull.history);
});

test('resuming from the checkpoint of a run with other parameters is an error naming the checkpoint and the parameter', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagllm-train-'));
  const ck = join(dir, 'ck');
  const four = new Map([['w', new Float32Array(4)]]);
  await trainParameters(four, linearObjective(40, 10, 4, four), { ...base, steps: 2, checkpointDir: ck });
  const six = new Map([['w', new Float32Array(6)]]);
  await assert.rejects(trainParameters(six, linearObjective(40, 10, 6, six), { ...base, checkpointDir: ck, resume: true }), (err: Error) => {
    assert.equal(err.name, 'ShapeMismatchError');
    assert.ok(err.message.startsWith(ck), err.message);
    assert.match(err.message, /parameter w needs 6 values, it holds 4 values/);
    return true;
  });
  assert.deepEqual(Array.from(six.get('w')!), [0, 0, 0, 0, 0, 0]);
});

test('a cancelled run leaves its checkpoint as a loadable tag bundle', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagllm-train-'));
  const tag = '<Toy>' as TagName;
  const fingerprint = { architecture: 'llama', hiddenSize: 2, vocabSize: 10, embeddingSha256: '0'.repeat(64) };
  const params = new Map([['w', new Float32Array(4)]]);
  const controller = new AbortController();
  const r = await trainParameters(params, linearObjective(50, 10, 4, params), {
    ...base, checkpointDir: join(dir, 'ck'), signal: controller.signal, onProgress: (p) => p.step === 7 && controller.abort(),
    toBundle: (p) => makeTagBundle(fingerprint, [{ name: tag, kind: 'domain', description: 'toy', value: { p: 2, hiddenSize: 2, data: p.get('w')! } }]),
  });
  assert.equal(r.stoppedBy, 'cancelled');
  const loaded = await loadTagBundle(join(dir, 'ck', 'bundle'));
  assert.deepEqual(Array.from(loaded.bundle.values.get(tag)!.data), Array.from(params.get('w')!));
});

test('early stopping never ends worse on validation than the starting parameters (step 0)', async () => {
  const params = new Map([['w', Float32Array.from([1, -2, 0.5, 3])]]);
  const obj = linearObjective(200, 50, 5, params);
  const start = (await obj.validationLoss())!;
  // starting at the truth, a rate far too large only makes things worse: the start must be kept
  const r = await trainParameters(params, obj, { ...base, lr: 5, steps: 40, evalEvery: 4, patience: 3, warmupFraction: 0 });
  assert.equal(r.startValidationLoss, start);
  assert.equal(r.bestStep, 0);
  assert.deepEqual(Array.from(params.get('w')!), [1, -2, 0.5, 3]);
});

test('a learning-rate scale of 0 keeps the parameters it names fixed', async () => {
  const params = new Map([['w', new Float32Array(4)]]);
  const obj = linearObjective(100, 20, 6, params);
  await trainParameters(params, obj, { ...base, steps: 20, lrScale: new Map([['w', 0]]) });
  assert.deepEqual(Array.from(params.get('w')!), [0, 0, 0, 0]);
});
