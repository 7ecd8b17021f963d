// Readers as strict as the reference implementations (llama.cpp's gguf.cpp, the safetensors
// crate), with every file the references accept still loading; names from files never find
// Object's own members; text from files never reaches the terminal raw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dataPath } from '../helpers/data';
import { pythonExecutable } from '../helpers/python';
import { GgufFile, readGgufHeader } from '../../src/runtime/model/gguf/reader';
import { ggufConfig } from '../../src/runtime/model/gguf/config';
import { parseHfConfig } from '../../src/runtime/model/hf/config';
import { loadHfFolder } from '../../src/runtime/model/hf/loadFolder';
import { readSafetensors } from '../../src/runtime/model/safetensors/read';
import { writeSafetensors } from '../../src/runtime/model/safetensors/write';
import { parseHeader as parseSafetensorsHeader, DTYPE_BYTES } from '../../src/runtime/model/safetensors/header';
import { readRecords } from '../../src/runtime/data/records';
import { parseTagBundleMeta, TAG_BUNDLE_FORMAT, TAG_BUNDLE_FORMAT_VERSION } from '../../src/runtime/tags/bundle';
import { InvalidFileError, UnsupportedError } from '../../src/runtime/errors';
import { Tokenizer } from '../../src/runtime/tokenizer/tokenizer';

