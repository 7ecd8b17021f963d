// Everything a command writes reaches a slow reader: the CLI used to call process.exit() while
// Node still held unwritten pipe output, so `scan --json | jq` got the first ~64 KiB and exit 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const cli = resolve(__dirname, '../../dist/cli.js');

test('scan --json delivers all 10 MB to a reader that starts late and reads slowly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagllm-pipe-'));
  const file = join(dir, 'many.smi');
  const rows = 110_000;
  writeFileSync(file, 'CC(=O)Oc1ccccc1C(=O)O\n'.repeat(rows));
  const child = spawn(process.execPath, [cli, 'scan', '--json', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pause();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  // let the command finish writing into its own buffer before anything is read
  await new Promise((r) => setTimeout(r, 3000));
  let bytes = 0;
  let lines = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    for (const b of chunk) if (b === 10) lines++;
    child.stdout.pause();
    setTimeout(() => child.stdout.resume(), 1);
  });
  child.stdout.resume();
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 0, stderr);
  assert.equal(lines, rows);
  assert.ok(bytes > 10_000_000, `${bytes} bytes`);
});

test('a reader that closes the pipe early ends the command quietly with the SIGPIPE status', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagllm-pipe-'));
  const file = join(dir, 'many.smi');
  writeFileSync(file, 'CCO\n'.repeat(200_000));
  const child = spawn(process.execPath, [cli, 'scan', '--json', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 141);
  assert.equal(stderr, '');
});
