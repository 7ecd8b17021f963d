// Mutation fuzzing of every reader, with fast-check: each reader has seed files (valid inputs,
// some written by the reference writers), a mutation arbitrary (byte flips, interesting integers
// over length and offset fields, truncation, insertion, duplication), and an oracle that checks
// what the reader accepted. Every case ends in one of: accepted (and valid), a clean error (a
// one-line TagLlmError), a crash (any other exception), a hang, out-of-memory, or
// accepted-but-invalid. A case is replayed from its reader, seed and index.
import fc from 'fast-check';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { TagLlmError } from '../../src/runtime/errors';
import { safeLine } from '../../src/runtime/safeText';
import { GgufFile } from '../../src/runtime/model/gguf/reader';
import { readSafetensors } from '../../src/runtime/model/safetensors/read';
import { parseJsonText } from '../../src/runtime/jsonText';
import { parseTagBundleMeta } from '../../src/runtime/tags/bundle';
import { isTagName } from '../../src/runtime/tags/name';
import { parseHfConfig } from '../../src/runtime/model/hf/config';
import { Tokenizer } from '../../src/runtime/tokenizer/tokenizer';
import { readRecords } from '../../src/runtime/data/records';
import { scanNotebook, loadSmilesJudge, type SmilesJudge } from '../../src/recognize/index';
import { judgeScan } from '../../src/recognize/rdkitJudge';
import { loadRDKit, moleculeInputProblem, withMol, type RDKit } from '../../src/runtime/chem/rdkit';
import { dataPath } from '../helpers/data';
import { pythonExecutable } from '../helpers/python';

export type Outcome = 'accepted' | 'clean error' | 'crash' | 'hang' | 'out-of-memory' | 'accepted-but-invalid';
export const OUTCOMES: readonly Outcome[] = ['accepted', 'clean error', 'crash', 'hang', 'out-of-memory', 'accepted-but-invalid'];

/** A case taking longer than this counts as a hang (readers run in-process, so it is measured, not interrupted). */
export const HANG_MS = 5000;

interface Context {
  readonly dir: string;
  readonly rdkit: RDKit;
  readonly judge: SmilesJudge;
}

export interface Reader {
  readonly name: string;
  /** The file extension the reader decides by. */
  readonly extension: string;
  readonly seeds: (ctx: Context) => Uint8Array[];
  /** Reads the file; returns a reason when what it accepted is not valid, undefined when it is. */
  readonly read: (path: string, bytes: Uint8Array, ctx: Context) => Promise<string | undefined> | string | undefined;
}

const INTERESTING_U32 = [0, 1, 2, 3, 4, 7, 8, 9, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256, 0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];
const INTERESTING_U64 = [...INTERESTING_U32.map(BigInt), 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'byte'; at: number; value: number }
  | { kind: 'u32'; at: number; value: number }
  | { kind: 'u64'; at: number; value: bigint }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'duplicate'; at: number; length: number; to: number }
  | { kind: 'text'; at: number; text: string };

const HOSTILE_TEXT = ['\ufeff', '\x1b[2J', '\x00', '\t', '"', '{', '}', '[', ']', ',', ';', '\n', '\r\n', '>', '$$$$', 'M  END', '__proto__', 'constructor', 'toString', '1e308', '-1e308', 'NaN', 'null', 'true', '"cells"', '99999999999999999999', '\ud800'];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.constantFrom(0, 0x20, 0x7f, 0x80, 0xff, 0x22, 0x2c, 0x0a) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.constantFrom(...INTERESTING_U32) }),
  fc.record({ kind: fc.constant('u64' as const), at: fc.nat(), value: fc.constantFrom(...INTERESTING_U64) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 256 }), to: fc.nat() }),
  fc.record({ kind: fc.constant('text' as const), at: fc.nat(), text: fc.constantFrom(...HOSTILE_TEXT) }),
);

function applyMutation(input: Uint8Array, m: Mutation): Uint8Array {
  const n = input.length;
  const at = n === 0 ? 0 : m.at % n;
  const out = Buffer.from(input);
  switch (m.kind) {
    case 'flip':
      if (n) out[at] ^= 1 << m.bit;
      return out;
    case 'byte':
      if (n) out[at] = m.value;
      return out;
    case 'u32':
      if (at + 4 <= n) out.writeUInt32LE(m.value, at);
      return out;
    case 'u64':
      if (at + 8 <= n) out.writeBigUInt64LE(m.value, at);
      return out;
    case 'truncate':
      return out.subarray(0, at);
    case 'insert':
      return Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]);
    case 'duplicate':
      return Buffer.concat([out.subarray(0, n ? m.to % n : 0), out.subarray(at, at + m.length), out.subarray(n ? m.to % n : 0)]);
    case 'text':
      return Buffer.concat([out.subarray(0, at), Buffer.from(m.text, 'utf8'), out.subarray(at)]);
  }
}