const dir = mkdtempSync(join(tmpdir(), 'tagllm-strict-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const cli = resolve(__dirname, '../../dist/cli.js');

// GGUFs written by the reference writer (the `gguf` Python package of llama.cpp)
const WRITER = `
import sys, numpy as np, gguf
out = sys.argv[1]
def write(name, arch='llama', tensors=(), align=None, extra=()):
    w = gguf.GGUFWriter(f'{out}/{name}', arch)
    if align: w.add_custom_alignment(align)
    for k, v in extra: w.add_string(k, v)
    for tn, arr in tensors: w.add_tensor(tn, arr)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
a = np.arange(5, dtype=np.float32); b = np.arange(21, dtype=np.float32).reshape(3, 7); c = np.arange(33, dtype=np.float16)
write('valid.gguf', tensors=[('a.weight', a), ('b.weight', b), ('c.weight', c)])
write('valid-align64.gguf', tensors=[('a.weight', a), ('b.weight', b), ('c.weight', c)], align=64)
write('name63.gguf', tensors=[('n' * 63, a)])
write('name64.gguf', tensors=[('n' * 64, a)])
write('emptykey.gguf', extra=[('', 'x')])
for arch in ['constructor', 'toString', '__proto__']: write(f'arch-{arch}.gguf', arch=arch)
write('escape-arch.gguf', arch='\\x1b]0;pwned\\x07\\x1b[2J')
`;
const written = spawnSync(pythonExecutable(), ['-c', WRITER, dir], { encoding: 'utf8' });
const gguf = (name: string) => join(dir, name);

const invalid = (pattern: RegExp, type: typeof InvalidFileError | typeof UnsupportedError = InvalidFileError) => (e: unknown) =>
  e instanceof type && pattern.test((e as Error).message) && !(e as Error).message.includes('\n');

test('GGUFs from the gguf Python writer, stories260K and the vocab-only GGUFs load', () => {
  assert.equal(written.status, 0, written.stderr);
  for (const name of ['valid.gguf', 'valid-align64.gguf', 'name63.gguf']) {
    const file = GgufFile.open(gguf(name));
    try {
      const a = file.header.tensors[0];
      assert.deepEqual([...new Float32Array(file.tensorBytes(a).buffer)], [0, 1, 2, 3, 4], name);
      if (name !== 'name63.gguf') assert.deepEqual([...new Float32Array(file.tensorBytes(file.header.tensors[1]).buffer)].slice(-2), [19, 20]);
    } finally {
      file.close();
    }
  }
  const shared = ['stories260K.gguf', 'stories260K-Q8_0.gguf', 'tiny-bpe-llama.gguf', 'quant-vectors.gguf'].map((f) => dataPath('models', f));
  const tokenizers = dataPath('tokenizers');
  for (const sub of readdirSync(tokenizers, { withFileTypes: true })) {
    if (!sub.isDirectory()) continue;
    for (const f of readdirSync(join(tokenizers, sub.name), { recursive: true }) as string[]) if (f.endsWith('.gguf')) shared.push(join(tokenizers, sub.name, f));
  }
  assert.ok(shared.length >= 7, shared.join());
  for (const path of shared) assert.ok(readGgufHeader(path).metadata.size > 0, path);
});

test('GGUF: names of 64 bytes and empty metadata keys are refused, as llama.cpp does', () => {
  assert.throws(() => readGgufHeader(gguf('name64.gguf')), invalid(/tensor 0 name "n{64}" is 64 bytes long; GGUF names are at most 63/));
  assert.throws(() => readGgufHeader(gguf('emptykey.gguf')), invalid(/metadata key \d+ is empty/));
});

/** valid.gguf with the data offset of tensor `index` (a 0, b 32, c 128) set to `offset`. */
function withOffset(index: number, offset: number): string {
  const bytes = readFileSync(gguf('valid.gguf'));
  const header = readGgufHeader(gguf('valid.gguf'));
  const t = header.tensors[index];
  const name = Buffer.from(t.name);
  const at = bytes.indexOf(name) + name.length + 4 + 8 * t.ne.length + 4;
  assert.equal(Number(bytes.readBigUInt64LE(at)), t.fileOffset - header.dataStart);
  bytes.writeBigUInt64LE(BigInt(offset), at);
  const path = join(dir, `offset-${index}-${offset}.gguf`);
  writeFileSync(path, bytes);
  return path;
}

test('GGUF: tensors aliased, overlapping, out of order or with gaps are refused', () => {
  assert.deepEqual(readGgufHeader(gguf('valid.gguf')).tensors.map((t) => t.fileOffset - readGgufHeader(gguf('valid.gguf')).dataStart), [0, 32, 128]);
  assert.throws(() => readGgufHeader(withOffset(1, 0)), invalid(/tensor b\.weight has data offset 0, expected 32: it overlaps or aliases the tensors before it/));
  assert.throws(() => readGgufHeader(withOffset(2, 96)), invalid(/tensor c\.weight has data offset 96, expected 128: it overlaps or aliases/));
  assert.throws(() => readGgufHeader(withOffset(1, 64)), invalid(/tensor b\.weight has data offset 64, expected 32: it leaves a gap/));
  assert.throws(() => readGgufHeader(withOffset(0, 32)), invalid(/tensor a\.weight has data offset 32, expected 0/));
});

test('architecture names from files never match Object members', () => {
  for (const arch of ['constructor', 'toString', '__proto__']) {
    assert.throws(() => ggufConfig(readGgufHeader(gguf(`arch-${arch}.gguf`))), invalid(new RegExp(`architecture "${arch}" is not supported`), UnsupportedError));
  }
  const base = { hidden_size: 8, num_attention_heads: 2, num_hidden_layers: 1, intermediate_size: 16, vocab_size: 10 };
  for (const cls of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
    assert.throws(() => parseHfConfig(JSON.parse(JSON.stringify({ ...base, architectures: [cls] })), 'config.json'), invalid(new RegExp(`architecture "${cls}" is not supported`), UnsupportedError));
  }
  assert.throws(() => parseSafetensorsHeader(Buffer.from('{"w":{"dtype":"constructor","shape":[1],"data_offsets":[0,4]}}'), 4, 'x.safetensors'), invalid(/unknown dtype "constructor"/));
  assert.ok(!Object.hasOwn(DTYPE_BYTES, 'toString'));
  // an SD property named like an Object member is a column like any other
  const sdf = join(dir, 'props.sdf');
  const block = (props: string) => `m\n  x\n\n  1  0  0  0  0  0  0  0  0  0999 V2000\n    0.0000    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0\nM  END\n${props}$$$$\n`;
  writeFileSync(sdf, block('> <constructor>\n7\n\n') + block('> <y>\n1\n\n'));
  const table = readRecords(sdf);
  const col = table.columns.indexOf('constructor');
  assert.ok(col > 0, table.columns.join());
  assert.deepEqual(table.rows.map((r) => r[col]), ['7', '']);
  assert.throws(() => parseTagBundleMeta(JSON.parse(`{"format":"${TAG_BUNDLE_FORMAT}","formatVersion":${TAG_BUNDLE_FORMAT_VERSION},"baseModel":{},"tags":{"__proto__":{"kind":"domain","description":"x"}}}`), 'b.json'), /"__proto__" is not a tag name/);
});

test('info prints escape sequences from metadata as text, never raw', () => {
  const run = spawnSync(process.execPath, [cli, 'info', '--model', gguf('escape-arch.gguf')], { encoding: 'utf8' });
  assert.equal(run.status, 1);
  assert.ok(!/[\x00-\x09\x0b-\x1f]/.test(run.stdout + run.stderr), JSON.stringify(run.stderr));
  assert.match(run.stderr, /architecture "\\x1b]0;pwned\\x07\\x1b\[2J" is not supported/);
});

async function safetensorsVariant(name: string, edit: (header: string, data: Buffer) => [string, Buffer]): Promise<string> {
  const path = join(dir, name);
  await writeSafetensors(path, new Map([['a', { shape: [2], data: Float32Array.from([1, 2]) }], ['b', { shape: [1], data: Float32Array.from([3]) }]]));
  const bytes = readFileSync(path);
  const length = Number(bytes.readBigUInt64LE(0));
  const [header, data] = edit(bytes.subarray(8, 8 + length).toString('utf8'), bytes.subarray(8 + length));
  const json = Buffer.from(header);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([prefix, json, data]));
  return path;
}

test('safetensors: a hole before or between tensors, trailing bytes, a BOM or a space before the header are refused', async () => {
  const same = await safetensorsVariant('same.safetensors', (h, d) => [h, d]);
  assert.deepEqual([...(await readSafetensors(same)).tensors.get('b')!.data], [3]);
  const hole = await safetensorsVariant('hole.safetensors', (h, d) => [h.replace('[0,8]', '[4,12]').replace('[8,12]', '[12,16]'), Buffer.concat([Buffer.alloc(4), d])]);
  await assert.rejects(readSafetensors(hole), invalid(/hole of 4 bytes before the first tensor \(tensor a starts at 4\)/));
  const between = await safetensorsVariant('between.safetensors', (h, d) => [h.replace('[8,12]', '[12,16]'), Buffer.concat([d, Buffer.alloc(4)])]);
  await assert.rejects(readSafetensors(between), invalid(/hole of 4 bytes after tensor a/));
  const trailing = await safetensorsVariant('trailing.safetensors', (h, d) => [h, Buffer.concat([d, Buffer.from('junk')])]);
  await assert.rejects(readSafetensors(trailing), invalid(/4 trailing bytes after the last tensor/));
  const bom = await safetensorsVariant('bom.safetensors', (h, d) => [`\ufeff${h}`, d]);
  await assert.rejects(readSafetensors(bom), invalid(/safetensors header starts with an invisible byte-order mark \(U\+FEFF\)/));
  const space = await safetensorsVariant('space.safetensors', (h, d) => [` ${h}`, d]);
  await assert.rejects(readSafetensors(space), invalid(/safetensors header must start with "\{", not " "/));
  // the Python-written tiny-bpe-llama weights still load
  assert.ok((await readSafetensors(dataPath('models', 'tiny-bpe-llama-hf', 'model.safetensors'))).tensors.size > 0);
});

test('a config.json with a BOM names the BOM instead of quoting an invisible character', async () => {
  const folder = join(dir, 'hf-bom');
  mkdirSync(folder);
  cpSync(dataPath('models', 'tiny-bpe-llama-hf'), folder, { recursive: true });
  writeFileSync(join(folder, 'config.json'), `\ufeff${readFileSync(join(folder, 'config.json'), 'utf8')}`);
  await assert.rejects(loadHfFolder(folder), invalid(/config\.json: the file starts with an invisible byte-order mark \(U\+FEFF\), which JSON does not allow; save it as UTF-8 without a BOM/));
});

test('messages in the user\'s terms: a metadata number is a number, not a bigint; a wrong delimiter is named', () => {
  const path = join(dir, 'uint64-heads.gguf');
  const py = spawnSync(pythonExecutable(), ['-c', `
import sys, gguf
w = gguf.GGUFWriter(sys.argv[1], 'llama')
w.add_uint64('llama.embedding_length', 0)
w.write_header_to_file(); w.write_kv_data_to_file(); w.close()`, path], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  assert.throws(() => ggufConfig(readGgufHeader(path)), (e: unknown) => e instanceof InvalidFileError && /llama\.embedding_length must be a positive number, got the number 0$/.test((e as Error).message) && !/bigint/.test((e as Error).message));
  const csv = join(dir, 'semicolons.csv');
  writeFileSync(csv, 'smiles;y\nCCO;1\nCC,C;2\n');
  assert.throws(() => readRecords(csv), invalid(/line 3: 2 fields, but the header has 1; the file looks separated by semicolons, but it is read as separated by commas/));
});

test('a tag bundle whose scale JSON spells as infinity (1e999) is refused when parsed (found by the fuzz run)', () => {
  const text = readFileSync(join(process.cwd(), 'bundles', 'default', 'tagbundle.json'), 'utf8');
  assert.doesNotThrow(() => parseTagBundleMeta(JSON.parse(text), 'tagbundle.json'));
  const infinite = text.replace(/"targetMean": *[-0-9.e+]+/, '"targetMean": 1e999');
  assert.notEqual(infinite, text);
  assert.throws(() => parseTagBundleMeta(JSON.parse(infinite), 'tagbundle.json'), invalid(/outputs\[0\]\.targetMean must be a finite number/));
});

test('a tokenizer.json the tokenizers library cannot use is an InvalidFileError, not a library crash (found by the fuzz run)', () => {
  const json = JSON.parse(readFileSync(dataPath('models', 'tiny-bpe-llama-hf', 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  assert.doesNotThrow(() => new Tokenizer(json, { addBos: false }));
  assert.throws(() => new Tokenizer({ ...json, decoder: { type: 'ByteLgvel' } }, { addBos: false }), invalid(/tokenizer\.json cannot be used: Unknown Decoder type: ByteLgvel/));
  const { normalizer: _dropped, ...withoutNormalizer } = json;
  assert.throws(() => new Tokenizer(withoutNormalizer, { addBos: false }), invalid(/tokenizer\.json cannot be used: Tokenizer must contain a "normalizer" property/));
});
