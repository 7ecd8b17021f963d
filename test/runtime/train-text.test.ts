// Text-output function tags trained on real Multi30k pairs with stories260K and the real
// onnxruntime training session: the loss covers the output tokens and EOS only, training
// lowers the held-out loss of the output, and the saved bundle, loaded beside the bundle
// of its domain tags, writes what the run's own report wrote, from the library and the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPath } from '../helpers/data';
import { createTextGenerator } from '../../src/runtime/generateText';
import { loadModel } from '../../src/runtime/model/load';
import { TrainSession } from '../../src/runtime/session/trainSession';
import { makeTagBundle } from '../../src/runtime/tags/bundle';
import { loadTagBundle, saveTagBundle } from '../../src/runtime/tags/bundleFiles';
import { appendTokens, batchInputs, expandInput, modelExpansionContext } from '../../src/runtime/tags/expand';
import { EMBEDDING_WEIGHT, modelFingerprint } from '../../src/runtime/tags/fingerprint';
import { initTagValue } from '../../src/runtime/tags/init';
import { parseTagName, type TagName } from '../../src/runtime/tags/name';
import { parseTemplate, type SlotValues } from '../../src/runtime/tags/template';
import { Tokenizer } from '../../src/runtime/tokenizer/tokenizer';
import { nextTokenTargets } from '../../src/runtime/train/objectives';
import { firstLine, runTextStage, untaggedInstruction } from '../../src/runtime/train/textStage';

const scratch = mkdtempSync(join(tmpdir(), 'tagllm-train-text-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
const shared = (async () => {
  const model = await loadModel(dataPath('models', 'stories260K.gguf'));
  return { model, backend: await TrainSession.create(model) };
})();
const TEMPLATE = 'Input: <EN> {en} Output: <DE> <Translate> {de}';

function pairs(n: number): SlotValues[] {
  const en = readFileSync(dataPath('translation', 'multi30k', 'train.en'), 'utf8').split('\n');
  const de = readFileSync(dataPath('translation', 'multi30k', 'train.de'), 'utf8').split('\n');
  return Array.from({ length: n }, (_, i) => ({ en: en[i], de: de[i] }));
}

test('the next-token targets of a text-output example are its output tokens and EOS, predicted from the function tag on', async () => {
  const { model } = await shared;
  const tokenizer = Tokenizer.forModel(model);
  const embedding = model.weights.get(EMBEDDING_WEIGHT)!;
  const values = new Map([['<EN>', initTagValue(embedding, 3)], ['<DE>', initTagValue(embedding, 3)], ['<Translate>', initTagValue(embedding, 3)]]);
  const context = modelExpansionContext(model, tokenizer, (t: TagName) => values.get(t)!);
  const row = { en: 'A dog runs.', de: 'Ein Hund rennt.' };
  const eos = model.specialTokens.eos!;
  const expanded = appendTokens(expandInput(parseTemplate(TEMPLATE), row, context), [eos], embedding);
  const targets = nextTokenTargets(batchInputs([expanded]));
  const output = [...tokenizer.encode('Ein Hund rennt.', { addBos: false }), eos];
  const translate = expanded.tagSpans.find((s) => s.tag === '<Translate>')!;
  const from = translate.start + translate.length - 1;
  assert.deepEqual(Array.from(targets.subarray(from, from + output.length)), output);
  assert.ok(targets.every((t, s) => (s >= from && s < from + output.length) === (t >= 0)), 'no target before the tag or after EOS');
  assert.equal(untaggedInstruction(parseTemplate(TEMPLATE), 'de'), 'Input: {en} Output:');
});

test('training <Translate> lowers the held-out loss of the output, and its saved bundle writes what the run reported, from the library and the CLI', async () => {
  const { model, backend } = await shared;
  const fp = modelFingerprint(model);
  const embedding = model.weights.get(EMBEDDING_WEIGHT)!;
  const languages = join(scratch, 'languages');
  await saveTagBundle(languages, makeTagBundle(fp, ['<EN>', '<DE>'].map((name) => ({ name: parseTagName(name), kind: 'domain', description: name, value: initTagValue(embedding, 4) }))));
  const out = join(scratch, 'translate');
  const rows = pairs(160);
  const report = await runTextStage({
    stage: 'cross', model, backend, rows, dataName: 'multi30k', tasks: [{ template: TEMPLATE }], startBundles: [languages],
    p: 4, lr: 0.02, steps: 16, batchSize: 8, seed: 1, evalEvery: 8, testRows: 3, maxNewTokens: 12, fewShot: 2, out,
  });
  assert.ok(report.valid_loss_best! < report.valid_loss_start! - 0.3, `held-out loss ${report.valid_loss_start} -> ${report.valid_loss_best}`);
  const [task] = report.tasks;
  assert.deepEqual(Object.keys(task.baselines).sort(), ['few_shot_2', 'instruction']);
  for (const s of [task.test, ...Object.values(task.baselines)]) assert.ok(s.chrf >= 0 && s.chrf <= 100 && s.bleu >= 0 && s.bleu <= 100);

  // the bundle holds <Translate> alone (the language tags stayed frozen) as a text-output tag
  const saved = await loadTagBundle(out, fp);
  assert.deepEqual(Object.keys(saved.bundle.meta.tags), ['<Translate>']);
  assert.equal(saved.bundle.meta.tags['<Translate>'].output, 'text');
  const inputs = task.samples.map((s) => ({ en: rows.find((r) => r.de === s.reference)!.en }));
  const generator = await createTextGenerator({ model, bundles: [out, languages] });
  const written = await generator.generate(inputs, { maxNewTokens: 12 });
  assert.deepEqual(written.map((w) => firstLine(w.text)), task.samples.map((s) => s.output));

  const input = join(scratch, 'inputs.tsv');
  writeFileSync(input, ['en', ...inputs.map((i) => i.en)].join('\n') + '\n');
  const cli = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'generate', '--model', dataPath('models', 'stories260K.gguf'), '--tags', `${out},${languages}`, '--input', input, '--max-new-tokens', '12'],
    { encoding: 'utf8' },
  );
  assert.equal(cli.status, 0, cli.stderr);
  assert.deepEqual(cli.stdout.trimEnd().split('\n'), written.map((w) => w.text.replace(/\n/g, '\\n')));
});