/** A seed file with up to 6 mutations applied, in order. */
export function mutated(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.tuple(fc.nat({ max: seeds.length - 1 }), fc.array(mutation, { minLength: 0, maxLength: 6 })).map(([s, ms]) => ms.reduce(applyMutation, seeds[s]));
}

/** Tests and the fuzz script run from the repository root. */
const REPO = process.cwd();

const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));

// ---- oracles: what an accepted file must satisfy, checked independently of the reader ----

function ggufOracle(path: string, size: number): string | undefined {
  const file = GgufFile.open(path);
  try {
    const { tensors, metadata, dataStart, alignment } = file.header;
    for (const key of metadata.keys()) if (key === '') return 'empty metadata key';
    let end = dataStart;
    for (const t of tensors) {
      if (Buffer.byteLength(t.name) >= 64) return `tensor name of ${Buffer.byteLength(t.name)} bytes`;
      if (t.fileOffset !== end) return `tensor ${t.name} at ${t.fileOffset}, packed end ${end}`;
      if (t.fileOffset + t.byteLength > size) return `tensor ${t.name} past the end`;
      file.tensorBytes(t);
      end += Math.ceil(t.byteLength / alignment) * alignment;
    }
    return undefined;
  } finally {
    file.close();
  }
}

async function safetensorsOracle(path: string, bytes: Uint8Array): Promise<string | undefined> {
  const { tensors } = await readSafetensors(path);
  const headerBytes = Number(Buffer.from(bytes).readBigUInt64LE(0));
  if (bytes[8] !== 0x7b) return 'header does not start with {';
  const dtypeBytes = JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerBytes)).toString('utf8')) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  const covered = Object.entries(dtypeBytes).filter(([k]) => k !== '__metadata__').reduce((n, [, e]) => n + e.data_offsets[1] - e.data_offsets[0], 0);
  if (covered !== bytes.length - 8 - headerBytes) return `tensors cover ${covered} of ${bytes.length - 8 - headerBytes} data bytes`;
  for (const [name, t] of tensors) if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) return `tensor ${name} has the wrong element count`;
  return undefined;
}

function tableOracle(path: string): string | undefined {
  const table = readRecords(path);
  const bad = table.rows.findIndex((r) => r.length !== table.columns.length);
  if (bad >= 0) return `row ${bad} has ${table.rows[bad].length} fields for ${table.columns.length} columns`;
  if (table.lines.length !== table.rows.length) return 'lines and rows differ in number';
  return undefined;
}

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

// ---- the readers ----

function pythonGgufSeeds(dir: string): Uint8Array[] {
  const script = `
import sys, numpy as np, gguf
out = sys.argv[1]
def write(name, tensors=(), align=None, strings=()):
    w = gguf.GGUFWriter(f'{out}/{name}', 'llama')
    if align: w.add_custom_alignment(align)
    w.add_uint32('llama.embedding_length', 8); w.add_array('tokenizer.ggml.tokens', ['a', 'b', '<s>'])
    w.add_array('tokenizer.ggml.scores', [0.0, -1.0, 0.5]); w.add_uint64('big', 2**40); w.add_bool('flag', True)
    for k, v in strings: w.add_string(k, v)
    for tn, arr in tensors: w.add_tensor(tn, arr)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
write('a.gguf', tensors=[('token_embd.weight', np.arange(24, dtype=np.float32).reshape(3, 8)), ('output_norm.weight', np.ones(8, dtype=np.float16))])
write('b.gguf', tensors=[('x', np.zeros(5, dtype=np.float32))], align=64, strings=[('general.name', 'seed')])
write('c.gguf')
`;
  const run = spawnSync(pythonExecutable(), ['-c', script, dir], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`the gguf Python writer failed: ${run.stderr}`);
  return ['a.gguf', 'b.gguf', 'c.gguf'].map((f) => new Uint8Array(readFileSync(join(dir, f))));
}

