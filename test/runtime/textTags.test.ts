// Text-output function tags: templates with an output slot, bundles that mark a tag as
// writing text, generation with tags (batched, greedy and sampled), the constant tag prefix
// computed once, and tags composed from separately saved bundles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPath } from '../helpers/data';
import { InvalidFileError, UsageError } from '../../src/runtime/errors';
import { generateFromEmbeddings, tokenChooser } from '../../src/runtime/generate';
import { createTextGenerator, leftPadded } from '../../src/runtime/generateText';
import { loadGgufModel } from '../../src/runtime/model/gguf/toModel';
import type { LoadedModel } from '../../src/runtime/model/description';
import { makeTagBundle, type TagEntry } from '../../src/runtime/tags/bundle';
import { loadTagBundle, saveTagBundle } from '../../src/runtime/tags/bundleFiles';
import { expandInput, modelExpansionContext } from '../../src/runtime/tags/expand';
import { EMBEDDING_WEIGHT, modelFingerprint } from '../../src/runtime/tags/fingerprint';
import { meanEmbeddingNorm } from '../../src/runtime/tags/init';
import { parseTagName, type TagName, type TagValue } from '../../src/runtime/tags/name';
import { constantPrefixSegments, fillPlainText, outputSlot, parseTemplate, promptTemplate } from '../../src/runtime/tags/template';
import { Tokenizer } from '../../src/runtime/tokenizer/tokenizer';

