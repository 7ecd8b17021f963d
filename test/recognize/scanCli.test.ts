// `tagllm scan`: JSON lines per entity with the promised fields, notebooks with cell and
// in_output, skipped files on stderr and as JSON lines, and a readable table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FIXTURES = join(__dirname, '..', 'fixtures', 'recognition');

function tagllm(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'scan', ...args], { encoding: 'utf8' });
}

test('scan --json prints one object per entity with path, kind, text, line, character', () => {
  const run = tagllm(join(FIXTURES, 'proteins.fasta'), join(FIXTURES, 'screen.ipynb'), '--json');
  assert.equal(run.status, 0, run.stderr);
  const rows = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const fasta = rows.filter((r) => r.path.endsWith('proteins.fasta'));
  assert.deepEqual(Object.keys(fasta[0]), ['path', 'kind', 'text', 'line', 'character']);
  // Ubiquitin, wrapped over two lines, is one entity whose text has no line break.
  assert.deepEqual(fasta[0], {
    path: join(FIXTURES, 'proteins.fasta'),
    kind: 'protein',
    text: 'MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG',
    line: 1,
    character: 0,
  });
  const nb = rows.filter((r) => r.path.endsWith('screen.ipynb'));
  assert.ok(nb.every((r) => typeof r.cell === 'number'));
  assert.ok(nb.some((r) => r.in_output === true) && nb.some((r) => !('in_output' in r)));
  assert.ok(nb.every((r) => r.in_output === undefined || r.in_output === true));
  assert.deepEqual(nb.find((r) => r.in_output), { path: join(FIXTURES, 'screen.ipynb'), kind: 'smiles', text: 'CC(=O)Oc1ccccc1C(=O)O', line: 1, character: 21, cell: 2, in_output: true });
});

test('scan reports skipped files on stderr, and as JSON lines with --json; folders are walked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagllm-scan-'));
  try {
    writeFileSync(join(dir, 'a.smi'), 'CCO ethanol\n');
    writeFileSync(join(dir, 'b.bin'), Buffer.from([1, 0, 2]));
    writeFileSync(join(dir, 'c.ipynb'), '{"cells": [');
    const run = tagllm(dir, '--json');
    assert.equal(run.status, 0, run.stderr);
    const rows = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows, [
      { path: join(dir, 'a.smi'), kind: 'smiles', text: 'CCO', line: 0, character: 0 },
      { path: join(dir, 'b.bin'), skipped: 'binary file (NUL byte at offset 1)' },
      { path: join(dir, 'c.ipynb'), skipped: rows[2].skipped },
    ]);
    assert.match(rows[2].skipped, /^malformed notebook JSON/);
    assert.match(run.stderr, /b\.bin: skipped, binary file/);
    assert.match(run.stderr, /c\.ipynb: skipped, malformed notebook JSON/);
    const table = tagllm(join(dir, 'a.smi'));
    assert.equal(table.stdout, `${join(dir, 'a.smi')}:1:1  smiles   CCO\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('scan reports a sequence wrapped in a triple-quoted string once, at its first residue, without line breaks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagllm-scan-'));
  try {
    const seq = 'MTTGMVGSVLVNVISTQGIENWLIDEQVYSEISIKMDTLSHVVAHFIQLLAGLIDVLSIHCNTATEKGGLDLVNVREEHGKTSNALKKYLVTTSTLCGKEGKQLNRS';
    const path = join(dir, 'construct.py');
    writeFileSync(path, `# construct\nCONSTRUCT = """\n    ${seq.slice(0, 60)}\n    ${seq.slice(60)}\n"""\n`);
    const run = tagllm(path, '--json');
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.stdout.trim().split('\n').map((l) => JSON.parse(l)), [{ path, kind: 'protein', text: seq, line: 2, character: 4 }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('scan with no path is a usage error', () => {
  const run = tagllm();
  assert.equal(run.status, 2);
  assert.match(run.stderr, /scan needs at least one PATH/);
});
