// Bad input gets a result that says why it was skipped, quickly, never a crash or a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSmilesJudge, MAX_FILE_BYTES, scanDocument, scanFile, scanNotebook, scanText, scanTextAsync } from '../../src/recognize/index';

const dir = mkdtempSync(join(tmpdir(), 'tagllm-recognize-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

async function scanBytes(name: string, bytes: Buffer | string) {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return scanFile(path, await loadSmilesJudge());
}

test('a binary file is skipped, naming the NUL byte', async () => {
  const r = await scanBytes('image.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x43, 0x43, 0x4f]));
  assert.deepEqual(r.entities, []);
  assert.match(r.skipped ?? '', /^binary file \(NUL byte at offset 8\)$/);
});

test('invalid UTF-8 is skipped', async () => {
  const r = await scanBytes('latin1.txt', Buffer.from('smiles: CCO caf\xe9\n', 'latin1'));
  assert.equal(r.skipped, 'not valid UTF-8');
});

test('a 100 MB file is skipped unread, at once', async () => {
  const path = join(dir, 'huge.csv');
  writeFileSync(path, 'smiles\nCCO\n');
  truncateSync(path, 100 * 1024 * 1024);
  const t0 = performance.now();
  const r = await scanFile(path, await loadSmilesJudge());
  const ms = performance.now() - t0;
  assert.match(r.skipped ?? '', /^too large \(100\.0 MB; the cap is 20\.0 MB\)$/);
  assert.ok(ms < 500, `took ${ms.toFixed(0)} ms`);
});

test('a missing path and a folder are skipped with their reason', async () => {
  assert.equal((await scanFile(join(dir, 'nope.txt'))).skipped, 'cannot read (ENOENT)');
  assert.equal((await scanFile(dir)).skipped, 'not a regular file');
});

test('malformed notebooks are skipped; odd cells and outputs are ignored, not fatal', async () => {
  assert.match((await scanBytes('broken.ipynb', '{"cells": [ {"source": "CCO"')).skipped ?? '', /^malformed notebook JSON \(/);
  assert.equal((await scanBytes('list.ipynb', '[1, 2, 3]')).skipped, 'not an nbformat 4 notebook (no "cells" array)');
  assert.equal((await scanBytes('null.ipynb', 'null')).skipped, 'not an nbformat 4 notebook (no "cells" array)');
  const judge = await loadSmilesJudge();
  const odd = JSON.stringify({
    cells: [null, 7, { source: 42 }, { source: ['smiles = "c1ccccc1"'], outputs: 'x' }, { source: [1, 'x'], outputs: [null, { output_type: 'stream', text: 5 }, { output_type: 'display_data', data: { 'text/plain': ['[Na+].[Cl-]'] } }] }],
  });
  const r = scanNotebook(odd, judge);
  assert.equal(r.skipped, undefined);
  assert.deepEqual(r.entities.map((e) => `${e.cell}:${e.inOutput}:${e.text}`), ['3:false:c1ccccc1', '4:true:[Na+].[Cl-]']);
});

test('pathological texts finish quickly: one 5 MB line, deep brackets, a long base64 blob', async () => {
  const judge = await loadSmilesJudge();
  const texts = {
    'one 5 MB upper-case line': 'ACDEFGHIKLMNPQRSTVWY'.repeat(250_000),
    '1 MB of brackets': '('.repeat(500_000) + ')'.repeat(500_000),
    '2 MB of SMILES characters without spaces': 'CC(=O)Oc1ccccc1C(=O)O.'.repeat(100_000),
    '2 MB base64': Buffer.alloc(1_500_000, 7).toString('base64').replace(/A/g, 'aB9'),
  };
  for (const [name, text] of Object.entries(texts)) {
    const t0 = performance.now();
    scanText(text, 'text', judge);
    const ms = performance.now() - t0;
    console.log(`${name}: ${ms.toFixed(0)} ms`);
    assert.ok(ms < 5000, `${name} took ${ms.toFixed(0)} ms`);
  }
});

test('an async scan stops when its signal aborts', async () => {
  const judge = await loadSmilesJudge();
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(scanTextAsync('CCO\n'.repeat(10), 'text', judge, controller.signal), { name: 'AbortError' });
});

test('an editor buffer over the cap is refused with an error naming the document', async () => {
  await assert.rejects(scanDocument('C'.repeat(MAX_FILE_BYTES + 1), '/tmp/huge.txt'), { name: 'UnsupportedError', message: /^\/tmp\/huge\.txt: too large to scan/ });
  assert.deepEqual((await scanDocument('smiles: "CCO"', 'notes.md')).map((e) => e.text), ['CCO']);
});
