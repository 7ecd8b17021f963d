// Stage 3 reuses the keys and values of each row's frozen prefix (the protein and its
// <Protein> tag on Davis), and every training step runs the positions before the first
// trainable tag forward only. Neither may change what training computes: a run with them ends
// with the same tags and test metrics as the same run on a backend without keys and values,
// and a cut step has the loss and gradients of the whole step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/runtime/model/load';
import { TrainSession } from '../../src/runtime/session/trainSession';
import type { TrainBackend } from '../../src/runtime/train/backend';
import { firstTrainableStart, frozenPrefixEnd, leftPaddedPast, prefixOf, splitBeforeTrainable, suffixOf } from '../../src/runtime/train/prefixCache';
import { sumTagGradients } from '../../src/runtime/train/tagGradients';
import { batchInputs } from '../../src/runtime/tags/expand';
import { EMBEDDING_WEIGHT } from '../../src/runtime/tags/fingerprint';
import { initLinearHead } from '../../src/runtime/tags/head';
import { runStage, type StageOptions } from '../../src/runtime/train/stages';
import { loadTagBundle } from '../../src/runtime/tags/bundleFiles';
import { modelFingerprint } from '../../src/runtime/tags/fingerprint';
import type { ExpandedInput } from '../../src/runtime/tags/expand';
import type { TagName } from '../../src/runtime/tags/name';
import { dataPath } from '../helpers/data';

const dir = mkdtempSync(join(tmpdir(), 'tagllm-prefix-'));
const tag = (t: string) => t as TagName;

/** Davis pairs of the first `proteins` proteins, joined with SMILES and sequences, as one CSV. */
function davisSubset(proteins: number): string {
  const davis = (f: string) => readFileSync(dataPath('dti', 'davis', f), 'utf8');
  const smiles = new Map(davis('drugs.csv').trim().split(/\r?\n/).slice(1).map((l) => l.split(',') as [string, string]));
  const sequences = new Map<string, string>();
  let id = '';
  for (const line of davis('proteins.fasta').split(/\r?\n/)) {
    if (line.startsWith('>')) sequences.set((id = line.slice(1).trim()), '');
    else sequences.set(id, sequences.get(id)! + line.trim());
  }
  const keep = new Set([...sequences.keys()].slice(0, proteins));
  const rows = davis('pairs.csv').trim().split(/\r?\n/).slice(1).map((l) => l.split(',')).filter(([, p]) => keep.has(p));
  const path = join(dir, `davis-${proteins}.csv`);
  writeFileSync(path, 'smiles,sequence,pkd\n' + rows.map(([d, p, y]) => `${smiles.get(d)},${sequences.get(p)},${y}`).join('\n') + '\n');
  return path;
}

