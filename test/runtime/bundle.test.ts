import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, truncateSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPath } from '../helpers/data';
import { loadGgufModel } from '../../src/runtime/model/gguf/toModel';
import type { LoadedModel } from '../../src/runtime/model/description';
import { InvalidFileError, ShapeMismatchError, UsageError } from '../../src/runtime/errors';
import { parseTagName } from '../../src/runtime/tags/name';
import { EMBEDDING_WEIGHT, modelFingerprint } from '../../src/runtime/tags/fingerprint';
import { initTagValue } from '../../src/runtime/tags/init';
import { applyHead, initLinearHead, targetScale, toTargetUnits, type LinearHead } from '../../src/runtime/tags/head';
import { makeTagBundle, type TagBundle } from '../../src/runtime/tags/bundle';
import { loadTagBundle, saveTagBundle, META_FILE, TAGS_FILE } from '../../src/runtime/tags/bundleFiles';
import { TagRegistry } from '../../src/runtime/tags/registry';
import { resolveTemplate } from '../../src/runtime/tags/template';
import { floatWeights } from '../helpers/weights';
import { createPredictor } from '../../src/runtime/predict';

const stories = loadGgufModel(dataPath('models/stories260K.gguf'));
const tinyBpe = loadGgufModel(dataPath('models/tiny-bpe-llama.gguf'));
const scratch = mkdtempSync(join(tmpdir(), 'tagllm-bundle-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

function randomHead(outputs: number, hidden: number, seed: number): LinearHead {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32 - 0.5);
  return { outputs, hiddenSize: hidden, weight: Float32Array.from({ length: outputs * hidden }, next), bias: Float32Array.from({ length: outputs }, next) };
}

function qedBundle(model: LoadedModel, p = 4, seed = 1): TagBundle {
  const embedding = floatWeights(model).get(EMBEDDING_WEIGHT)!;
  const H = model.config.hiddenSize;
  return makeTagBundle(modelFingerprint(model), [
    { name: parseTagName('<SMILES>'), kind: 'domain', description: 'a molecule as SMILES', value: initTagValue(embedding, p), training: { data: 'hiv.csv', rows: 41126, stage: 1 } },
    {
      name: parseTagName('<QED>'),
      kind: 'function',
      description: 'quantitative estimate of druglikeness score',
      template: resolveTemplate('molecule-property').text,
      value: { p, hiddenSize: H, data: Float32Array.from({ length: p * H }, (_, i) => Math.sin(i * seed)) },
      head: randomHead(1, H, seed),
      outputs: [{ name: 'QED', units: '', targetMean: 0.55, targetStd: 0.21 }],
      metrics: { mse: 0.008, pearson: 0.93 },
    },
  ]);
}

test('tag init: every vector is the mean embedding row, scaled to the mean row norm', async () => {
  const embedding = floatWeights(await stories).get(EMBEDDING_WEIGHT)!;
  const [V, H] = embedding.shape;
  const rows = Array.from({ length: V }, (_, v) => embedding.data.subarray(v * H, (v + 1) * H));
  const meanNorm = rows.reduce((s, r) => s + Math.hypot(...r), 0) / V;
  const mean = Array.from({ length: H }, (_, h) => rows.reduce((s, r) => s + r[h], 0) / V);
  const tag = initTagValue(embedding, 3);
  assert.equal(tag.data.length, 3 * H);
  for (let i = 0; i < 3; i++) {
    const row = tag.data.subarray(i * H, (i + 1) * H);
    assert.ok(Math.abs(Math.hypot(...row) - meanNorm) < 1e-5 * meanNorm);
    const cos = row.reduce((s, x, h) => s + x * mean[h], 0) / (Math.hypot(...row) * Math.hypot(...mean));
    assert.ok(cos > 1 - 1e-6);
  }
});

test('heads: H -> k on a hidden state, and back to target units', () => {
  const head = randomHead(2, 5, 7);
  const hidden = Float32Array.from([1, -2, 0.5, 3, -1]);
  const out = applyHead(head, hidden);
  for (let k = 0; k < 2; k++) {
    const expected = head.bias[k] + hidden.reduce((s, x, h) => s + x * head.weight[k * 5 + h], 0);
    assert.ok(Math.abs(out[k] - expected) < 1e-6);
  }
  const scale = targetScale([1, 2, 3, 4]);
  assert.deepEqual(scale, { mean: 2.5, std: Math.sqrt(1.25) });
  assert.equal(toTargetUnits(1, scale), 2.5 + Math.sqrt(1.25));
  assert.equal(initLinearHead({ shape: [2, 3], data: Float32Array.from([1, 2, 3, 3, 4, 5]) }, 1).weight.join(), '2,3,4');
});

test('bundles round-trip through save and load, exactly; saving over a bundle replaces it whole', async () => {
  const model = await stories;
  const dir = join(scratch, 'qed');
  const bundle = qedBundle(model);
  await saveTagBundle(dir, bundle);
  assert.deepEqual(readdirSync(dir).sort(), [META_FILE, TAGS_FILE]);
  const loaded = await loadTagBundle(dir, modelFingerprint(model));
  assert.equal(loaded.path, dir);
  assert.deepEqual(loaded.bundle.meta, bundle.meta);
  assert.deepEqual(loaded.bundle.values, bundle.values);
  assert.deepEqual(loaded.bundle.heads, bundle.heads);
  assert.deepEqual((await loadTagBundle(join(dir, META_FILE))).bundle.meta, bundle.meta);

  const second = qedBundle(model, 2, 3);
  await saveTagBundle(dir, second);
  assert.deepEqual((await loadTagBundle(dir)).bundle.values, second.values);
  assert.deepEqual(readdirSync(scratch).filter((n) => n.includes('qed')), ['qed'], 'no temporary folders are left behind');
});

test('a bundle made for another model is refused with one line naming the bundle and the difference', async () => {
  const dir = join(scratch, 'for-tiny-bpe');
  await saveTagBundle(dir, qedBundle(await tinyBpe));
  const err = await loadTagBundle(dir, modelFingerprint(await stories)).catch((e: unknown) => e);
  assert.ok(err instanceof ShapeMismatchError);
  assert.equal(err.message.split('\n').length, 1);
  assert.match(err.message, new RegExp(`^${dir}: tag bundle was made for another model .*vocab size 1024 vs 512; embedding sha256 `));
});

test('corrupt and partial bundles give clear one-line errors', async () => {
  const model = await stories;
  const fresh = async (name: string) => {
    const dir = join(scratch, name);
    await saveTagBundle(dir, qedBundle(model));
    return dir;
  };
  const rejects = async (dir: string, pattern: RegExp) => {
    const err = await loadTagBundle(dir, modelFingerprint(model)).catch((e: unknown) => e);
    assert.ok(err instanceof InvalidFileError, `${pattern}: got ${err}`);
    assert.match(err.message, pattern);
    assert.equal(err.message.split('\n').length, 1);
  };
  await rejects(join(scratch, 'nothing-here'), /nothing-here: not a tag bundle: cannot read tagbundle\.json \(ENOENT\)/);

  const noTensors = await fresh('no-tensors');
  rmSync(join(noTensors, TAGS_FILE));
  await rejects(noTensors, /incomplete tag bundle: tags\.safetensors is missing/);

  const truncated = await fresh('truncated');
  truncateSync(join(truncated, TAGS_FILE), statSync(join(truncated, TAGS_FILE)).size - 10);
  await rejects(truncated, /truncated[/\\]tags\.safetensors: /);

  const edit = async (name: string, change: (meta: Record<string, any>) => void) => {
    const dir = await fresh(name);
    const meta = JSON.parse(readFileSync(join(dir, META_FILE), 'utf8'));
    change(meta);
    writeFileSync(join(dir, META_FILE), JSON.stringify(meta));
    return dir;
  };
  await rejects(await edit('wrong-p', (m) => (m.p = 5)), /tag\.<\w+> has shape \[4, 64\], the bundle says \[5, 64\]/);
  await rejects(await edit('extra-tag', (m) => (m.tags['<LogP>'] = { kind: 'domain', description: '' })), /tag <LogP> has no tensor tag\.<LogP>/);
  await rejects(await edit('bad-kind', (m) => (m.tags['<QED>'].kind = 'fn')), /tags\.<QED>\.kind must be "domain" or "function"/);
  await rejects(await edit('future', (m) => (m.formatVersion = 4)), /format version 4 is not supported/);
  await rejects(await edit('bad-evidence', (m) => (m.tags['<QED>'].evidence = { metric: 'rmse', value: 1 })), /tags\.<QED>\.evidence must hold/);
  await rejects(await edit('bad-domain', (m) => (m.tags['<QED>'].domain = { sketch: 'morgan', bits: 1024, count: 2, fingerprints: 'AAAA', threshold: 0.3 })), /tags\.<QED>\.domain must hold/);
  await rejects(await edit('bad-approved', (m) => (m.tags['<QED>'].outputs[0].approved = { source: 'x', n: 3, quantiles: [3, 2, 1] })), /outputs\[0\]\.approved must hold/);
  await rejects(await edit('bad-task', (m) => (m.tags['<QED>'].task = 'ranking')), /task must be "regression" or "classification"/);
  await rejects(await edit('last-vector-head', (m) => (m.formatVersion = 1)), /format version 1: the head of <\w+> reads only the last vector.*retrain/);
  // a version-1 bundle of domain tags only (no head to misread) still loads
  const domainOnly = join(scratch, 'v1-domain');
  const embedding = floatWeights(model).get(EMBEDDING_WEIGHT)!;
  await saveTagBundle(domainOnly, makeTagBundle(modelFingerprint(model), [{ name: parseTagName('<SMILES>'), kind: 'domain', description: 'SMILES', value: initTagValue(embedding, 4) }]));
  const v1 = JSON.parse(readFileSync(join(domainOnly, META_FILE), 'utf8'));
  v1.formatVersion = 1;
  writeFileSync(join(domainOnly, META_FILE), JSON.stringify(v1));
  assert.deepEqual((await loadTagBundle(domainOnly, modelFingerprint(model))).bundle.values.get(parseTagName('<SMILES>'))!.data, initTagValue(embedding, 4).data);
  await rejects(await edit('zero-std', (m) => (m.tags['<QED>'].outputs[0].targetStd = 0)), /positive finite std/);

  const notJson = await fresh('not-json');
  writeFileSync(join(notJson, META_FILE), '{"format": "tagllm.tagbundle",');
  await rejects(notJson, /not-json[/\\]tagbundle\.json: not valid JSON/);

  const bundle = qedBundle(model);
  bundle.values.get(parseTagName('<SMILES>'))!.data[5] = NaN;
  await assert.rejects(saveTagBundle(join(scratch, 'nan'), bundle), /tag\.<SMILES> holds a non-finite value \(NaN\) at index 5/);
});

test('bundles compose by name; identical copies of a tag are one tag; a name with two different values is an error naming both', async () => {
  const model = await stories;
  const fp = modelFingerprint(model);
  const embedding = floatWeights(model).get(EMBEDDING_WEIGHT)!;
  const domain = { path: 'smiles-bundle', bundle: makeTagBundle(fp, [{ name: parseTagName('<SMILES>'), kind: 'domain', description: 'SMILES', value: initTagValue(embedding, 4) }]) };
  const logp = {
    path: 'logp-bundle',
    bundle: makeTagBundle(fp, [
      {
        name: parseTagName('<LogP>'),
        kind: 'function',
        description: 'logP',
        template: resolveTemplate('molecule-property', { tag: parseTagName('<LogP>'), description: 'logP' }).text,
        value: initTagValue(embedding, 4),
        head: randomHead(1, 64, 2),
        outputs: [{ name: 'logP', units: 'log units', targetMean: 2, targetStd: 1 }],
      },
    ]),
  };
  const registry = TagRegistry.compose([domain, logp]);
  assert.deepEqual(registry.names, ['<SMILES>', '<LogP>']);
  assert.equal(registry.get(parseTagName('<SMILES>')).bundlePath, 'smiles-bundle');
  assert.deepEqual(registry.predictors.map((t) => t.name), ['<LogP>']);
  assert.throws(() => registry.get(parseTagName('<QED>')), (e: unknown) => e instanceof UsageError && /no bundle defines tag <QED>; loaded tags: <SMILES>, <LogP>/.test(e.message));

  // qed-bundle carries an identical copy of <SMILES>: one tag, still read from the first bundle.
  const copy = { path: 'qed-bundle', bundle: qedBundle(model) };
  const three = TagRegistry.compose([domain, logp, copy]);
  assert.deepEqual(three.names, ['<SMILES>', '<LogP>', '<QED>']);
  assert.equal(three.get(parseTagName('<SMILES>')).bundlePath, 'smiles-bundle');
  const changed = qedBundle(model);
  changed.values.get(parseTagName('<SMILES>'))!.data[5] += 1e-3;
  const clash = { path: 'qed-bundle', bundle: changed };
  assert.throws(() => TagRegistry.compose([domain, logp, clash]), /tag <SMILES> is defined differently by two bundles: smiles-bundle and qed-bundle/);
  const other = { path: 'tiny-bundle', bundle: qedBundle(await tinyBpe) };
  assert.throws(() => TagRegistry.compose([logp, other]), ShapeMismatchError);
});

test('format 3 keeps a tag\'s task, evidence, domain, label range, bounds and approved-drug quantiles through save and load', async () => {
  const model = await stories;
  const base = qedBundle(model);
  const meta = base.meta.tags['<QED>'];
  const trust = {
    task: 'regression' as const,
    evidence: { metric: 'rmse', value: 0.14, baselines: { mean: 0.2, fingerprint_ridge: 0.13 }, best: 'fingerprint_ridge', dataset: 'BBBP', nTest: 80, nTrain: 640 },
    domain: { sketch: 'morgan' as const, bits: 1024, count: 2, fingerprints: Buffer.alloc(256, 7).toString('base64'), threshold: 0.31 },
  };
  const outputs = [{ ...meta.outputs![0], range: [0.05, 0.94] as const, bounds: [0, 1] as const, approved: { source: 'clintox.csv FDA_APPROVED = 1', n: 1386, quantiles: Array.from({ length: 101 }, (_, k) => k / 100) } }];
  const entries = Object.entries(base.meta.tags).map(([name, m]) => ({
    ...m, name: parseTagName(name), value: base.values.get(parseTagName(name))!, head: base.heads.get(parseTagName(name)),
    ...(name === '<QED>' && { ...trust, outputs }),
  }));
  const dir = join(scratch, 'format3');
  await saveTagBundle(dir, makeTagBundle(modelFingerprint(model), entries));
  const loaded = (await loadTagBundle(dir, modelFingerprint(model))).bundle;
  assert.equal(loaded.meta.formatVersion, 3);
  const back = loaded.meta.tags['<QED>'];
  assert.deepEqual({ task: back.task, evidence: back.evidence, domain: back.domain }, trust);
  assert.deepEqual(back.outputs, outputs);
});

test('a format-2 bundle (the default bundle before format 3) still loads and predicts, without evidence', async () => {
  const model = await stories;
  const { bundle } = await loadTagBundle(join('test', 'fixtures', 'bundle-format2'), modelFingerprint(model));
  assert.equal(bundle.meta.formatVersion, 2);
  const qed = bundle.meta.tags['<QED>'];
  assert.equal(qed.evidence, undefined);
  assert.equal(qed.domain, undefined);
  const predictor = await createPredictor({ model, bundles: [join('test', 'fixtures', 'bundle-format2')] });
  const [predictions] = await predictor.predict([{ smiles: 'CC(=O)Oc1ccccc1C(=O)O' }]);
  assert.deepEqual(predictions.map((p) => p.tag), ['<QED>', '<LogP>']);
  for (const p of predictions) {
    assert.ok(Number.isFinite(p.value));
    assert.equal(p.task, 'regression');
    assert.deepEqual([p.evidence, p.percentile, p.similarity, p.flags], [undefined, undefined, undefined, []]);
  }
});

test('the default bundle predicts a SMILES RDKit must not see (a space in it): values, but no similarity and no domain flag', async () => {
  const model = await stories;
  const predictor = await createPredictor({ model, bundles: [join('bundles', 'default')], provider: 'cpu' });
  const [hostile, plain] = await predictor.predict([{ smiles: 'CCO CCO' }, { smiles: 'CCO' }]);
  assert.deepEqual(hostile.map((p) => p.tag), plain.map((p) => p.tag));
  for (const p of hostile) {
    assert.ok(Number.isFinite(p.value), `${p.tag} ${p.value}`);
    assert.equal(p.similarity, undefined);
    assert.ok(!p.flags.includes('outside-domain'), `${p.tag}: ${p.flags}`);
  }
  // the same bundle sketches a SMILES RDKit reads, so the hostile one's missing similarity is the rejection
  for (const p of plain) assert.ok(p.similarity !== undefined && p.similarity > 0 && p.similarity <= 1, `${p.tag} ${p.similarity}`);
});