const stories = loadGgufModel(dataPath('models/stories260K.gguf'));
const scratch = mkdtempSync(join(tmpdir(), 'tagllm-texttags-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

const EN = parseTagName('<EN>');
const CS = parseTagName('<CS>');
const TRANSLATE = parseTagName('<Translate>');
const TEMPLATE = 'Input: <EN> {en} Output: <CS> <Translate> {cs}';
const INPUTS = [{ en: 'A man rides a bike.' }, { en: 'Two dogs play in the snow near a red house.' }, { en: 'A girl.' }, { en: 'The old woman sells fish at the market.' }];

/** Tag vectors of the model's embedding scale, distinct per tag. */
function tagValue(model: LoadedModel, p: number, seed: number): TagValue {
  const H = model.config.hiddenSize;
  const scale = meanEmbeddingNorm(model.weights.get(EMBEDDING_WEIGHT)!) / Math.sqrt(H / 2);
  return { p, hiddenSize: H, data: Float32Array.from({ length: p * H }, (_, i) => scale * Math.sin(1.7 * i * seed + seed)) };
}

function entries(model: LoadedModel, translateSeed = 3): TagEntry[] {
  return [
    { name: EN, kind: 'domain', description: 'English', value: tagValue(model, 4, 1) },
    { name: CS, kind: 'domain', description: 'Czech', value: tagValue(model, 4, 2) },
    { name: TRANSLATE, kind: 'function', output: 'text', description: 'translation', template: TEMPLATE, value: tagValue(model, 4, translateSeed) },
  ];
}

test('a text-output template: its output slot, the prompt before it, its constant prefix', () => {
  const t = parseTemplate(TEMPLATE);
  assert.equal(outputSlot(t), 'cs');
  assert.equal(promptTemplate(t).text, 'Input: <EN> {en} Output: <CS> <Translate>');
  assert.deepEqual(promptTemplate(t).slots, ['en']);
  // the prefix ends with <EN>: "Input:" and the tag are the same for every input
  assert.equal(constantPrefixSegments(t), 2);
  assert.equal(constantPrefixSegments(parseTemplate('Say {en} <Translate>')), 0);
  assert.equal(outputSlot(parseTemplate('Input: <SMILES> {smiles}. Output: the QED is <QED>')), undefined);
  assert.equal(outputSlot(parseTemplate('<Translate> {de} and more')), undefined);
  assert.throws(() => outputSlot(parseTemplate('Input: <EN> {en} <Translate> {en}')), /output slot \{en\} also as an input/);
  assert.equal(fillPlainText('Translate English to Czech. English: {en} Czech:', { en: 'A dog.' }), 'Translate English to Czech. English: A dog. Czech:');
  assert.throws(() => fillPlainText('<EN> {en}', { en: 'x' }), UsageError);
  assert.throws(() => fillPlainText('{en} {de}', { en: 'x' }), /needs \{de\}/);
});

test('bundles: output "text" round-trips, and a text-output tag with a head or without an output slot is refused', async () => {
  const model = await stories;
  const dir = join(scratch, 'roundtrip');
  await saveTagBundle(dir, makeTagBundle(modelFingerprint(model), entries(model)));
  const loaded = await loadTagBundle(dir, modelFingerprint(model));
  assert.equal(loaded.bundle.meta.tags[TRANSLATE].output, 'text');
  assert.equal(loaded.bundle.meta.tags[EN].output, undefined);
  const [en, cs, tr] = entries(model);
  assert.throws(() => makeTagBundle(modelFingerprint(model), [en, cs, { ...tr, template: 'Input: <EN> {en} Output: <CS> <Translate>' }]), /needs a template that ends with its output slot/);
  const head = { outputs: 1, hiddenSize: model.config.hiddenSize, weight: new Float32Array(model.config.hiddenSize), bias: new Float32Array(1) };
  assert.throws(() => makeTagBundle(modelFingerprint(model), [en, cs, { ...tr, head, outputs: [{ name: 'x', units: '', targetMean: 0, targetStd: 1 }] }]), InvalidFileError);
});

test('tags composed from two separately saved bundles generate the same tokens as the same tags in one bundle', async () => {
  const model = await stories;
  const fp = modelFingerprint(model);
  const [en, cs, tr] = entries(model);
  const one = join(scratch, 'one');
  const languages = join(scratch, 'languages');
  const translate = join(scratch, 'translate');
  await saveTagBundle(one, makeTagBundle(fp, [en, cs, tr]));
  await saveTagBundle(languages, makeTagBundle(fp, [en, cs]));
  await saveTagBundle(translate, makeTagBundle(fp, [tr]));
  const options = { maxNewTokens: 20 };
  const together = await (await createTextGenerator({ model, bundles: [one] })).generate(INPUTS, options);
  const composed = await (await createTextGenerator({ model, bundles: [translate, languages] })).generate(INPUTS, options);
  assert.deepEqual(composed.map((g) => g.ids), together.map((g) => g.ids));
  assert.ok(together.every((g) => g.ids.length > 0 && g.tag === TRANSLATE));
  // and the tags do steer the output: another <Translate> writes other tokens
  const other = join(scratch, 'other');
  await saveTagBundle(other, makeTagBundle(fp, [entries(model, 7)[2]]));
  const changed = await (await createTextGenerator({ model, bundles: [other, languages] })).generate(INPUTS, options);
  assert.notDeepEqual(changed.map((g) => g.ids), together.map((g) => g.ids));
});

test('generation with the reused tag-prefix cache gives the same tokens as without it, and as each prompt alone', async () => {
  const model = await stories;
  const generator = await createTextGenerator({ model, bundles: [{ path: 'mem', bundle: makeTagBundle(modelFingerprint(model), entries(model)) }] });
  for (const batchSize of [1, 3]) {
    const cached = await generator.generate(INPUTS, { maxNewTokens: 24, batchSize });
    const whole = await generator.generate(INPUTS, { maxNewTokens: 24, batchSize, reusePrefix: false });
    assert.deepEqual(cached.map((g) => g.ids), whole.map((g) => g.ids), `batch ${batchSize}`);
    // the reference: each full prompt expanded and run alone, with no cache and no padding
    const values = new Map(entries(model).map((e) => [e.name, e.value]));
    const context = modelExpansionContext(model, Tokenizer.forModel(model), (t: TagName) => values.get(t)!);
    const template = generator.promptTemplate();
    for (const [k, input] of INPUTS.entries()) {
      const row = expandInput(template, input, context);
      const alone = await generateFromEmbeddings(model, leftPadded([row]), { maxNewTokens: 24 });
      assert.deepEqual(cached[k].ids, alone.ids[0], `input ${k}, batch ${batchSize}`);
    }
  }
  const sampling = { temperature: 0.8, topP: 0.95, seed: 5 };
  const a = await generator.generate(INPUTS, { maxNewTokens: 16, sampling, batchSize: 4 });
  const b = await generator.generate(INPUTS, { maxNewTokens: 16, sampling, batchSize: 4, reusePrefix: false });
  assert.deepEqual(a.map((g) => g.ids), b.map((g) => g.ids));
});

test('sampling: a seed fixes the tokens, a tiny top-p is greedy, and draws follow softmax(logits / T) within the nucleus', async () => {
  const model = await stories;
  const generator = await createTextGenerator({ model, bundles: [{ path: 'mem', bundle: makeTagBundle(modelFingerprint(model), entries(model)) }] });
  const greedy = await generator.generate(INPUTS, { maxNewTokens: 16 });
  const nucleusOfOne = await generator.generate(INPUTS, { maxNewTokens: 16, sampling: { temperature: 1, topP: 1e-9, seed: 1 } });
  assert.deepEqual(nucleusOfOne.map((g) => g.ids), greedy.map((g) => g.ids));
  const s1 = await generator.generate(INPUTS, { maxNewTokens: 16, sampling: { temperature: 1.5, topP: 1, seed: 11 } });
  const s1again = await generator.generate(INPUTS, { maxNewTokens: 16, sampling: { temperature: 1.5, topP: 1, seed: 11 } });
  const s2 = await generator.generate(INPUTS, { maxNewTokens: 16, sampling: { temperature: 1.5, topP: 1, seed: 12 } });
  assert.deepEqual(s1.map((g) => g.ids), s1again.map((g) => g.ids));
  assert.notDeepEqual(s1.map((g) => g.ids), s2.map((g) => g.ids));

  // logits 2, 1, 0, -1 at T = 0.5: probabilities ∝ e^4, e^2, 1, e^-2; top-p 0.99 keeps the first three
  const logits = Float32Array.from([1, 2, -1, 0]);
  const choose = tokenChooser({ temperature: 0.5, topP: 0.99, seed: 3 });
  const counts = [0, 0, 0, 0];
  const n = 40000;
  for (let i = 0; i < n; i++) counts[choose(logits)]++;
  const w = [Math.exp(2), Math.exp(4), 0, 1];
  const total = w.reduce((x, y) => x + y, 0);
  assert.equal(counts[2], 0, 'the token outside the nucleus is never drawn');
  w.forEach((wi, k) => {
    const p = wi / total;
    assert.ok(Math.abs(counts[k] / n - p) < 4 * Math.sqrt((p * (1 - p)) / n) + 1e-9, `token ${k}: ${counts[k] / n} vs ${p}`);
  });
  assert.throws(() => tokenChooser({ temperature: 0, topP: 1, seed: 0 }), UsageError);
  assert.throws(() => tokenChooser({ temperature: 1, topP: 0, seed: 0 }), UsageError);
});

test('a template whose last tag does not write text, or that needs a tag no bundle holds, is refused with a clear error', async () => {
  const model = await stories;
  const [en, cs, tr] = entries(model);
  const generator = await createTextGenerator({ model, bundles: [{ path: 'mem', bundle: makeTagBundle(modelFingerprint(model), [en, cs, tr]) }] });
  await assert.rejects(generator.generate(INPUTS, { template: 'Input: <EN> {en} <CS>', maxNewTokens: 4 }), /not a text-output tag/);
  await assert.rejects(generator.generate(INPUTS, { template: 'Input: <DE> {en} <Translate>', maxNewTokens: 4 }), /needs <DE>, which no loaded bundle defines/);
});