const CSV_SEEDS = ['smiles,y,split\nCCO,1.5,train\n"C(=O)O",2,test\nc1ccccc1,-0.5,train\n', 'smiles\ty\nCCO\t1\nCCN\t2\n', 'a,b\n"x, ""y""",1\n\n"multi\nline",2\n'];
const FASTA_SEEDS = ['>sp|P1|A desc\nMKTAYIAKQR\nQISFVKSHFS\n>P2\nMVLSPADKTN\n', '>x\n\n>y\nACDEFGHIKLMNPQRSTVWY\n'];
const SDF_SEEDS = [
  'ethanol\n  RDKit          2D\n\n  3  2  0  0  0  0  0  0  0  0999 V2000\n    0.0000    0.0000    0.0000 C   0  0\n    1.2990    0.7500    0.0000 C   0  0\n    2.5981   -0.0000    0.0000 O   0  0\n  1  2  1  0\n  2  3  1  0\nM  END\n> <y>\n1.5\n\n> <name>\nethanol\n\n$$$$\n',
];
const NOTEBOOK_SEEDS = [
  JSON.stringify({ cells: [{ cell_type: 'code', source: ['smiles = "CC(=O)Oc1ccccc1C(=O)O"\n', 'seq = "MKTAYIAKQRQISFVKSHFSRQ"'], outputs: [{ output_type: 'stream', text: ['CCO\n'] }] }, { cell_type: 'markdown', source: 'Benzene c1ccccc1' }], nbformat: 4, nbformat_minor: 5, metadata: {} }),
];
const SMILES_SEEDS = ['CC(=O)Oc1ccccc1C(=O)O', 'C1CC1', '[NH4+].[Cl-]', 'c1ccc2ccccc2c1', 'C/C=C/C', 'N[C@@H](C)C(=O)O', 'C'.repeat(60), 'C1CCCCC1C2CCCCC2'];

export const READERS: readonly Reader[] = [
  { name: 'GGUF', extension: '.gguf', seeds: (ctx) => pythonGgufSeeds(ctx.dir), read: (path, bytes) => ggufOracle(path, bytes.length) },
  {
    name: 'safetensors',
    extension: '.safetensors',
    seeds: () => [new Uint8Array(readFileSync(join(REPO, 'bundles', 'default', 'tags.safetensors')))],
    read: (path, bytes) => safetensorsOracle(path, bytes),
  },
  {
    name: 'tagbundle.json',
    extension: '.json',
    seeds: () => [new Uint8Array(readFileSync(join(REPO, 'bundles', 'default', 'tagbundle.json')))],
    read: (path, bytes) => {
      const meta = parseTagBundleMeta(parseJsonText(text(bytes), path), path);
      const bad = Object.keys(meta.tags).find((t) => !isTagName(t));
      if (bad !== undefined) return `accepted tag name ${JSON.stringify(bad)}`;
      for (const [name, t] of Object.entries(meta.tags)) for (const o of t.outputs ?? []) if (!(o.targetStd > 0 && Number.isFinite(o.targetMean))) return `tag ${name} has scale ${o.targetMean}/${o.targetStd}`;
      return undefined;
    },
  },
  {
    name: 'config.json',
    extension: '.json',
    seeds: () => [new Uint8Array(readFileSync(dataPath('models', 'tiny-bpe-llama-hf', 'config.json')))],
    read: (path, bytes) => {
      const c = parseHfConfig(parseJsonText(text(bytes), path), path);
      for (const [k, v] of Object.entries({ hiddenSize: c.hiddenSize, numHeads: c.numHeads, numKvHeads: c.numKvHeads, numLayers: c.numLayers, vocabSize: c.vocabSize, intermediateSize: c.intermediateSize, headDim: c.headDim })) {
        if (!Number.isSafeInteger(v) || v <= 0) return `${k} = ${v}`;
      }
      if (!['llama', 'mistral', 'qwen2', 'smollm'].includes(c.architecture)) return `architecture ${String(c.architecture)}`;
      if (c.numHeads % c.numKvHeads !== 0) return `${c.numHeads} heads over ${c.numKvHeads} KV heads`;
      return undefined;
    },
  },
  {
    name: 'tokenizer.json',
    extension: '.json',
    seeds: () => [new Uint8Array(readFileSync(dataPath('models', 'tiny-bpe-llama-hf', 'tokenizer.json')))],
    read: (path, bytes) => {
      const json = parseJsonText(text(bytes), path);
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new TagLlmError('not a JSON object', path);
      const tokenizer = new Tokenizer(json as Record<string, unknown>, { addBos: false });
      const ids = tokenizer.encode('Once upon a time CCO');
      if (ids.some((id) => !Number.isInteger(id) || id < 0 || id >= tokenizer.vocabSize)) return 'encode gave an id outside the vocabulary';
      tokenizer.decode(ids);
      return undefined;
    },
  },
  { name: 'CSV/TSV', extension: '.csv', seeds: () => CSV_SEEDS.map(utf8), read: (path) => tableOracle(path) },
  { name: 'FASTA', extension: '.fasta', seeds: () => FASTA_SEEDS.map(utf8), read: (path) => tableOracle(path) },
  { name: 'SDF', extension: '.sdf', seeds: () => SDF_SEEDS.map(utf8), read: (path) => tableOracle(path) },
  {
    name: 'notebook',
    extension: '.ipynb',
    seeds: () => NOTEBOOK_SEEDS.map(utf8),
    read: async (_path, bytes, ctx) => {
      const scan = await judgeScan(ctx.judge, () => scanNotebook(text(bytes), ctx.judge));
      for (const e of scan.entities) if (e.kind === 'smiles' && !ctx.judge.parses(e.text)) return `entity ${JSON.stringify(e.text)} is not a molecule`;
      return undefined;
    },
  },
  {
    name: 'SMILES',
    extension: '.smi',
    seeds: () => SMILES_SEEDS.map(utf8),
    read: (_path, bytes, ctx) => {
      const smiles = text(bytes);
      const rdkit = ctx.rdkit;
      const canonical = withMol(rdkit, smiles, (mol) => mol.get_smiles());
      if (canonical !== undefined && moleculeInputProblem(smiles.trim()) !== undefined) return `RDKit was given ${JSON.stringify(smiles.slice(0, 40))}`;
      return undefined;
    },
  },
];