test('stage 3 with cached protein prefixes and steps cut before <BA> trains and evaluates exactly as without keys and values', async () => {
  const model = await loadModel(dataPath('models', 'stories260K.gguf'));
  const session = await TrainSession.create(model);
  // the same session without keyValues: the stage then runs every row in full
  const uncached: TrainBackend = {
    provider: session.provider,
    hidden: (b, past) => session.hidden(b, past),
    regressionStep: (b, spans, targets, head, past) => session.regressionStep(b, spans, targets, head, past),
    logisticStep: (b, spans, labels, weights, head, past) => session.logisticStep(b, spans, labels, weights, head, past),
    nextTokenStep: (b, targets) => session.nextTokenStep(b, targets),
    nextTokenLoss: (b, targets) => session.nextTokenLoss(b, targets),
  };
  const data = davisSubset(3);
  const run = async (backend: TrainBackend, out: string, extra: Partial<StageOptions> = {}) => {
    const messages: string[] = [];
    const losses: number[] = [];
    const options: StageOptions = {
      stage: 'cross', model, backend, data, inputColumns: ['sequence', 'smiles'], domains: [tag('<Protein>'), tag('<SMILES>')], functionTag: tag('<BA>'),
      label: 'pkd', sample: 60, split: '0.2', maxInputLength: 48, p: 3, batchSize: 8, microBatch: 8, steps: 5, evalEvery: 2, lr: 0.01, seed: 1,
      baselines: false, out, onMessage: (m) => messages.push(m),
      onProgress: (p) => losses.push(p.loss, ...(p.validationLoss !== undefined ? [p.validationLoss] : [])),
      ...extra,
    };
    return { report: await runStage(options), messages, losses };
  };
  const cached = await run(session, join(dir, 'cached'));
  const full = await run(uncached, join(dir, 'full'));

  // three proteins, two prefixes: the two ABL1 mutants among them agree on their first 48 residues
  assert.ok(cached.messages.includes('reusing the keys and values of 2 shared frozen prefixes'), cached.messages.join('\n'));
  assert.ok(!full.messages.some((m) => m.startsWith('reusing')));
  // and each step runs the drug and its <SMILES> tag forward only
  assert.ok(cached.messages.includes('training steps run the positions before the first trainable tag forward only'), cached.messages.join('\n'));
  assert.ok(!full.messages.some((m) => m.startsWith('training steps run')));
  assert.equal(cached.report.steps, 5);
  assert.equal(cached.report.steps, full.report.steps);
  // every step's training loss (after the tags the earlier steps moved) and validation loss agree
  assert.equal(cached.losses.length, full.losses.length);
  cached.losses.forEach((l, k) => assert.ok(Math.abs(l - full.losses[k]) <= 1e-4 * Math.max(1, full.losses[k]), `loss ${k}: ${l} with the cache, ${full.losses[k]} without`));
  assert.equal(cached.report.best_step, full.report.best_step);
  for (const key of ['mse', 'pearson', 'ci'] as const) {
    const a = cached.report.test[key]!;
    const b = full.report.test[key]!;
    assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `${key}: ${a} with the cache, ${b} without`);
  }
  // evaluating the saved bundle (tagllm eval) reads through the cache too, and scores the same
  const evaluated = await run(session, join(dir, 'cached'), { evaluateOnly: true, startBundles: [join(dir, 'cached')] });
  assert.ok(evaluated.messages.some((m) => m.startsWith('reusing')));
  assert.ok(Math.abs(evaluated.report.test.mse! - cached.report.test.mse!) <= 1e-5 * Math.max(1, cached.report.test.mse!));
  const fingerprint = modelFingerprint(model);
  const a = (await loadTagBundle(join(dir, 'cached'), fingerprint)).bundle;
  const b = (await loadTagBundle(join(dir, 'full'), fingerprint)).bundle;
  const x = a.values.get(tag('<BA>'))!.data;
  const y = b.values.get(tag('<BA>'))!.data;
  const worst = x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
  assert.ok(worst < 1e-4, `<BA> differs by ${worst}`);
  await session.release();
});

