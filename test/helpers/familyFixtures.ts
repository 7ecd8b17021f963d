// The per-family random-weight fixtures and transformers references that
// scripts/make-family-fixtures.py writes. They are made once per version of the script and
// kept in the git-ignored .tagllm-cache/ (the script needs tens of seconds of Python).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dataDir } from './data';
import { pythonExecutable } from './python';

const SCRIPT = resolve(__dirname, '../../scripts/make-family-fixtures.py');

export interface FamilyReference {
  readonly family: string;
  readonly long_prompt: string;
  readonly long_ids: number[];
  readonly short_prompt: string;
  readonly short_ids: number[];
  readonly greedy_ids: number[];
  readonly greedy_margins: number[];
  readonly vocab_size: number;
  /** Whether the family has a GGUF form (llama.cpp writes Mistral as `llama`, without its window). */
  readonly gguf: boolean;
}

export interface FamilyFixture {
  readonly dir: string;
  readonly hfDir: string;
  readonly ggufPath: string;
  readonly reference: FamilyReference;
  /** transformers' last-position logits for `long_ids`. */
  readonly logits: Float32Array;
}

let root: string | undefined;

/** The fixtures folder, made by the script if this version of it has not made one yet. */
function fixturesRoot(): string {
  if (root) return root;
  const hash = createHash('sha256').update(readFileSync(SCRIPT)).digest('hex').slice(0, 16);
  const dir = resolve(__dirname, '../../.tagllm-cache/family-fixtures', hash);
  if (!existsSync(join(dir, 'complete'))) {
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    execFileSync(pythonExecutable(), [SCRIPT, tmp], { env: { ...process.env, TAGLLM_DATA_DIR: dataDir() }, stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync('touch', [join(tmp, 'complete')]);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  return (root = dir);
}

export function familyFixture(family: string): FamilyFixture {
  const dir = join(fixturesRoot(), family);
  const reference = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as FamilyReference;
  const bytes = readFileSync(join(dir, 'logits.f32'));
  const logits = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { dir, hfDir: join(dir, 'hf'), ggufPath: join(dir, 'model.gguf'), reference, logits };
}