export interface Tally {
  readonly reader: string;
  readonly seed: number;
  readonly cases: number;
  readonly counts: Record<Outcome, number>;
  /** The first few cases that were not accepted or clean errors, with their index for replay. */
  readonly failures: { index: number; outcome: Outcome; detail: string }[];
}

export async function fuzzContext(dir: string): Promise<Context> {
  mkdirSync(dir, { recursive: true });
  return { dir, rdkit: await loadRDKit(), judge: await loadSmilesJudge() };
}

/** One case: write the bytes where the reader expects its file, read, classify. */
export async function runCase(reader: Reader, bytes: Uint8Array, ctx: Context): Promise<{ outcome: Outcome; detail: string }> {
  const path = join(ctx.dir, `case${reader.extension}`);
  writeFileSync(path, bytes);
  const started = performance.now();
  let outcome: Outcome;
  let detail = '';
  try {
    const invalid = await reader.read(path, bytes, { ...ctx, rdkit: await loadRDKit() });
    outcome = invalid === undefined ? 'accepted' : 'accepted-but-invalid';
    detail = invalid ?? '';
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // the CLI, the log and the editor print it through safeLine, so it reaches the user as one line
    if (error instanceof TagLlmError && !safeLine(message).includes('\n')) outcome = 'clean error';
    else if (error instanceof RangeError && /allocation|memory|Invalid array length|Invalid typed array length/i.test(message)) outcome = 'out-of-memory';
    else outcome = 'crash';
    detail = `${(error as Error)?.name ?? 'thrown'}: ${message.slice(0, 200)}`;
  }
  if (performance.now() - started > HANG_MS) return { outcome: 'hang', detail: `${(performance.now() - started).toFixed(0)} ms` };
  return { outcome, detail };
}

/** `cases` mutated inputs for one reader, from `seed`; the same seed gives the same inputs. */
export async function fuzzReader(reader: Reader, ctx: Context, cases: number, seed: number, onCase?: (i: number) => void): Promise<Tally> {
  const seeds = reader.seeds(ctx);
  const inputs = fc.sample(mutated(seeds), { seed, numRuns: cases });
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  const failures: Tally['failures'] = [];
  for (let i = 0; i < inputs.length; i++) {
    const { outcome, detail } = await runCase(reader, inputs[i], ctx);
    counts[outcome]++;
    if (outcome !== 'accepted' && outcome !== 'clean error' && failures.length < 10) failures.push({ index: i, outcome, detail });
    onCase?.(i);
  }
  return { reader: reader.name, seed, cases: inputs.length, counts, failures };
}
