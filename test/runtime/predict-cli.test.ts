// `tagllm predict` end to end through the built CLI (dist/cli.js, made by `npm run build`),
// with bundles this test makes and saves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dataPath } from '../helpers/data';
import { loadGgufModel } from '../../src/runtime/model/gguf/toModel';
import type { LoadedModel } from '../../src/runtime/model/description';
import { parseTagName } from '../../src/runtime/tags/name';
import { EMBEDDING_WEIGHT, modelFingerprint } from '../../src/runtime/tags/fingerprint';
import { initTagValue } from '../../src/runtime/tags/init';
import { makeTagBundle } from '../../src/runtime/tags/bundle';
import { saveTagBundle } from '../../src/runtime/tags/bundleFiles';
import { resolveTemplate } from '../../src/runtime/tags/template';
import { createPredictor } from '../../src/runtime/predict';

const cli = resolve(__dirname, '../../dist/cli.js');
const stories = dataPath('models', 'stories260K.gguf');
const scratch = mkdtempSync(join(tmpdir(), 'tagllm-predict-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

function tagllm(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [cli, 'predict', ...args], { encoding: 'utf8', env: { ...process.env, TAGLLM_DEVICE: 'cpu', ...env } });
}

/** Saves <SMILES> and <QED> as one bundle at `dir`, or, with `domainDir`, <SMILES> on its own there. */
async function saveQedBundle(model: LoadedModel, dir: string, domainDir?: string): Promise<void> {
  const E = model.weights.get(EMBEDDING_WEIGHT)!;
  const H = model.config.hiddenSize;
  let s = 9;
  const random = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32 - 0.5);
  const fp = modelFingerprint(model);
  const smiles = { name: parseTagName('<SMILES>'), kind: 'domain', description: 'SMILES', value: initTagValue(E, 2) } as const;
  const qed = {
    name: parseTagName('<QED>'),
    kind: 'function',
    description: 'quantitative estimate of druglikeness score',
    template: resolveTemplate('molecule-property').text,
    value: initTagValue(E, 2),
    head: { outputs: 1, hiddenSize: H, weight: Float32Array.from({ length: H }, random), bias: Float32Array.of(0.1) },
    outputs: [{ name: 'QED', units: '', targetMean: 0.5, targetStd: 0.25 }],
  } as const;
  if (domainDir) {
    await saveTagBundle(domainDir, makeTagBundle(fp, [smiles]));
    await saveTagBundle(dir, makeTagBundle(fp, [qed]));
  } else {
    await saveTagBundle(dir, makeTagBundle(fp, [smiles, qed]));
  }
}

test('predict --json prints one object per input, matching the API; two bundles compose; --input TEXT prints a table; TAGLLM_MODEL is the default model', async () => {
  const model = await loadGgufModel(stories);
  const bundle = join(scratch, 'qed');
  const domain = join(scratch, 'smiles');
  await saveQedBundle(model, bundle, domain);
  const smi = join(scratch, 'mols.smi');
  const molecules = ['CCO', 'c1ccccc1O', 'CC(=O)Nc1ccc(O)cc1'];
  writeFileSync(smi, molecules.map((m, i) => `${m}\tmol${i}`).join('\n') + '\n');

  const run = tagllm(['--model', stories, '--tags', `${domain},${bundle}`, '--input', smi, '--json']);
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 3);
  const api = await (await createPredictor({ model, bundles: [domain, bundle], provider: 'cpu' })).predict(molecules.map((smiles) => ({ smiles })));
  lines.forEach((line, i) => {
    assert.equal(line.input.smiles, molecules[i]);
    assert.equal(line.provider, 'cpu');
    assert.equal(line.model, stories);
    assert.equal(line.predictions.length, 1);
    // a bundle without evidence, domain or approved-drug distribution: a bare value, no flags
    assert.deepEqual({ ...line.predictions[0], value: 0 }, { tag: '<QED>', output: 'QED', value: 0, units: '', task: 'regression', bundle, flags: [] });
    assert.ok(Math.abs(line.predictions[0].value - api[i][0].value) < 1e-5);
  });

  const csv = join(scratch, 'mols.csv');
  writeFileSync(csv, 'name,SMILES\n' + molecules.map((m, i) => `"mol, ${i}",${m}`).join('\n') + '\n');
  const fromEnv = tagllm(['--tags', `${bundle},${domain}`, '--input', csv, '--json'], { TAGLLM_MODEL: stories });
  assert.equal(fromEnv.status, 0, fromEnv.stderr);
  assert.deepEqual(fromEnv.stdout.trim().split('\n').map((l) => JSON.parse(l).predictions[0].value), lines.map((l) => l.predictions[0].value));

  const table = tagllm(['--model', stories, '--tags', `${domain},${bundle}`, '--input', 'CCO', '--template', 'molecule-property']);
  assert.equal(table.status, 0, table.stderr);
  const rows = table.stdout.trim().split('\n').map((r) => r.split('\t'));
  assert.deepEqual(rows[0], ['input', 'tag', 'value', 'units', 'bundle', 'percentile', 'flags']);
  assert.deepEqual(rows.slice(1).map((r) => r.slice(0, 2)), [['CCO', '<QED>']]);
  assert.equal(Number(rows[1][2]), Number(lines[0].predictions[0].value.toPrecision(6)));
});

test('predict refuses a bundle made for another model, and a file without the slot column, in one line', async () => {
  const tiny = join(scratch, 'tiny-qed');
  await saveQedBundle(await loadGgufModel(dataPath('models', 'tiny-bpe-llama.gguf')), tiny);
  const wrong = tagllm(['--model', stories, '--tags', tiny, '--input', 'CCO']);
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, new RegExp(`^tagllm: ${tiny}: tag bundle was made for another model \\(bundle vs loaded model: vocab size 1024 vs 512; embedding sha256 [0-9a-f]+… vs [0-9a-f]+…\\)\\n$`));

  const bundle = join(scratch, 'qed-2');
  await saveQedBundle(await loadGgufModel(stories), bundle);
  const csv = join(scratch, 'no-smiles.csv');
  writeFileSync(csv, 'name,value\na,1\n');
  const noColumn = tagllm(['--model', stories, '--tags', bundle, '--input', csv]);
  assert.equal(noColumn.status, 2);
  assert.equal(noColumn.stderr, `tagllm: ${csv} has no "smiles" column (columns: name, value)\n`);
});
