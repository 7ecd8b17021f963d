import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataPath } from '../helpers/data';
import { loadGgufModel } from '../../src/runtime/model/gguf/toModel';
import { Tokenizer } from '../../src/runtime/tokenizer/tokenizer';
import { decoderSession } from '../../src/runtime/session/decoderSession';
import { UsageError } from '../../src/runtime/errors';
import { parseTagName } from '../../src/runtime/tags/name';
import { EMBEDDING_WEIGHT, modelFingerprint } from '../../src/runtime/tags/fingerprint';
import { initTagValue } from '../../src/runtime/tags/init';
import { makeTagBundle } from '../../src/runtime/tags/bundle';
import { expandInput, modelExpansionContext } from '../../src/runtime/tags/expand';
import { resolveTemplate, type SlotValues } from '../../src/runtime/tags/template';
import type { LinearHead } from '../../src/runtime/tags/head';
import { createPredictor, entityInput } from '../../src/runtime/predict';

const modelPromise = loadGgufModel(dataPath('models/stories260K.gguf'));

function seeded(n: number, seed: number, scale = 1): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), (s / 2 ** 32 - 0.5) * scale));
}

async function bundles() {
  const model = await modelPromise;
  const fp = modelFingerprint(model);
  const E = model.weights.get(EMBEDDING_WEIGHT)!;
  const H = model.config.hiddenSize;
  const p = 3;
  const head = (seed: number): LinearHead => ({ outputs: 1, hiddenSize: H, weight: seeded(H, seed), bias: seeded(1, seed + 1) });
  const tag = (seed: number) => ({ p, hiddenSize: H, data: seeded(p * H, seed, 2) });
  const molecules = {
    path: 'molecules',
    bundle: makeTagBundle(fp, [
      { name: parseTagName('<SMILES>'), kind: 'domain', description: 'SMILES', value: initTagValue(E, p) },
      { name: parseTagName('<QED>'), kind: 'function', description: 'quantitative estimate of druglikeness score', template: resolveTemplate('molecule-property').text, value: tag(1), head: head(2), outputs: [{ name: 'QED', units: '', targetMean: 0.5, targetStd: 0.2 }] },
    ]),
  };
  const proteins = {
    path: 'proteins',
    bundle: makeTagBundle(fp, [
      { name: parseTagName('<Protein>'), kind: 'domain', description: 'protein', value: tag(3) },
      { name: parseTagName('<Descriptor>'), kind: 'function', description: 'descriptor value', template: resolveTemplate('protein-property').text, value: tag(4), head: head(5), outputs: [{ name: 'BLOSUM1', units: 'index', targetMean: -0.1, targetStd: 0.05 }] },
    ]),
  };
  return { model, molecules, proteins };
}

test('predictions equal head(hidden at the function tag) in target units, batched or not', async () => {
  const { model, molecules, proteins } = await bundles();
  const predictor = await createPredictor({ model, bundles: [molecules, proteins], provider: 'cpu' });
  assert.equal(predictor.provider, 'cpu');
  const inputs: SlotValues[] = [{ smiles: 'CCO' }, { seq: 'MKVLAAGIVGLLLA' }, { smiles: 'c1ccccc1C(=O)OCCN(C)C' }, { smiles: 'O' }];
  const batched = await predictor.predict(inputs);
  assert.deepEqual(batched.map((r) => r.map((p) => p.tag)), [['<QED>'], ['<Descriptor>'], ['<QED>'], ['<QED>']]);
  assert.deepEqual(batched[1][0], { ...batched[1][0], output: 'BLOSUM1', units: 'index', bundle: 'proteins' });

  // Reference: one input at a time through the decoder, the head applied by hand.
  const session = await decoderSession(model, { logits: 'none', kvCache: false, provider: 'cpu' });
  const context = modelExpansionContext(model, Tokenizer.forModel(model), (t) => predictor.registry.value(t));
  const H = model.config.hiddenSize;
  for (const [i, input] of inputs.entries()) {
    const fn = predictor.registry.get(batched[i][0].tag);
    const x = expandInput(resolveTemplate(fn.meta.template!), input, context);
    const { hidden } = await session.forward(x.inputsEmbeds, [1, x.seqLength], new BigInt64Array(x.seqLength).fill(1n));
    const h = new Float64Array(H);
    for (let s = x.readSpan.start; s < x.readSpan.start + x.readSpan.length; s++) for (let j = 0; j < H; j++) h[j] += hidden.data[s * H + j] / x.readSpan.length;
    const standardized = fn.head!.bias[0] + h.reduce((s, v, j) => s + v * fn.head!.weight[j], 0);
    const { targetMean, targetStd } = fn.meta.outputs![0];
    assert.ok(Math.abs(batched[i][0].value - (standardized * targetStd + targetMean)) < 1e-5, `input ${i}: ${batched[i][0].value}`);
  }
  const single = await (await createPredictor({ model, bundles: [molecules, proteins], provider: 'cpu', batchSize: 1 })).predict(inputs);
  single.forEach((row, i) => assert.ok(Math.abs(row[0].value - batched[i][0].value) < 1e-5));
});

