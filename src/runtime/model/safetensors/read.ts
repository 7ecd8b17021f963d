// Reads a .safetensors file into float32 tensors. The header is validated in full first
// (header.ts); then each tensor's byte range is read on its own, so peak memory is the
// float32 weights plus one tensor's raw bytes.
import { open, type FileHandle } from 'node:fs/promises';
import { InvalidFileError, UnsupportedError } from '../../errors';
import type { F32Tensor } from '../description';
import { dequantize } from '../gguf/quant';
import { ggmlTypeLayout } from '../gguf/tensorTypes';
import { headerLength, parseHeader, type SafetensorsEntry, type SafetensorsHeader } from './header';

export interface SafetensorsContents {
  /** Tensors by name, in the order the header lists them. */
  readonly tensors: Map<string, F32Tensor>;
  /** The header's `__metadata__` ({} when absent). */
  readonly metadata: Readonly<Record<string, string>>;
}

// One read() call may not ask for more than 2 GiB; an embedding table can be larger.
const MAX_READ_BYTES = 1 << 30;

// F16 and BF16 share ggml's converters (same bit layouts as in GGUF).
const HALF_TYPES: Readonly<Record<string, number>> = { F16: 1, BF16: 30 };

export interface ReadOptions {
  readonly signal?: AbortSignal;
  /** Called after each tensor with the data bytes read so far and in all. */
  readonly onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

/** All tensors of a safetensors file as float32 (F32, F16 and BF16 files; other dtypes are an UnsupportedError). */
export async function readSafetensors(path: string, options: ReadOptions = {}): Promise<SafetensorsContents> {
  const file = await openFile(path);
  try {
    const header = await readHeader(file, path);
    const tensors = new Map<string, F32Tensor>();
    const bytesTotal = header.entries.reduce((sum, e) => sum + e.end - e.begin, 0);
    let bytesDone = 0;
    for (const entry of header.entries) {
      options.signal?.throwIfAborted();
      tensors.set(entry.name, await readTensor(file, header, entry, path));
      bytesDone += entry.end - entry.begin;
      options.onProgress?.(bytesDone, bytesTotal);
    }
    return { tensors, metadata: header.metadata };
  } finally {
    await file.close();
  }
}

/** The validated header alone: names, dtypes, shapes and `__metadata__`, without reading tensor data. */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const file = await openFile(path);
  try {
    return await readHeader(file, path);
  } finally {
    await file.close();
  }
}

async function openFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    throw new InvalidFileError(`cannot open safetensors file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, path);
  }
}

async function readHeader(file: FileHandle, path: string): Promise<SafetensorsHeader> {
  const { size } = await file.stat();
  const prefix = await readExactly(file, 0, Math.min(8, size), path);
  const length = headerLength(prefix, size, path);
  const json = await readExactly(file, 8, length, path);
  return parseHeader(json, size - 8 - length, path);
}

async function readTensor(file: FileHandle, header: SafetensorsHeader, entry: SafetensorsEntry, path: string): Promise<F32Tensor> {
  const count = entry.shape.reduce((n, d) => n * d, 1);
  const offset = header.dataStart + entry.begin;
  if (entry.dtype === 'F32') {
    const data = new Float32Array(count);
    await readInto(file, new Uint8Array(data.buffer), offset, path);
    return { shape: entry.shape, data };
  }
  const half = HALF_TYPES[entry.dtype];
  if (half === undefined) {
    throw new UnsupportedError(`tensor ${entry.name} has dtype ${entry.dtype}; only F32, F16 and BF16 can be read`, path);
  }
  const raw = await readExactly(file, offset, entry.end - entry.begin, path);
  return { shape: entry.shape, data: dequantize(ggmlTypeLayout(half)!, raw, count) };
}

async function readExactly(file: FileHandle, position: number, length: number, path: string): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  await readInto(file, bytes, position, path);
  return bytes;
}

async function readInto(file: FileHandle, target: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const chunk = Math.min(target.length - done, MAX_READ_BYTES);
    const { bytesRead } = await file.read(target, done, chunk, position + done);
    if (bytesRead === 0) throw new InvalidFileError(`file ended early at byte ${position + done} (truncated?)`, path);
    done += bytesRead;
  }
}
