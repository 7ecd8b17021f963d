// The per-family random-weight fixtures and transformers references that
// scripts/make-family-fixtures.py writes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scriptFixtures } from './scriptFixtures';

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

export function familyFixture(family: string): FamilyFixture {
  const dir = join(scriptFixtures('make-family-fixtures.py', [], ['make-tokenizer-fixtures.py']), family);
  const reference = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as FamilyReference;
  const bytes = readFileSync(join(dir, 'logits.f32'));
  const logits = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { dir, hfDir: join(dir, 'hf'), ggufPath: join(dir, 'model.gguf'), reference, logits };
}
