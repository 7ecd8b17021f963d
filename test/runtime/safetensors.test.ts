// safetensors: round trips, half-precision reads, the real tiny-bpe-llama weights, and every
// kind of broken file giving a one-line InvalidFileError that names the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPath } from '../helpers/data';
import { readSafetensors, readSafetensorsHeader } from '../../src/runtime/model/safetensors/read';
import { writeSafetensors } from '../../src/runtime/model/safetensors/write';
import { InvalidFileError, UnsupportedError } from '../../src/runtime/errors';
import type { F32Tensor } from '../../src/runtime/model/description';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tagllm-st-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A safetensors file from a header object and raw data bytes, written byte for byte as given. */
function rawFile(path: string, header: unknown, data: Uint8Array, declaredLength?: bigint): void {
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(declaredLength ?? BigInt(json.length));
  writeFileSync(path, Buffer.concat([prefix, json, data]));
}

const oneLineNaming = (path: string, pattern: RegExp) => (e: unknown) =>
  e instanceof InvalidFileError && e.message.startsWith(path) && pattern.test(e.message) && !e.message.includes('\n');

test('write then read returns the same tensors, order and metadata', async (t) => {
  const path = join(tempDir(t), 'w.safetensors');
  const tensors = new Map<string, F32Tensor>([
    ['b.weight', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 1e-20, -0, 65504.25]) }],
    ['a.scalar', { shape: [], data: Float32Array.from([Math.PI]) }],
    ['c.empty', { shape: [0, 4], data: new Float32Array(0) }],
  ]);
  await writeSafetensors(path, tensors, { format: 'pt', note: 'ünïcode' });
  const back = await readSafetensors(path);
  assert.deepEqual([...back.tensors.keys()], ['b.weight', 'a.scalar', 'c.empty']);
  for (const [name, tensor] of tensors) {
    assert.deepEqual(back.tensors.get(name)!.shape, tensor.shape);
    assert.deepEqual(back.tensors.get(name)!.data, tensor.data);
  }
  assert.deepEqual(back.metadata, { format: 'pt', note: 'ünïcode' });
  // Data starts 8-byte aligned after the padded header.
  assert.equal((await readSafetensorsHeader(path)).dataStart % 8, 0);
});

test('writing replaces an existing file atomically and leaves no temporary files', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'w.safetensors');
  writeFileSync(path, 'old contents');
  await writeSafetensors(path, new Map([['x', { shape: [3], data: Float32Array.from([1, 2, 3]) }]]));
  assert.deepEqual(readdirSync(dir), ['w.safetensors']);
  assert.deepEqual((await readSafetensors(path)).tensors.get('x')!.data, Float32Array.from([1, 2, 3]));
  await assert.rejects(writeSafetensors(path, new Map([['bad', { shape: [2, 2], data: new Float32Array(3) }]])), /bad/);
  assert.deepEqual(readdirSync(dir), ['w.safetensors'], 'a failed write leaves the old file and nothing else');
});

test('F16 and BF16 tensors are converted to float32; other dtypes name the tensor and dtype', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'half.safetensors');
  // F16: 1.0, -2.0, 0.5, 65504 (max half). BF16: 1.0, -3.0.
  const f16 = [0x3c00, 0xc000, 0x3800, 0x7bff];
  const bf16 = [0x3f80, 0xc040];
  const data = Buffer.alloc(12);
  [...f16, ...bf16].forEach((h, i) => data.writeUInt16LE(h, 2 * i));
  rawFile(path, {
    h: { dtype: 'F16', shape: [2, 2], data_offsets: [0, 8] },
    b: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] },
  }, data);
  const { tensors } = await readSafetensors(path);
  assert.deepEqual([...tensors.get('h')!.data], [1, -2, 0.5, 65504]);
  assert.deepEqual([...tensors.get('b')!.data], [1, -3]);

  const ints = join(dir, 'ints.safetensors');
  rawFile(ints, { ids: { dtype: 'I32', shape: [2], data_offsets: [0, 8] } }, Buffer.alloc(8));
  await assert.rejects(readSafetensors(ints), (e: unknown) => e instanceof UnsupportedError && /ids/.test(e.message) && /I32/.test(e.message));
});

test('the tiny-bpe-llama model.safetensors reads with Hugging Face names and shapes', async () => {
  const { tensors } = await readSafetensors(dataPath('models', 'tiny-bpe-llama-hf', 'model.safetensors'));
  assert.deepEqual(tensors.get('model.embed_tokens.weight')!.shape, [1024, 64]);
  assert.deepEqual(tensors.get('model.layers.1.self_attn.k_proj.weight')!.shape, [32, 64]);
  assert.deepEqual(tensors.get('model.layers.0.mlp.down_proj.weight')!.shape, [64, 160]);
  assert.deepEqual(tensors.get('lm_head.weight')!.shape, [1024, 64]);
  const embed = tensors.get('model.embed_tokens.weight')!.data;
  assert.ok(embed.every(Number.isFinite) && embed.some((v) => v !== 0));
});

test('an absurd header length is a one-line error naming the file, with no huge allocation', async (t) => {
  const path = join(tempDir(t), 'absurd.safetensors');
  rawFile(path, {}, Buffer.alloc(16), 1n << 62n);
  await assert.rejects(readSafetensors(path), oneLineNaming(path, /header length 4611686018427387904 is impossible/));
  const tiny = join(tempDir(t), 'tiny.safetensors');
  writeFileSync(tiny, Buffer.from([1, 2, 3]));
  await assert.rejects(readSafetensors(tiny), oneLineNaming(tiny, /too short/));
});

test('a truncated file is a one-line error naming the file', async (t) => {
  const path = join(tempDir(t), 'cut.safetensors');
  await writeSafetensors(path, new Map([['w', { shape: [16, 16], data: new Float32Array(256).fill(1) }]]));
  truncateSync(path, statSync(path).size - 100);
  await assert.rejects(readSafetensors(path), oneLineNaming(path, /tensor w: .*outside .*truncated/));
  // Cut inside the header itself.
  truncateSync(path, 20);
  await assert.rejects(readSafetensors(path), oneLineNaming(path, /header length/));
});

test('bad JSON, size mismatches and overlapping tensors are rejected before reading data', async (t) => {
  const dir = tempDir(t);
  const cases: [string, (p: string) => void, RegExp][] = [
    ['json', (p) => {
      const body = Buffer.from('{"a": [1, 2');
      const prefix = Buffer.alloc(8);
      prefix.writeBigUInt64LE(BigInt(body.length));
      writeFileSync(p, Buffer.concat([prefix, body]));
    }, /not valid JSON/],
    ['size', (p) => rawFile(p, { w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, Buffer.alloc(8)), /needs 12 bytes but data_offsets span 8/],
    ['overlap', (p) => rawFile(p, {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    }, Buffer.alloc(12)), /a and b overlap/],
    ['dtype', (p) => rawFile(p, { w: { dtype: 'F17', shape: [1], data_offsets: [0, 4] } }, Buffer.alloc(4)), /unknown dtype "F17"/],
    ['metadata', (p) => rawFile(p, { __metadata__: { n: 1 } }, Buffer.alloc(0)), /__metadata__/],
  ];
  for (const [name, make, pattern] of cases) {
    const path = join(dir, `${name}.safetensors`);
    make(path);
    await assert.rejects(readSafetensors(path), oneLineNaming(path, pattern), name);
  }
});
