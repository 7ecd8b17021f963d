// Fixtures a Python script in scripts/ writes (models, references), made once per version of
// the script and its inputs and kept in the git-ignored .tagllm-cache/, since making them takes
// tens of seconds of Python. The script gets `args` and then the folder to write; `imports`
// names the other scripts it loads, which are part of its version.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { dataDir } from './data';
import { pythonExecutable } from './python';

const made = new Map<string, string>();

export function scriptFixtures(script: string, args: readonly string[] = [], imports: readonly string[] = []): string {
  const scriptPath = resolve(__dirname, '../../scripts', script);
  const hash = createHash('sha256');
  for (const file of [scriptPath, ...imports.map((s) => resolve(__dirname, '../../scripts', s)), ...args]) hash.update(readFileSync(file));
  const dir = resolve(__dirname, '../../.tagllm-cache', basename(script, '.py'), hash.digest('hex').slice(0, 16));
  const known = made.get(dir);
  if (known) return known;
  if (!existsSync(join(dir, 'complete'))) {
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    execFileSync(pythonExecutable(), [scriptPath, ...args, tmp], { env: { ...process.env, TAGLLM_DATA_DIR: dataDir() }, stdio: ['ignore', 'ignore', 'pipe'] });
    writeFileSync(join(tmp, 'complete'), '');
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  made.set(dir, dir);
  return dir;
}