test('a step cut before the first trainable tag has the loss and gradients of the whole step, after a cached prefix too', async () => {
  const model = await loadModel(dataPath('models', 'stories260K.gguf'));
  const session = await TrainSession.create(model);
  const h = model.config.hiddenSize;
  const [frozen, trained] = [tag('<F>'), tag('<T>')];
  const trainable = new Set([trained]);
  // [a tokens][<F> 2][b tokens][<T> 3], every vector distinct
  const rowOf = (a: number, b: number, seed: number): ExpandedInput => {
    const length = a + 2 + b + 3;
    return {
      seqLength: length, hiddenSize: h, inputsEmbeds: Float32Array.from({ length: length * h }, (_, i) => 0.5 * Math.sin(seed * 997 + i * 12.9898)),
      tokenIds: new Int32Array(length).fill(1), tagSpans: [{ tag: frozen, start: a, length: 2 }, { tag: trained, start: a + 2 + b, length: 3 }],
      readSpan: { start: a + 2 + b, length: 3 },
    };
  };
  const rows = [rowOf(1, 9, 1), rowOf(4, 5, 2), rowOf(2, 12, 3)];
  assert.deepEqual(rows.map((r) => firstTrainableStart(r, trainable)), [12, 11, 16]);
  const batch = batchInputs(rows);
  const head = initLinearHead(model.weights.get(EMBEDDING_WEIGHT)!, 1);
  const targets = Float32Array.of(0.5, -1, 2);
  const whole = await session.regressionStep(batch, batch.rows.map((r) => r.readSpan), targets, head);
  const tagGradient = (b: typeof batch, d: Float32Array) => sumTagGradients(b, d, trainable).get(trained)!;
  const expectSame = async (step: Awaited<ReturnType<typeof splitBeforeTrainable>>, what: string) => {
    assert.ok(step.past, `${what}: the step was not cut`);
    assert.equal(step.batch.seqLength, 3, what);
    const cut = await session.regressionStep(step.batch, step.batch.rows.map((r) => r.readSpan), targets, head, step.past);
    const close = (x: ArrayLike<number>, y: ArrayLike<number>, name: string) => {
      const scale = Math.max(1e-3, ...Array.from(y, Math.abs));
      for (let i = 0; i < y.length; i++) assert.ok(Math.abs(x[i] - y[i]) <= 1e-4 * scale, `${what}: ${name}[${i}] ${x[i]} cut, ${y[i]} whole`);
    };
    close([cut.loss], [whole.loss], 'loss');
    close(cut.dHeadWeight, whole.dHeadWeight, 'd head weight');
    close(cut.dHeadBias, whole.dHeadBias, 'd head bias');
    close(tagGradient(step.batch, cut.dInputsEmbeds), tagGradient(batch, whole.dInputsEmbeds), 'd <T>');
  };
  await expectSame(await splitBeforeTrainable(session, { batch }, trainable), 'no cache');
  // a cache of different lengths per row (left-padded), then the cut continues it
  const cached = [3, 6, 2];
  const prefixes = batchInputs(rows.map((r, b) => prefixOf(r, cached[b])));
  const past = leftPaddedPast(await session.keyValues(prefixes));
  await expectSame(await splitBeforeTrainable(session, { batch: batchInputs(rows.map((r, b) => suffixOf(r, cached[b]))), past }, trainable), 'after a cache');
  // a trainable tag first in a row: nothing to cut
  const both = new Set([frozen, trained]);
  assert.equal((await splitBeforeTrainable(session, { batch: batchInputs([rowOf(0, 4, 4), rowOf(1, 4, 5)]) }, both)).past, undefined);
  await session.release();
});

test('the prefix ends before the last frozen tag that precedes the first trainable one', () => {
  const row: ExpandedInput = {
    seqLength: 12, hiddenSize: 1, inputsEmbeds: Float32Array.from({ length: 12 }, (_, i) => i), tokenIds: Int32Array.from([1, 5, -1, -1, 7, 8, -1, -1, 9, 3, -1, -1]),
    tagSpans: [{ tag: tag('<Protein>'), start: 2, length: 2 }, { tag: tag('<SMILES>'), start: 6, length: 2 }, { tag: tag('<BA>'), start: 10, length: 2 }],
    readSpan: { start: 10, length: 2 },
  };
  assert.equal(frozenPrefixEnd(row, new Set([tag('<BA>')])), 6);
  assert.equal(frozenPrefixEnd(row, new Set([tag('<SMILES>'), tag('<BA>')])), 2);
  assert.equal(frozenPrefixEnd(row, new Set([tag('<Protein>'), tag('<BA>')])), 0);
  assert.equal(frozenPrefixEnd(row, new Set()), 0);
  const rest = suffixOf(row, 6);
  assert.deepEqual([...rest.inputsEmbeds], [6, 7, 8, 9, 10, 11]);
  assert.deepEqual(rest.tagSpans, [{ tag: tag('<SMILES>'), start: 0, length: 2 }, { tag: tag('<BA>'), start: 4, length: 2 }]);
  assert.deepEqual(rest.readSpan, { start: 4, length: 2 });
});

test('prefixes of different lengths are left-padded per head, with a mask of their real positions', () => {
  // 2 kv heads, head width 1: values name (head, position)
  const short = { length: 1, kvHeads: 2, keys: [Float32Array.of(10, 20)], values: [Float32Array.of(-10, -20)] };
  const long = { length: 3, kvHeads: 2, keys: [Float32Array.of(11, 12, 13, 21, 22, 23)], values: [Float32Array.of(-11, -12, -13, -21, -22, -23)] };
  const past = leftPaddedPast([short, long]);
  assert.equal(past.length, 3);
  assert.deepEqual([...past.mask], [0n, 0n, 1n, 1n, 1n, 1n]);
  assert.deepEqual([...past.keys[0]], [0, 0, 10, 0, 0, 20, 11, 12, 13, 21, 22, 23]);
  assert.deepEqual([...past.values[0]], [0, 0, -10, 0, 0, -20, -11, -12, -13, -21, -22, -23]);
});
