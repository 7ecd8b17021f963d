// Stage 3 reuses the keys and values of each row's frozen prefix (the protein and its
// <Protein> tag on Davis). Reusing them must not change what training computes: a run with
// the cache ends with the same tags and test metrics as the same run on a backend without one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/runtime/model/load';
import { TrainSession } from '../../src/runtime/session/trainSession';
import type { TrainBackend } from '../../src/runtime/train/backend';
import { frozenPrefixEnd, leftPaddedPast, suffixOf } from '../../src/runtime/train/prefixCache';
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

test('stage 3 with cached protein prefixes trains and evaluates exactly as without the cache', async () => {
  const model = await loadModel(dataPath('models', 'stories260K.gguf'));
  const session = await TrainSession.create(model);
  // the same session without keyValues: the stage then runs every row in full
  const uncached: TrainBackend = {
    provider: session.provider,
    hidden: (b, past) => session.hidden(b, past),
    regressionStep: (b, spans, targets, head, past) => session.regressionStep(b, spans, targets, head, past),
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
