// GGUF (v2 and v3) header reader: magic, version, metadata and tensor table, read through a
// file handle so a multi-GB model is never read whole just to learn its shape. Every count,
// length, shape and offset is checked against the file size before anything is allocated for
// it; tensor bytes are read only when asked for. Layout: ggml's docs/gguf.md.
//
// As strict as llama.cpp's loader (ggml/src/gguf.cpp), so that no file passes here that llama.cpp
// would refuse: metadata keys are non-empty, tensor names shorter than GGML_MAX_NAME (64) bytes,
// and each tensor's offset equals the padded size of the tensors before it, so tensors are packed
// in order and can never alias or overlap.
import { isUtf8 } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InvalidFileError, UnsupportedError, UsageError } from '../../errors';
import type { GgufMetadata, GgufValue } from './metadata';
import { ggmlTypeLayout, unsupportedTypeReason, type GgmlTypeLayout } from './tensorTypes';
import { escapeControl, quote } from '../../safeText';

export interface GgufTensorInfo {
  readonly name: string;
  /** Dimensions innermost first, as ggml stores them: ne[0] is the row length. */
  readonly ne: readonly number[];
  readonly type: GgmlTypeLayout;
  /** Absolute byte offset of the tensor's data in the file. */
  readonly fileOffset: number;
  readonly byteLength: number;
  readonly elementCount: number;
}

export interface GgufHeader {
  readonly path: string;
  readonly version: number;
  readonly fileSize: number;
  readonly metadata: GgufMetadata;
  readonly tensors: readonly GgufTensorInfo[];
  readonly alignment: number;
  /** Where the tensor data section starts; tensor offsets in the file are relative to it. */
  readonly dataStart: number;
}

const MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
const DEFAULT_ALIGNMENT = 32;
const MAX_DIMS = 4;
/** ggml's GGML_MAX_NAME, counting the terminating NUL: names take at most 63 bytes. */
const MAX_NAME_BYTES = 64;
const CHUNK_BYTES = 1 << 20;
// Ceilings far above any real model (the largest vocabularies hold ~256k tokens, models ~10k
// tensors, chat templates and embedded tokenizer.json some MB), so a huge but well-formed
// hostile file cannot make the header parser allocate gigabytes.
const MAX_COUNT = 1 << 24;
const MAX_STRING_BYTES = 1 << 28;

enum ValueType {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
}

// The fewest bytes one value of each type can take, so an array count can be checked against the bytes left.
const MIN_VALUE_BYTES: Readonly<Record<ValueType, number>> = {
  [ValueType.UINT8]: 1, [ValueType.INT8]: 1, [ValueType.UINT16]: 2, [ValueType.INT16]: 2,
  [ValueType.UINT32]: 4, [ValueType.INT32]: 4, [ValueType.FLOAT32]: 4, [ValueType.BOOL]: 1,
  [ValueType.STRING]: 8, [ValueType.ARRAY]: 4 + 8, [ValueType.UINT64]: 8, [ValueType.INT64]: 8,
  [ValueType.FLOAT64]: 8,
};

const NUMERIC_READERS: Partial<Record<ValueType, (w: Buffer, at: number) => number>> = {
  [ValueType.UINT8]: (w, at) => w.readUInt8(at),
  [ValueType.INT8]: (w, at) => w.readInt8(at),
  [ValueType.UINT16]: (w, at) => w.readUInt16LE(at),
  [ValueType.INT16]: (w, at) => w.readInt16LE(at),
  [ValueType.UINT32]: (w, at) => w.readUInt32LE(at),
  [ValueType.INT32]: (w, at) => w.readInt32LE(at),
  [ValueType.FLOAT32]: (w, at) => w.readFloatLE(at),
  [ValueType.FLOAT64]: (w, at) => w.readDoubleLE(at),
};

/** An open GGUF file: its parsed header, and tensor bytes on demand. Close it when done. */
export class GgufFile {
  private constructor(
    private fd: number | undefined,
    readonly header: GgufHeader,
  ) {}

