// The safetensors header: an 8-byte little-endian length, then that many bytes of JSON
// mapping each tensor name to {dtype, shape, data_offsets} (offsets relative to the data
// section after the header), plus an optional string-to-string `__metadata__`. Everything is
// checked here before a single tensor byte is read or allocated.
// Format: https://github.com/huggingface/safetensors (README, "Format"). As strict as that
// reference: the header starts with "{" (no BOM, no leading space; trailing spaces pad it), and
// the tensors tile the data section exactly, from byte 0 to its last byte: no hole before or
// between them, no overlap, no trailing bytes.
import { InvalidFileError } from '../../errors';
import { parseJsonText } from '../../jsonText';
import { quote } from '../../safeText';

/** Bytes per element of each dtype the format defines; reading converts only F32, F16 and BF16. */
export const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

/** No real header comes near this; a larger length means a corrupt or foreign file. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Byte range within the data section: [begin, end). */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  /** Tensors in the order the header lists them. */
  readonly entries: readonly SafetensorsEntry[];
  readonly metadata: Readonly<Record<string, string>>;
  /** File offset of the data section (8 + header length). */
  readonly dataStart: number;
}

/** Checks the 8-byte length prefix against the file size; returns the header's byte length. */
export function headerLength(prefix: Uint8Array, fileSize: number, path: string): number {
  if (fileSize < 8) throw new InvalidFileError(`too short for a safetensors file (${fileSize} bytes)`, path);
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(Math.min(fileSize - 8, MAX_HEADER_BYTES))) {
    throw new InvalidFileError(
      `safetensors header length ${length} is impossible for a ${fileSize}-byte file (truncated or not safetensors)`,
      path,
    );
  }
  return Number(length);
}

/** Parses and validates the JSON header against the size of the data section that follows it. */
export function parseHeader(json: Uint8Array, dataBytes: number, path: string): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(json);
  } catch {
    throw new InvalidFileError('safetensors header is not valid UTF-8', path);
  }
  const doc = parseJsonText(text, path, 'safetensors header');
  if (!text.startsWith('{')) throw new InvalidFileError(`safetensors header must start with "{", not ${quote(text.slice(0, 1))}`, path);
  if (!isObject(doc)) throw new InvalidFileError('safetensors header is not a JSON object', path);

  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(doc)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(value, path);
      continue;
    }
    entries.push(parseEntry(name, value, dataBytes, path));
  }

  const byStart = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let last: SafetensorsEntry | undefined;
  for (const cur of byStart) {
    if (cur.begin < covered) throw new InvalidFileError(`tensors ${last!.name} and ${cur.name} overlap in the data section`, path);
    if (cur.begin > covered) {
      const where = last ? `after tensor ${last.name}` : 'before the first tensor';
      throw new InvalidFileError(`the data section has a hole of ${cur.begin - covered} bytes ${where} (tensor ${cur.name} starts at ${cur.begin})`, path);
    }
    covered = cur.end;
    last = cur;
  }
  if (covered !== dataBytes) {
    throw new InvalidFileError(`${dataBytes - covered} trailing bytes after the last tensor (the data section is ${dataBytes} bytes, the tensors cover ${covered})`, path);
  }
  return { entries, metadata, dataStart: 8 + json.length };
}

function parseEntry(name: string, value: unknown, dataBytes: number, path: string): SafetensorsEntry {
  const bad = (what: string) => new InvalidFileError(`tensor ${name}: ${what}`, path);
  if (!isObject(value)) throw bad('header entry is not an object');
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) throw bad(`unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw bad(`data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataBytes) {
    throw bad(`data_offsets [${begin}, ${end}] fall outside the ${dataBytes}-byte data section (truncated file?)`);
  }
  const elements = (shape as number[]).reduce((n, d) => n * d, 1);
  const bytes = elements * DTYPE_BYTES[dtype]!;
  if (!Number.isSafeInteger(bytes) || bytes !== end - begin) {
    throw bad(`shape [${shape.join(', ')}] of ${dtype} needs ${bytes} bytes but data_offsets span ${end - begin}`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

function parseMetadata(value: unknown, path: string): Record<string, string> {
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new InvalidFileError('safetensors __metadata__ must map strings to strings', path);
  }
  return value as Record<string, string>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
