// Damaged and hostile GGUF files: each fails with a typed, one-line error that names the file
// and the problem, before anything is allocated for the bad size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPath } from '../helpers/data';
import { GgufFile } from '../../src/runtime/model/gguf/reader';
import { loadGgufModel } from '../../src/runtime/model/gguf/toModel';
import { InvalidFileError, UnsupportedError, UsageError } from '../../src/runtime/errors';

const original = readFileSync(dataPath('models', 'stories260K.gguf'));
const dir = mkdtempSync(join(tmpdir(), 'gguf-invalid-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

let fileNumber = 0;
function writeVariant(bytes: Uint8Array): string {
  const path = join(dir, `variant-${fileNumber++}.gguf`);
  writeFileSync(path, bytes);
  return path;
}

function patched(edit: (b: Buffer) => void): string {
  const copy = Buffer.from(original);
  edit(copy);
  return writeVariant(copy);
}

/** Where a tensor's info record starts after its name: n_dims, dims, type, offset follow. */
function tensorInfoFields(b: Buffer, name: string) {
  const nameAt = b.indexOf(Buffer.from(name, 'utf8'));
  assert.ok(nameAt > 0);
  const nDimsAt = nameAt + Buffer.byteLength(name);
  const nDims = b.readUInt32LE(nDimsAt);
  const dimsAt = nDimsAt + 4;
  return { dimsAt, typeAt: dimsAt + 8 * nDims, offsetAt: dimsAt + 8 * nDims + 4 };
}

function assertOpenFails(path: string, errorClass: typeof InvalidFileError | typeof UsageError, pattern: RegExp): void {
  assert.throws(
    () => GgufFile.open(path),
    (err: unknown) => {
      assert.ok(err instanceof errorClass, `${String(err)} is a ${errorClass.name}`);
      const message = (err as Error).message;
      assert.ok(!message.includes('\n'), `one line: ${message}`);
      assert.ok(message.startsWith(`${path}: `), `names the file: ${message}`);
      assert.match(message, pattern);
      return true;
    },
  );
}

test('a GGUF cut anywhere fails as truncated or with data past the end', () => {
  const header = GgufFile.open(dataPath('models', 'stories260K.gguf'));
  header.close();
  const { dataStart, alignment } = header.header;
  for (const cut of [0, 3, 6, 20, 30, 200, 5000, dataStart - 100, dataStart, dataStart + 1000, original.length - 1]) {
    const path = writeVariant(original.subarray(0, cut));
    const pattern = cut < 4 ? /not a GGUF file/ : cut < dataStart - alignment ? /: truncated GGUF: .*(needs \d+ bytes at offset \d+, but the file \(size \d+\) has \d+ left|exceeds file size \d+)/ : /is past the end of the file/;
    assertOpenFails(path, InvalidFileError, pattern);
  }
});

test('a tensor offset past the end of the file is refused', () => {
  const path = patched((b) => b.writeBigUInt64LE(BigInt(original.length), tensorInfoFields(b, 'blk.4.ffn_norm.weight').offsetAt));
  assertOpenFails(path, InvalidFileError, /tensor blk\.4\.ffn_norm\.weight data \[\d+\.\.\d+\] is past the end of the file \(size 1185376\)/);
  const huge = patched((b) => b.writeBigUInt64LE(2n ** 62n, tensorInfoFields(b, 'output.weight').offsetAt));
  assertOpenFails(huge, InvalidFileError, /output\.weight.*exceeds file size|output\.weight.*past the end/);
});

test('an unknown or unsupported tensor type is refused with its number and the tensor', () => {
  const unknown = patched((b) => b.writeUInt32LE(99, tensorInfoFields(b, 'blk.0.attn_q.weight').typeAt));
  assertOpenFails(unknown, UnsupportedError, /unknown GGUF tensor type 99 for tensor blk\.0\.attn_q\.weight/);
  const q3k = patched((b) => b.writeUInt32LE(11, tensorInfoFields(b, 'blk.0.attn_q.weight').typeAt));
  assertOpenFails(q3k, UnsupportedError, /GGUF tensor type Q3_K \(11\) is not supported .* for tensor blk\.0\.attn_q\.weight/);
});

test('absurd string, array, count and shape sizes are refused before allocating', () => {
  // The first metadata key's string length sits right after the 24-byte fixed header.
  assertOpenFails(patched((b) => b.writeBigUInt64LE(0xffffffffn, 24)), InvalidFileError, /metadata key 0 string length 4294967295 exceeds file size 1185376/);
  assertOpenFails(patched((b) => b.writeBigUInt64LE(2n ** 63n, 24)), InvalidFileError, /metadata key 0 string length \d+ exceeds file size/);
  // tokenizer.ggml.tokens: key, value type ARRAY, element type STRING, then the element count.
  const countAt = (b: Buffer) => b.indexOf(Buffer.from('tokenizer.ggml.tokens')) + 'tokenizer.ggml.tokens'.length + 8;
  assertOpenFails(patched((b) => b.writeBigUInt64LE(10n ** 12n, countAt(b))), InvalidFileError, /metadata key 0 \(tokenizer\.ggml\.tokens\) array length 1000000000000 exceeds file size/);
  assertOpenFails(patched((b) => b.writeBigUInt64LE(2n ** 60n, 8)), InvalidFileError, /: truncated GGUF: tensor count \d+ exceeds file size 1185376/);
  assertOpenFails(patched((b) => b.writeBigUInt64LE(2n ** 60n, 16)), InvalidFileError, /metadata count \d+ exceeds file size/);
  const dims = (b: Buffer) => tensorInfoFields(b, 'token_embd.weight').dimsAt;
  assertOpenFails(patched((b) => b.writeBigUInt64LE(2n ** 40n, dims(b) + 8)), InvalidFileError, /tensor token_embd\.weight data \[\d+\.\.\d+\] is past the end of the file/);
  assertOpenFails(patched((b) => b.writeBigUInt64LE(2n ** 50n, dims(b) + 8)), InvalidFileError, /tensor token_embd\.weight shape \[64, 1125899906842624\] has more values than any file can hold/);
  assertOpenFails(patched((b) => b.writeBigUInt64LE(0n, dims(b))), InvalidFileError, /every dimension must be positive/);
  assertOpenFails(patched((b) => b.writeUInt32LE(9, dims(b) - 4)), InvalidFileError, /token_embd\.weight has 9 dimensions/);
});

test('a well-formed but huge array is refused by its length, before it is read', () => {
  // One metadata key: an array of 2^24 + 1 uint8 values, in a (sparse) file big enough to hold it.
  const head = Buffer.alloc(4 + 4 + 8 + 8 + 8 + 3 + 4 + 4 + 8);
  let at = head.write('GGUF', 0);
  at = head.writeUInt32LE(3, at);
  at = head.writeBigUInt64LE(0n, at);
  at = head.writeBigUInt64LE(1n, at);
  at = head.writeBigUInt64LE(3n, at);
  at += head.write('big', at);
  at = head.writeUInt32LE(9, at);
  at = head.writeUInt32LE(0, at);
  head.writeBigUInt64LE(2n ** 24n + 1n, at);
  const path = writeVariant(head);
  truncateSync(path, 2 ** 24 + 4096);
  assertOpenFails(path, InvalidFileError, /metadata key 0 \(big\) array length 16777217 exceeds the limit of 16777216$/);
});

test('a metadata string that is not UTF-8 is refused, naming the key', () => {
  const path = patched((b) => b.writeUInt8(0xff, b.indexOf(Buffer.from('<unk>'))));
  assertOpenFails(path, InvalidFileError, /metadata key 0 \(tokenizer\.ggml\.tokens\): string is not valid UTF-8/);
});

test('wrong magic and unsupported versions are refused', () => {
  assertOpenFails(patched((b) => b.write('GGML', 0)), InvalidFileError, /not a GGUF file \(wrong magic/);
  assertOpenFails(patched((b) => b.writeUInt32LE(1, 4)), UnsupportedError, /GGUF version 1 is not supported/);
  assertOpenFails(patched((b) => b.writeUInt32LE(0x03000000, 4)), UnsupportedError, /big-endian/);
});

test('metadata that contradicts the tensors fails at load with the key or tensor named', async () => {
  const wrongHeads = patched((b) => {
    const at = b.indexOf(Buffer.from('llama.attention.head_count_kv')) + 'llama.attention.head_count_kv'.length + 4;
    b.writeUInt32LE(8, at);
  });
  await assert.rejects(loadGgufModel(wrongHeads), (err: unknown) => err instanceof InvalidFileError && /k_proj\.weight has shape \[32, 64\], expected \[64, 64\]/.test((err as Error).message));
  const noArch = patched((b) => b.write('xxxxxxx.architecture', b.indexOf(Buffer.from('general.architecture'))));
  await assert.rejects(loadGgufModel(noArch), (err: unknown) => err instanceof InvalidFileError && /metadata general\.architecture must be a string, got missing/.test((err as Error).message));
});

test('a file that cannot be opened is a usage error naming it', () => {
  assertOpenFails(join(dir, 'missing.gguf'), UsageError, /cannot open the model file \(ENOENT\)$/);
});