  static open(path: string): GgufFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw new UsageError(`cannot open the model file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, path);
    }
    try {
      return new GgufFile(fd, parseHeader(fd, path));
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** The raw bytes of one tensor, in a fresh buffer aligned for any typed-array view. */
  tensorBytes(tensor: GgufTensorInfo): Uint8Array {
    if (this.fd === undefined) throw new Error(`GGUF file ${this.header.path} is closed`);
    const bytes = new Uint8Array(new ArrayBuffer(tensor.byteLength));
    readFully(this.fd, bytes, tensor.fileOffset, this.header.path, `tensor ${tensor.name}`);
    return bytes;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Parse only the header of a GGUF file (metadata and tensor table). */
export function readGgufHeader(path: string): GgufHeader {
  const file = GgufFile.open(path);
  file.close();
  return file.header;
}

function readFully(fd: number, into: Uint8Array, position: number, path: string, what: string): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new InvalidFileError(`truncated GGUF: ${what} ends past the end of the file`, path);
    done += n;
  }
}

function parseHeader(fd: number, path: string): GgufHeader {
  const fileSize = fstatSync(fd).size;
  const r = new HeaderCursor(fd, fileSize, path);

  r.context = 'header';
  if (fileSize < 4 || r.u32() !== MAGIC) throw new InvalidFileError('not a GGUF file (wrong magic; expected "GGUF")', path);
  const version = r.u32();
  if (version !== 2 && version !== 3) {
    const hint = version === 1 ? ' (GGUF v1 is obsolete; re-convert the model)' : version > 0xffff ? ' (big-endian GGUF?)' : '';
    throw new UnsupportedError(`GGUF version ${version} is not supported${hint}; expected 2 or 3`, path);
  }
  r.context = '';
  const tensorCount = r.count(MIN_TENSOR_INFO_BYTES, 'tensor count');
  const kvCount = r.count(8 + 4, 'metadata count');

  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    r.context = `metadata key ${i}`;
    const key = r.string();
    if (key === '') throw new InvalidFileError(`metadata key ${i} is empty`, path);
    r.context = `metadata key ${i} (${escapeControl(key)})`;
    if (metadata.has(key)) throw new InvalidFileError(`duplicate GGUF metadata key ${quote(key)}`, path);
    metadata.set(key, r.value(r.valueType()));
  }

  const alignment = readAlignment(metadata, path);
  const infos: { name: string; ne: number[]; typeId: number; offset: number }[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    r.context = `tensor info ${i}`;
    const name = r.string();
    r.context = `tensor info ${i} (${escapeControl(name)})`;
    const nameBytes = Buffer.byteLength(name);
    if (nameBytes >= MAX_NAME_BYTES) throw new InvalidFileError(`tensor ${i} name ${quote(name)} is ${nameBytes} bytes long; GGUF names are at most ${MAX_NAME_BYTES - 1}`, path);
    if (names.has(name)) throw new InvalidFileError(`duplicate GGUF tensor name ${quote(name)}`, path);
    names.add(name);
    const nDims = r.u32();
    if (nDims < 1 || nDims > MAX_DIMS) throw new InvalidFileError(`tensor ${name} has ${nDims} dimensions; expected 1 to ${MAX_DIMS}`, path);
    const ne: number[] = [];
    for (let d = 0; d < nDims; d++) ne.push(r.u64AsNumber());
    const typeId = r.u32();
    const offset = r.u64AsNumber();
    infos.push({ name, ne, typeId, offset });
  }
  const dataStart = alignUp(r.position, alignment);
  const tensors = infos.map((info) => checkTensor(info, dataStart, alignment, fileSize, path));
  checkPacking(tensors, dataStart, alignment, path);
  return { path, version, fileSize, metadata, tensors, alignment, dataStart };
}

// name length + n_dims + one dim + type + offset
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8;

function readAlignment(metadata: GgufMetadata, path: string): number {
  const value = metadata.get('general.alignment');
  if (value === undefined) return DEFAULT_ALIGNMENT;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || (value & (value - 1)) !== 0) {
    throw new InvalidFileError(`general.alignment must be a positive power of two, got ${String(value)}`, path);
  }
  return value;
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

function checkTensor(
  info: { name: string; ne: number[]; typeId: number; offset: number },
  dataStart: number,
  alignment: number,
  fileSize: number,
  path: string,
): GgufTensorInfo {
  const { name, ne, typeId, offset } = info;
  const type = ggmlTypeLayout(typeId);
  if (type === undefined) throw new UnsupportedError(`${unsupportedTypeReason(typeId)} for tensor ${name}`, path);
  let elementCount = 1;
  for (const n of ne) {
    if (n < 1) throw new InvalidFileError(`tensor ${name} has shape [${ne.join(', ')}]; every dimension must be positive`, path);
    elementCount *= n;
    if (elementCount > Number.MAX_SAFE_INTEGER) {
      throw new InvalidFileError(`tensor ${name} shape [${ne.join(', ')}] has more values than any file can hold`, path);
    }
  }
  if (ne[0]! % type.blockSize !== 0) {
    throw new InvalidFileError(`tensor ${name} row length ${ne[0]} is not a multiple of the ${type.name} block size ${type.blockSize}`, path);
  }
  if (offset % alignment !== 0) {
    throw new InvalidFileError(`tensor ${name} data offset ${offset} is not a multiple of the alignment ${alignment}`, path);
  }
  const byteLength = (elementCount / type.blockSize) * type.blockBytes;
  const fileOffset = dataStart + offset;
  if (fileOffset + byteLength > fileSize) {
    throw new InvalidFileError(
      `tensor ${name} data [${fileOffset}..${fileOffset + byteLength}] is past the end of the file (size ${fileSize})`,
      path,
    );
  }
  return { name, ne, type, fileOffset, byteLength, elementCount };
}

/**
 * llama.cpp requires every tensor to start where the padded data of the tensors before it ends
 * (in table order): no gap, no reordering, no alias, no overlap.
 */
function checkPacking(tensors: readonly GgufTensorInfo[], dataStart: number, alignment: number, path: string): void {
  let expected = 0;
  for (const t of tensors) {
    const offset = t.fileOffset - dataStart;
    if (offset !== expected) {
      const why = offset < expected ? 'overlaps or aliases the tensors before it' : 'leaves a gap after the tensors before it';
      throw new InvalidFileError(`tensor ${t.name} has data offset ${offset}, expected ${expected}: it ${why} (GGUF packs tensors in order)`, path);
    }
    expected += alignUp(t.byteLength, alignment);
  }
}

/** Sequential little-endian reads through a window of the file; every read is bounds-checked first. */
class HeaderCursor {
  /** What is being read, for error messages ("metadata key 12 (tokenizer.ggml.tokens)"). */
  context = '';

  private describe(what: string): string {
    return this.context ? `${this.context} ${what}` : what;
  }
  position = 0;
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly fd: number,
    private readonly fileSize: number,
    private readonly path: string,
  ) {}

  private get left(): number {
    return this.fileSize - this.position;
  }

  /** Make `n` bytes from the current position readable in the window; return their index in it. */
  private take(n: number, what: string): number {
    if (n > this.left) {
      throw new InvalidFileError(
        `truncated GGUF: ${this.describe(what)} needs ${n} bytes at offset ${this.position}, but the file (size ${this.fileSize}) has ${this.left} left`,
        this.path,
      );
    }
    let at = this.position - this.windowStart;
    if (at < 0 || at + n > this.window.length) {
      const length = Math.min(Math.max(n, CHUNK_BYTES), this.left);
      this.window = Buffer.allocUnsafe(length);
      readFully(this.fd, this.window, this.position, this.path, this.context);
      this.windowStart = this.position;
      at = 0;
    }
    this.position += n;
    return at;
  }

  // take() may replace the window, so it runs before the window is read.
  private read<T>(n: number, what: string, get: (w: Buffer, at: number) => T): T {
    const at = this.take(n, what);
    return get(this.window, at);
  }

  u32(): number {
    return this.read(4, 'uint32', (w, at) => w.readUInt32LE(at));
  }

  u64(): bigint {
    return this.read(8, 'uint64', (w, at) => w.readBigUInt64LE(at));
  }

  /** A uint64 size or offset, which must fit a JS number to be usable at all. */
  u64AsNumber(): number {
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new InvalidFileError(`${this.context}: value ${v} exceeds file size ${this.fileSize}`, this.path);
    }
    return Number(v);
  }

  /** A uint64 element count, checked against the bytes left at `minBytesEach` per element. */
  count(minBytesEach: number, what: string, limit = MAX_COUNT): number {
    const v = this.u64();
    if (v * BigInt(minBytesEach) > BigInt(this.left)) {
      throw new InvalidFileError(
        `truncated GGUF: ${this.describe(what)} ${v} exceeds file size ${this.fileSize} (${this.left} bytes left)`,
        this.path,
      );
    }
    if (v > BigInt(limit)) throw new InvalidFileError(`${this.describe(what)} ${v} exceeds the limit of ${limit}`, this.path);
    return Number(v);
  }

  string(): string {
    const length = this.count(1, 'string length', MAX_STRING_BYTES);
    const at = this.take(length, 'string');
    const text = this.window.toString('utf8', at, at + length);
    // Invalid UTF-8 decodes to U+FFFD; only then is the (slower) exact check needed.
    if (text.includes('\ufffd') && !isUtf8(this.window.subarray(at, at + length))) {
      throw new InvalidFileError(`${this.context}: string is not valid UTF-8`, this.path);
    }
    return text;
  }

  valueType(): ValueType {
    const t = this.u32();
    if (!(t in MIN_VALUE_BYTES)) throw new InvalidFileError(`${this.context}: unknown GGUF metadata value type ${t}`, this.path);
    return t as ValueType;
  }

  value(type: ValueType): GgufValue {
    switch (type) {
      case ValueType.UINT8: return this.read(1, 'uint8', (w, at) => w.readUInt8(at));
      case ValueType.INT8: return this.read(1, 'int8', (w, at) => w.readInt8(at));
      case ValueType.UINT16: return this.read(2, 'uint16', (w, at) => w.readUInt16LE(at));
      case ValueType.INT16: return this.read(2, 'int16', (w, at) => w.readInt16LE(at));
      case ValueType.UINT32: return this.u32();
      case ValueType.INT32: return this.read(4, 'int32', (w, at) => w.readInt32LE(at));
      case ValueType.FLOAT32: return this.read(4, 'float32', (w, at) => w.readFloatLE(at));
      case ValueType.FLOAT64: return this.read(8, 'float64', (w, at) => w.readDoubleLE(at));
      case ValueType.UINT64: return this.u64();
      case ValueType.INT64: return this.read(8, 'int64', (w, at) => w.readBigInt64LE(at));
      case ValueType.BOOL: {
        const b = this.read(1, 'bool', (w, at) => w.readUInt8(at));
        if (b > 1) throw new InvalidFileError(`${this.context}: bool value ${b} is neither 0 nor 1`, this.path);
        return b === 1;
      }
      case ValueType.STRING: return this.string();
      case ValueType.ARRAY: {
        const elementType = this.valueType();
        const n = this.count(MIN_VALUE_BYTES[elementType], 'array length');
        const numeric = NUMERIC_READERS[elementType];
        if (numeric) {
          // Fixed-size elements (token scores and types): one bounds check and read for the lot.
          const size = MIN_VALUE_BYTES[elementType];
          const at = this.take(n * size, 'array');
          const out: number[] = new Array(n);
          for (let i = 0; i < n; i++) out[i] = numeric(this.window, at + i * size);
          return out;
        }
        const out: GgufValue[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.value(elementType);
        return out;
      }
    }
  }
}