test('function tags, templates and missing bundles', async () => {
  const { model, molecules, proteins } = await bundles();
  const predictor = await createPredictor({ model, bundles: [molecules, proteins], provider: 'cpu' });
  assert.deepEqual(predictor.applicableTags({ smiles: 'CCO' }), ['<QED>']);
  assert.deepEqual(predictor.applicableTags({ smiles: 'CCO', seq: 'MKV' }), ['<QED>', '<Descriptor>']);
  assert.deepEqual(predictor.applicableTags(entityInput('protein', 'MKVLA')), ['<Descriptor>']);
  assert.deepEqual(predictor.applicableTags(entityInput('smiles', 'CCO')), ['<QED>']);
  await assert.rejects(predictor.predict([{ seq: 'MKV' }], { functionTag: parseTagName('<QED>') }), /needs \{smiles\}; got \{seq\}/);
  await assert.rejects(predictor.predict([{ smiles: 'C' }], { functionTag: parseTagName('<SMILES>') }), /<SMILES> \(molecules\) is not a function tag with a head/);

  // A template of one's own changes the prediction; a text template serves the tag it ends with.
  const own = await predictor.predict([{ smiles: 'CCO' }], { template: 'The molecule <SMILES> {smiles} has <QED>' });
  const bundled = await predictor.predict([{ smiles: 'CCO' }]);
  assert.equal(own[0].length, 1);
  assert.notEqual(own[0][0].value, bundled[0][0].value);
  await assert.rejects(predictor.predict([{ smiles: 'C' }], { template: '<SMILES> {smiles} <LogP>' }), UsageError);

  const proteinOnly = { path: 'descriptor-only', bundle: makeTagBundle(modelFingerprint(model), [{ ...proteins.bundle.meta.tags['<Descriptor>'], name: parseTagName('<Descriptor>'), value: proteins.bundle.values.get(parseTagName('<Descriptor>'))!, head: proteins.bundle.heads.get(parseTagName('<Descriptor>')) }]) };
  await assert.rejects(createPredictor({ model, bundles: [proteinOnly] }), /function tag <Descriptor> \(descriptor-only\) needs <Protein>, which no loaded bundle defines/);

  const tiny = await loadGgufModel(dataPath('models/tiny-bpe-llama.gguf'));
  const foreign = { path: 'made-for-tiny', bundle: makeTagBundle(modelFingerprint(tiny), [{ name: parseTagName('<SMILES>'), kind: 'domain', description: 'SMILES', value: initTagValue(tiny.weights.get(EMBEDDING_WEIGHT)!, 2) }]) };
  await assert.rejects(createPredictor({ model, bundles: [foreign, molecules] }), /^ShapeMismatchError: made-for-tiny: tag bundle was made for another model/);
});

test('an input longer than the model can take is refused before it reaches the decoder', async () => {
  const { model, molecules } = await bundles();
  const predictor = await createPredictor({ model, bundles: [molecules], provider: 'cpu' });
  const long = 'C'.repeat(model.config.maxPositionEmbeddings * 2);
  await assert.rejects(predictor.predict([{ smiles: 'CCO' }, { smiles: long }]), new RegExp(`input 2 expands to \\d+ positions in <QED>'s template; the model takes at most ${model.config.maxPositionEmbeddings}`));
});
