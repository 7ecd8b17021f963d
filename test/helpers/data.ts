// Where tests find the shared offline data (models, datasets). CI and `npm test` set
// TAGLLM_DATA_DIR; a missing folder is a test failure, never a silent skip.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export function dataDir(): string {
  const dir = process.env.TAGLLM_DATA_DIR ?? resolve(__dirname, '../../../shared/data');
  if (!existsSync(dir)) throw new Error(`shared data folder not found at ${dir}; set TAGLLM_DATA_DIR`);
  return dir;
}

export function dataPath(...parts: string[]): string {
  const p = join(dataDir(), ...parts);
  if (!existsSync(p)) throw new Error(`shared data file not found: ${p}`);
  return p;
}
